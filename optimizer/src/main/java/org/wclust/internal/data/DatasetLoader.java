package org.wclust.internal.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.wclust.internal.load.ReadErrors;

/**
 * Loads a data file into a {@link Dataset}, choosing the format by the file name:
 *
 * <ul>
 *   <li>{@code .npz}: the input and (optional) label arrays named by the {@link DataSpec}; inputs stored
 *       uncompressed ({@code np.savez}) whose float32 copy would exceed 256 MiB are read batch by batch
 *       from a memory map instead of being loaded;
 *   <li>{@code .npy}: one array, the inputs (no labels);
 *   <li>{@code .tfrecord}, {@code .tfrecords}, {@code .record}, also as shards
 *       ({@code name.tfrecord-00000-of-00004}) and GZIP-compressed ({@code .gz}): {@code tf.train.Example}
 *       records read as described in {@link #loadTfRecord}, or, when they hold encoded images, streamed
 *       as {@link ImageData} describes;
 *   <li>a folder: class sub-folders of images, or TFRecord shards of encoded images ({@link ImageData}).
 * </ul>
 *
 * <p>Inputs of the first dimension N become N examples; integer and bool inputs are converted to
 * float32; then every value is multiplied by the spec's scale. Labels must be class indices of shape
 * {@code [N]} or {@code [N, 1]}, of an integer dtype or of a float dtype holding integers only. The
 * per-example shape is then checked against the spec's expected shape (see {@link DataSpec}).
 *
 * <p>Bad input fails with an {@link IllegalArgumentException} whose message is one line naming the file
 * (and array, feature or record) and the reason.
 */
public final class DatasetLoader {
  private static final Pattern TFRECORD =
      Pattern.compile(".*\\.(tfrecords?|record)(-\\d+-of-\\d+)?(\\.gz)?");

  /** Inputs whose float32 copy would exceed this are read from a memory map when stored uncompressed. */
  private static final long MAP_ABOVE_BYTES = 256L << 20;

  private DatasetLoader() {}

  public static Dataset load(Path file, DataSpec spec) throws IOException {
    return load(file, spec, warning -> {});
  }

  /**
   * As {@link #load(Path, DataSpec)}; also reads a folder (of class folders of images, or of TFRecord
   * shards) and TFRecords of encoded images as {@link ImageData} does, giving {@code warnings} a line
   * for what was skipped.
   */
  public static Dataset load(Path file, DataSpec spec, Consumer<String> warnings) throws IOException {
    Dataset data = read(file, spec, warnings);
    return spec.shuffleBuffer() == 0 ? data : data.withShuffleBuffer(spec.shuffleBuffer());
  }

  private static Dataset read(Path file, DataSpec spec, Consumer<String> warnings) throws IOException {
    if (!Files.exists(file)) {
      throw new IllegalArgumentException("no such file: " + file);
    }
    if (Files.isDirectory(file)) {
      if (NamedInputReading.appliesTo(spec)) {
        throw new IllegalArgumentException(file + " is a folder; one feature per model input (--features "
            + spec.features().orElseThrow() + ") is read from .npz or TFRecord files");
      }
      return ImageData.loadFolder(file, spec, warnings);
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("not a file: " + file);
    }
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (isTfRecord(file) && !NamedInputReading.appliesTo(spec) && ImageRecords.holdsImages(file, spec.effectiveFeatures().inputKey(), rawSize(spec))) {
      return ImageData.loadRecords(List.of(file), spec);
    }
    try {
      if (name.endsWith(".npz")) {
        return loadNpz(file, spec);
      }
      if (name.endsWith(".npy")) {
        return loadNpy(file, spec);
      }
      if (TFRECORD.matcher(name).matches()) {
        return NamedInputReading.appliesTo(spec) ? NamedInputReading.loadTfRecord(file, spec) : loadTfRecord(file, spec);
      }
    } catch (IOException e) {
      // NIO's messages often name no file (EOFException, "Is a directory"): the user needs to know which
      throw new IllegalArgumentException("cannot read " + file + ": " + describe(e), e);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("truncated or corrupt data file " + file + " (" + describe(e) + ")", e);
    }
    throw new IllegalArgumentException("unknown data file type: " + file
        + " (expected .npz, .npy, .tfrecord, .tfrecords or .record)");
  }

  /** The values of one example by the expected shape, or -1 when unknown. */
  private static long rawSize(DataSpec spec) {
    return spec.exampleShape().filter(s -> Arrays.stream(s).allMatch(v -> v >= 0))
        .map(NpyArray::elementCount).orElse(-1L);
  }

  static boolean isTfRecord(Path file) {
    return TFRECORD.matcher(file.getFileName().toString().toLowerCase(Locale.ROOT)).matches();
  }

  private static String describe(Exception e) {
    if (e instanceof IOException io) {
      return ReadErrors.describe(io);
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** The inputs and optional labels of a {@code .npz} archive. */
  public static Dataset loadNpz(Path file, DataSpec spec) throws IOException {
    try (NpzReader npz = NpzReader.open(file)) {
      if (NamedInputReading.appliesTo(npz, spec)) {
        return NamedInputReading.loadNpz(npz, file, spec);
      }
    }
    if (spec.regression()) {
      return loadNpzTargets(file, spec);
    }
    try (NpzReader npz = NpzReader.open(file)) {
      if (!npz.contains(spec.inputName())) {
        throw new IllegalArgumentException(file + " has no input array '" + spec.inputName()
            + "'; arrays present: " + (npz.names().isEmpty() ? "none" : String.join(", ", npz.names())));
      }
      int[] labels = null;
      String labelName = spec.labelName().orElse(null);
      if (labelName != null && npz.contains(labelName)) {
        labels = labels(npz.read(labelName));
      } else if (labelName != null && spec.labelsRequired()) {
        throw new IllegalArgumentException(file + " has no label array '" + labelName
            + "'; arrays present: " + String.join(", ", npz.names()));
      }
      // Labels first: they are small, and a bad label array then fails before the inputs are converted.
      Optional<NpzReader.MappedArray> mapped = npz.map(spec.inputName())
          .filter(m -> m.shape().length > 1 && m.shape()[0] > 0
              && NpyArray.elementCount(m.shape()) * 4 > MAP_ABOVE_BYTES);
      if (mapped.isPresent()) {
        NpzReader.MappedArray m = mapped.get();
        if (labels != null && m.shape()[0] != labels.length) {
          throw new IllegalArgumentException(file + ": the inputs '" + spec.inputName() + "' have "
              + m.shape()[0] + " examples but the labels '" + labelName + "' have " + labels.length);
        }
        long[] exampleShape = Arrays.copyOfRange(m.shape(), 1, m.shape().length);
        MappedArrayStore store = new MappedArrayStore(m, spec.scale(), npz.rows(spec.inputName(), spec.scale())
            .orElse(null));
        return conform(Dataset.streamed((int) m.shape()[0], exampleShape, store, labels), spec, m.source());
      }
      NpyArray x = npz.read(spec.inputName());
      if (labels != null && x.ndim() > 0 && x.shape()[0] != labels.length) {
        throw new IllegalArgumentException(file + ": the inputs '" + spec.inputName() + "' have "
            + x.shape()[0] + " examples but the labels '" + labelName + "' have " + labels.length);
      }
      return fromArray(x, labels, spec, npz.rows(spec.inputName(), spec.scale()).orElse(null));
    }
  }

  /** Inputs and float regression targets ({@code y} of shape [N, ...]) of a {@code .npz} archive. */
  private static Dataset loadNpzTargets(Path file, DataSpec spec) throws IOException {
    String targetName = spec.labelName().orElseThrow();
    try (NpzReader npz = NpzReader.open(file)) {
      for (String name : new String[] {spec.inputName(), targetName}) {
        if (!npz.contains(name)) {
          throw new IllegalArgumentException(file + " has no array '" + name + "'; arrays present: "
              + (npz.names().isEmpty() ? "none" : String.join(", ", npz.names())));
        }
      }
      NpyArray y = npz.read(targetName);
      NpyArray x = npz.read(spec.inputName());
      Dataset inputs = fromArray(x, null, spec);
      long[] shape = y.shape();
      if (shape.length == 0 || shape[0] != inputs.size()) {
        throw new IllegalArgumentException(file + ": the inputs '" + spec.inputName() + "' have " + inputs.size()
            + " examples but the targets '" + targetName + "' have shape " + Arrays.toString(shape));
      }
      long[] targetShape = Arrays.copyOfRange(shape, 1, shape.length);
      return Dataset.wrapWithTargets(inputs.size(), inputs.exampleShape(), inputs.rawInputs(), targetShape,
          y.toFloats());
    }
  }

  /** A {@code .npy} file as unlabelled inputs. */
  public static Dataset loadNpy(Path file, DataSpec spec) throws IOException {
    if (spec.labelsRequired()) {
      throw new IllegalArgumentException(file + ": a .npy file holds one array, the inputs; labels '"
          + spec.labelName().orElseThrow() + "' need a .npz file (np.savez(f, x=..., y=...))");
    }
    return fromArray(NpyReader.read(file), null, spec, NpyReader.rows(file, spec.scale()).orElse(null));
  }

  /**
   * TFRecord files of {@code tf.train.Example}: the input feature (a float_list, an int64_list, or a
   * bytes_list holding one value of raw uint8 bytes) of every record must have the same number of
   * values, which become a flat example of that length (then reshaped to the spec's example shape if
   * that has as many values). The label feature is an int64_list of one value. Encoded images
   * (PNG/JPEG bytes) are not decoded.
   */
  public static Dataset loadTfRecord(Path file, DataSpec spec) throws IOException {
    long rawSize = rawSize(spec);
    TfExampleDecoder.Decoded d = TfExampleDecoder.decode(file, spec.effectiveFeatures(),
        spec.featureLabelsRequired(), rawSize);
    scale(d.inputs(), spec.scale());
    String key = spec.effectiveFeatures().inputKey();
    OnDisk onDisk = TfRecordReader.isGzip(file) || d.kind() == null ? null
        : new OnDisk.FeatureRecords(file, d.offset(), d.length(), key, d.kind(), d.exampleSize(), spec.scale());
    Dataset flat = Dataset.wrap(d.size(), new long[] {d.exampleSize()}, d.inputs(), d.labels(), onDisk);
    return conform(flat, spec, file + " (feature '" + key + "')");
  }

  static Dataset fromArray(NpyArray x, int[] labels, DataSpec spec) {
    return fromArray(x, labels, spec, null);
  }

  /** As above, with where the rows lie in their file (null: unknown). */
  static Dataset fromArray(NpyArray x, int[] labels, DataSpec spec, OnDisk rows) {
    long[] shape = x.shape();
    if (shape.length == 0) {
      throw new IllegalArgumentException(x.source() + " is a 0-d array; inputs need a leading example "
          + "dimension, shape [N, ...]");
    }
    if (shape[0] == 0) {
      throw new IllegalArgumentException(x.source() + " holds no examples (shape " + Arrays.toString(shape) + ")");
    }
    long[] exampleShape = Arrays.copyOfRange(shape, 1, shape.length);
    if (NpyArray.elementCount(exampleShape) == 0) {
      throw new IllegalArgumentException(x.source() + ": examples of shape " + Arrays.toString(exampleShape)
          + " hold no values");
    }
    float[] inputs = x.toFloats();
    scale(inputs, spec.scale());
    return conform(Dataset.wrap((int) shape[0], exampleShape, inputs, labels, rows), spec, x.source());
  }

  static int[] labels(NpyArray y) {
    long[] shape = y.shape();
    if (!(shape.length == 1 || (shape.length == 2 && shape[1] == 1))) {
      throw new IllegalArgumentException(y.source() + " has shape " + Arrays.toString(shape)
          + "; labels must be class indices of shape [N] or [N, 1]"
          + (shape.length == 2 ? " (one-hot labels are not supported: save y.argmax(axis=1))" : ""));
    }
    return y.toInts();
  }

  static void scale(float[] values, double scale) {
    if (scale != 1.0) {
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (values[i] * scale);
      }
    }
  }

  /** Applies the expected-shape rule of {@link DataSpec}. */
  private static Dataset conform(Dataset d, DataSpec spec, String source) {
    if (spec.exampleShape().isEmpty()) {
      return d;
    }
    long[] expected = spec.exampleShape().get();
    long[] actual = d.exampleShape();
    if (Arrays.equals(expected, actual)) {
      return d;
    }
    boolean unknownDims = Arrays.stream(expected).anyMatch(v -> v < 0);
    if (unknownDims) {
      boolean agrees = expected.length == actual.length;
      for (int i = 0; agrees && i < expected.length; i++) {
        agrees = expected[i] < 0 || expected[i] == actual[i];
      }
      if (agrees) {
        return d;
      }
    } else if (NpyArray.elementCount(expected) == d.exampleSize()) {
      return d.withExampleShape(expected);
    }
    throw new IllegalArgumentException(source + ": examples have shape " + Arrays.toString(actual)
        + " (" + d.exampleSize() + " values) but the model expects " + Arrays.toString(expected)
        + (unknownDims ? "" : " (" + NpyArray.elementCount(expected) + " values)"));
  }
}

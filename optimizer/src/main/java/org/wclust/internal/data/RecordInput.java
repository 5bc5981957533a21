package org.wclust.internal.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.AssignVariableOp;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.op.data.DatasetToSingleElement;
import org.tensorflow.op.data.FixedLengthRecordDataset;
import org.tensorflow.op.io.DecodeRaw;
import org.tensorflow.op.io.ParseSingleExample;
import org.tensorflow.proto.Feature;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TNumber;
import org.tensorflow.types.family.TType;

/**
 * Examples stored as byte ranges of files (the data of TFRecord records, found by the index this
 * process built; the rows of an uncompressed .npy array) read inside a training graph ({@link
 * GraphInput}). For each example this process feeds its file's absolute path, the range's offset and
 * length, and the number of bytes after it; ops on the graph's device get the range's bytes and
 * {@link Decode} turns them into the example's values, as this process's reading does: for TFRecords
 * of encoded images {@code ParseSingleExample} of the image feature, then {@link ImageDecoder}'s
 * decode, resize and normalization; for TFRecords of raw features {@code ParseSingleExample} of the
 * feature as float, int64 or raw bytes; for array rows {@code DecodeRaw}; raw values are then
 * converted to float32 and scaled. No checksum is verified there (this process checked the file).
 *
 * <p>The bytes: a {@code FixedLengthRecordDataset} with the offset, length and bytes after as header,
 * record and footer bytes has exactly one element, the range ({@code DatasetToSingleElement}). But
 * TensorFlow skips the header by reading it ({@code InputBuffer::SkipNBytes}), so that costs a read of
 * the file up to the range. Hence one file of at most {@value #CACHED_BYTES} bytes (an .npz, a single
 * TFRecord file) is read once per worker, before the first step, into a string variable on that worker,
 * and each example is cut out of it ({@code Substr}); shards, and larger files, are read range by range
 * (cheap for shards of a few hundred MB in the page cache).
 */
public final class RecordInput implements GraphInput {
  /** The largest single file kept in a worker's memory (the chief loads an .npz of up to 256 MiB of floats). */
  static final long CACHED_BYTES = 256L << 20;

  /** Turns the bytes of examples (scalar strings) into their values, float32 {@code [n, ...exampleShape]}. */
  interface Decode {
    Operand<TFloat32> values(Ops tf, List<Operand<TString>> records);
  }

  /** Where each example lies: its file (an index into the files), first byte and length. */
  interface Ranges {
    int file(int example);

    long offset(int example);

    long length(int example);

    /** Ranges from an index: per example its file, offset and length. */
    static Ranges indexed(int[] file, long[] offset, int[] length) {
      return new Ranges() {
        public int file(int e) {
          return file[e];
        }

        public long offset(int e) {
          return offset[e];
        }

        public long length(int e) {
          return length[e];
        }
      };
    }

    /** Equal rows one after another in one file from {@code start}. */
    static Ranges rows(long start, long rowBytes) {
      return new Ranges() {
        public int file(int e) {
          return 0;
        }

        public long offset(int e) {
          return start + e * rowBytes;
        }

        public long length(int e) {
          return rowBytes;
        }
      };
    }
  }

  private final String[] paths;
  private final long[] sizes;
  private final Ranges ranges;
  private final Decode decode;

  /** {@code files} have here the size the workers' copies must have. */
  RecordInput(Path[] files, Ranges ranges, Decode decode) {
    this.paths = new String[files.length];
    this.sizes = new long[files.length];
    for (int f = 0; f < files.length; f++) {
      paths[f] = files[f].toAbsolutePath().toString();
      try {
        sizes[f] = Files.size(files[f]);
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + files[f] + ": " + e.getMessage(), e);
      }
    }
    this.ranges = ranges;
    this.decode = decode;
  }

  /** Decodes TFRecord {@code tf.train.Example}s holding an encoded image under {@code key}. */
  static Decode images(String key, ImageOptions options, long[] shape) {
    int h = Math.toIntExact(shape[0]);
    int w = Math.toIntExact(shape[1]);
    int c = Math.toIntExact(shape[2]);
    return (tf, records) -> {
      List<Operand<TString>> images = new ArrayList<>();
      for (Operand<TString> record : records) {
        images.add(strings(parse(tf, record, key, noStrings(tf), Shape.scalar())));
      }
      return ImageDecoder.pixels(tf, options, images, h, w, c);
    };
  }

  /**
   * Decodes rows of a little-endian .npy array of {@code dtype} ({@code DecodeRaw}), or empty for a type
   * {@code DecodeRaw} lacks (int8, int16, uint32, bool).
   */
  static Optional<Decode> rawRows(NpyDtype dtype, double scale, long[] shape) {
    Class<? extends TNumber> type = switch (dtype) {
      case UINT8 -> TUint8.class;
      case UINT16 -> TUint16.class;
      case INT32 -> TInt32.class;
      case INT64 -> TInt64.class;
      case FLOAT16 -> TFloat16.class;
      case FLOAT32 -> TFloat32.class;
      case FLOAT64 -> TFloat64.class;
      default -> null;
    };
    if (type == null) {
      return Optional.empty();
    }
    return Optional.of((tf, records) -> concat(tf, records.stream()
        .map(r -> values(tf, tf.io.decodeRaw(r, type, DecodeRaw.littleEndian(true)), scale, shape)).toList()));
  }

  /**
   * Decodes TFRecord {@code tf.train.Example}s whose feature {@code key} is of {@code kind}: a float_list
   * or int64_list of as many values as {@code shape} holds, or a bytes_list of one value of raw uint8
   * bytes.
   */
  static Decode features(String key, Feature.KindCase kind, double scale, long[] shape) {
    long n = NpyArray.elementCount(shape);
    return (tf, records) -> {
      List<Operand<TFloat32>> values = new ArrayList<>();
      for (Operand<TString> record : records) {
        Operand<?> feature = switch (kind) {
          case FLOAT_LIST -> parse(tf, record, key, tf.zeros(tf.constant(new long[] {0}), TFloat32.class),
              Shape.of(n));
          case INT64_LIST -> parse(tf, record, key, tf.zeros(tf.constant(new long[] {0}), TInt64.class),
              Shape.of(n));
          case BYTES_LIST -> tf.io.decodeRaw(strings(parse(tf, record, key, noStrings(tf), Shape.scalar())),
              TUint8.class);
          default -> throw new IllegalArgumentException("feature '" + key + "' holds no values");
        };
        values.add(values(tf, feature, scale, shape));
      }
      return concat(tf, values);
    };
  }

  /** The dense feature {@code key} of a serialized Example; {@code empty} (no values) makes it required. */
  private static Output<?> parse(Ops tf, Operand<TString> record, String key, Operand<?> empty, Shape shape) {
    ParseSingleExample parsed = tf.io.parseSingleExample(record, List.of(empty), 0L, List.of(), List.of(key),
        List.of(), List.of(shape));
    return parsed.denseValues().get(0);
  }

  private static Operand<TString> noStrings(Ops tf) {
    return tf.constant(NdArrays.ofObjects(String.class, Shape.of(0)));
  }

  /**
   * One example's values as this process reads them: converted to float32, then multiplied by the
   * scale in double precision and rounded ({@link DatasetLoader#scale}), shaped {@code [1, ...shape]}.
   */
  private static Operand<TFloat32> values(Ops tf, Operand<?> raw, double scale, long[] shape) {
    @SuppressWarnings("unchecked")
    Operand<? extends TType> typed = (Operand<? extends TType>) raw;
    Operand<TFloat32> x = tf.dtypes.cast(typed, TFloat32.class);
    if (scale != 1.0) {
      x = tf.dtypes.cast(tf.math.mul(tf.dtypes.cast(x, TFloat64.class), tf.constant(scale)), TFloat32.class);
    }
    long[] batched = new long[shape.length + 1];
    batched[0] = 1;
    System.arraycopy(shape, 0, batched, 1, shape.length);
    return tf.reshape(x, tf.constant(batched));
  }

  private static Operand<TFloat32> concat(Ops tf, List<Operand<TFloat32>> examples) {
    return examples.size() == 1 ? examples.get(0) : tf.concat(examples, tf.constant(0));
  }

  @Override
  public Reading add(Ops tf, int capacity) {
    Placeholder<TString> files = tf.withName("paths").placeholder(TString.class, Placeholder.shape(Shape.of(capacity)));
    Placeholder<TInt64> offsets = tf.withName("offsets").placeholder(TInt64.class,
        Placeholder.shape(Shape.of(capacity)));
    Placeholder<TInt64> lengths = tf.withName("lengths").placeholder(TInt64.class,
        Placeholder.shape(Shape.of(capacity)));
    Placeholder<TInt64> footers = tf.withName("footers").placeholder(TInt64.class,
        Placeholder.shape(Shape.of(capacity)));
    List<Output<TString>> p = tf.unstack(files, (long) capacity).output();
    List<Output<TInt64>> o = tf.unstack(offsets, (long) capacity).output();
    List<Output<TInt64>> l = tf.unstack(lengths, (long) capacity).output();
    List<Output<TInt64>> f = tf.unstack(footers, (long) capacity).output();
    List<Operand<TString>> records = new ArrayList<>();
    if (paths.length == 1 && sizes[0] <= CACHED_BYTES) {
      // (a worker runs its own server, hence its own resources: one shared name serves all replicas)
      VarHandleOp cache = tf.withName("file").varHandleOp(TString.class, Shape.scalar(),
          VarHandleOp.sharedName("wclust_input_file"));
      AssignVariableOp load = tf.withName("load_file").assignVariableOp(cache, tf.io.readFile(tf.constant(paths[0])));
      Operand<TString> whole = tf.readVariableOp(cache, TString.class);
      for (int i = 0; i < capacity; i++) {
        records.add(tf.strings.substr(whole, o.get(i), l.get(i)));
      }
      return new Reading(List.of(files, offsets, lengths, footers), decode.values(tf, records), List.of(load));
    }
    Operand<TInt64> defaultBuffer = tf.constant(0L); // TensorFlow's default, 256 KiB
    Operand<TString> uncompressed = tf.constant("");
    for (int i = 0; i < capacity; i++) {
      FixedLengthRecordDataset range = tf.data.fixedLengthRecordDataset(p.get(i), o.get(i), l.get(i), f.get(i),
          defaultBuffer, uncompressed);
      DatasetToSingleElement one = tf.data.datasetToSingleElement(range, List.of(TString.class),
          List.of(Shape.scalar()));
      records.add(strings(one.components().get(0)));
    }
    return new Reading(List.of(files, offsets, lengths, footers), decode.values(tf, records));
  }

  @SuppressWarnings("unchecked")
  private static Operand<TString> strings(Operand<?> output) {
    return (Operand<TString>) output;
  }

  @Override
  public List<Tensor> feeds(int[] examples) {
    String[] p = new String[examples.length];
    long[] o = new long[examples.length];
    long[] l = new long[examples.length];
    long[] f = new long[examples.length];
    for (int i = 0; i < examples.length; i++) {
      int e = examples[i];
      p[i] = paths[ranges.file(e)];
      o[i] = ranges.offset(e);
      l[i] = ranges.length(e);
      f[i] = sizes[ranges.file(e)] - o[i] - l[i];
    }
    return List.of(TString.tensorOf(NdArrays.vectorOfObjects(p)), TInt64.vectorOf(o), TInt64.vectorOf(l),
        TInt64.vectorOf(f));
  }
}

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
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.data.DatasetToSingleElement;
import org.tensorflow.op.data.FixedLengthRecordDataset;
import org.tensorflow.op.io.ParseSingleExample;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/**
 * Examples stored as byte ranges of files (the data of TFRecord records, found by the index this
 * process built) read inside a training graph ({@link GraphInput}). For each example this process
 * feeds its file's absolute path, the range's offset and length, and the number of bytes after it; a
 * {@code FixedLengthRecordDataset} with those as header, record and footer bytes has exactly one
 * element, that range ({@code DatasetToSingleElement}), which {@link Decode} turns into the example's
 * values: for TFRecords of encoded images, {@code ParseSingleExample} of the image feature, then
 * {@link ImageDecoder}'s decode, resize and normalization, as this process's reading does.
 *
 * <p>The record's CRC is not checked there (the index checked it when it read the file). TensorFlow
 * skips the header bytes by reading them ({@code InputBuffer::SkipNBytes}), so a record costs a read
 * of its file up to it: cheap for shards of a few hundred MB in the page cache, slow for one file of
 * many GB (write shards).
 */
public final class RecordInput implements GraphInput {
  /** Turns the bytes of examples (scalar strings) into their values, float32 {@code [n, ...exampleShape]}. */
  interface Decode {
    Operand<TFloat32> values(Ops tf, List<Operand<TString>> records);
  }

  private final String[] paths;
  private final long[] sizes;
  private final int[] file;
  private final long[] offset;
  private final int[] length;
  private final Decode decode;

  /**
   * @param files the files, each with the size it has here (the workers must see the same files)
   * @param file, offset, length per example: its file (index into {@code files}) and byte range
   */
  RecordInput(Path[] files, int[] file, long[] offset, int[] length, Decode decode) {
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
    this.file = file;
    this.offset = offset;
    this.length = length;
    this.decode = decode;
  }

  /** The records of {@code data}, when its only input is uncompressed TFRecords of encoded images; else empty. */
  public static Optional<GraphInput> of(Dataset data) {
    if (data.namedInputs().isPresent() || data.exampleShape().length != 3
        || !(data.store() instanceof EncodedImageStore store)) {
      return Optional.empty();
    }
    return ImageRecords.graphInput(store.source(), store.options(), data.exampleShape());
  }

  /** Decodes TFRecord {@code tf.train.Example}s holding an encoded image under {@code key}. */
  static Decode images(String key, ImageOptions options, long[] shape) {
    int h = Math.toIntExact(shape[0]);
    int w = Math.toIntExact(shape[1]);
    int c = Math.toIntExact(shape[2]);
    return (tf, records) -> {
      List<Operand<TString>> images = new ArrayList<>();
      for (Operand<TString> record : records) {
        // an empty default: the feature is required
        ParseSingleExample parsed = tf.io.parseSingleExample(record, List.of(tf.constant(NdArrays.ofObjects(String.class, Shape.of(0)))), 0L,
            List.of(), List.of(key), List.of(), List.of(Shape.scalar()));
        images.add(strings(parsed.denseValues().get(0)));
      }
      return ImageDecoder.pixels(tf, options, images, h, w, c);
    };
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
    Operand<TInt64> defaultBuffer = tf.constant(0L); // TensorFlow's default, 256 KiB
    Operand<TString> uncompressed = tf.constant("");
    List<Operand<TString>> records = new ArrayList<>();
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
  private static Operand<TString> strings(Output<?> output) {
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
      p[i] = paths[file[e]];
      o[i] = offset[e];
      l[i] = length[e];
      f[i] = sizes[file[e]] - offset[e] - length[e];
    }
    return List.of(TString.tensorOf(NdArrays.vectorOfObjects(p)), TInt64.vectorOf(o), TInt64.vectorOf(l),
        TInt64.vectorOf(f));
  }
}

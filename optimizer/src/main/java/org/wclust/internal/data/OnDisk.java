package org.wclust.internal.data;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.tensorflow.proto.Feature;

/**
 * Where the examples of an in-memory (or memory-mapped) store also lie in a file, so that a training
 * graph can read them there itself ({@link GraphInput}, {@link RecordInput}): the rows of an
 * uncompressed .npy array (alone or in an {@code np.savez} archive), or the records of an uncompressed
 * TFRecord file of raw features.
 */
interface OnDisk {
  /** The examples read by graph ops at {@code exampleShape}, or empty when the ops cannot read them. */
  Optional<GraphInput> graphInput(long[] exampleShape);

  /** Examples {@code [from, to)}. */
  OnDisk slice(int from, int to);

  /**
   * Rows of {@code rowBytes} each from byte {@code start} of {@code file}, of {@code dtype}, whose float32
   * values this process multiplies by {@code scale}. Types without a TensorFlow {@code DecodeRaw} type
   * (int8, int16, uint32, bool) stay read by this process.
   */
  record ArrayRows(Path file, long start, NpyDtype dtype, long rowBytes, double scale) implements OnDisk {
    @Override
    public Optional<GraphInput> graphInput(long[] exampleShape) {
      if (NpyArray.elementCount(exampleShape) * dtype.itemSize() != rowBytes) {
        return Optional.empty();
      }
      return RecordInput.rawRows(dtype, scale, exampleShape)
          .map(decode -> new RecordInput(new Path[] {file}, RecordInput.Ranges.rows(start, rowBytes), decode));
    }

    @Override
    public OnDisk slice(int from, int to) {
      return new ArrayRows(file, start + from * rowBytes, dtype, rowBytes, scale);
    }
  }

  /**
   * The records of an uncompressed TFRecord {@code file} (data offset and length of each), whose
   * feature {@code key} holds {@code values} values of the one {@code kind} (float_list, int64_list, or
   * a bytes_list of raw uint8 bytes), scaled by {@code scale}.
   */
  record FeatureRecords(Path file, long[] offset, int[] length, String key, Feature.KindCase kind, int values,
      double scale) implements OnDisk {
    @Override
    public Optional<GraphInput> graphInput(long[] exampleShape) {
      if (NpyArray.elementCount(exampleShape) != values) {
        return Optional.empty();
      }
      return Optional.of(new RecordInput(new Path[] {file}, RecordInput.Ranges.indexed(new int[offset.length],
          offset, length), RecordInput.features(key, kind, scale, exampleShape)));
    }

    @Override
    public OnDisk slice(int from, int to) {
      return new FeatureRecords(file, Arrays.copyOfRange(offset, from, to), Arrays.copyOfRange(length, from, to),
          key, kind, values, scale);
    }
  }
}

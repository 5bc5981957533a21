package org.wclust.internal.data;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * Inputs read from a memory-mapped {@code .npy} array (an uncompressed {@code .npz} entry): each batch
 * copies its rows out of the map and converts them to float32 as {@link NpyArray#toFloats()} does, then
 * scales them. The operating system pages the file in and out, so the JVM heap holds one batch.
 */
final class MappedArrayStore implements ExampleStore {
  private final NpzReader.MappedArray array;
  private final int from;
  private final int count;
  private final int rowBytes;
  private final double scale;
  private final OnDisk onDisk; // the same rows in their file; null when not located

  MappedArrayStore(NpzReader.MappedArray array, double scale, OnDisk onDisk) {
    this(array, 0, (int) array.shape()[0], scale, onDisk);
  }

  private MappedArrayStore(NpzReader.MappedArray array, int from, int count, double scale, OnDisk onDisk) {
    this.array = array;
    this.from = from;
    this.count = count;
    long[] shape = array.shape();
    long rowValues = NpyArray.elementCount(Arrays.copyOfRange(shape, 1, shape.length));
    this.rowBytes = (int) (rowValues * array.dtype().itemSize());
    this.scale = scale;
    this.onDisk = onDisk;
  }

  @Override
  public float[] read(int[] indices, long[] exampleShape) {
    byte[] rows = new byte[indices.length * rowBytes];
    ByteBuffer data = array.data().duplicate();
    for (int b = 0; b < indices.length; b++) {
      data.get((int) ((long) (from + indices[b]) * rowBytes), rows, b * rowBytes, rowBytes);
    }
    long[] shape = {rows.length / array.dtype().itemSize()};
    float[] values = new NpyArray(array.source(), array.dtype(), shape, rows).toFloats();
    DatasetLoader.scale(values, scale);
    return values;
  }

  @Override
  public void checkHolds(int size, long[] exampleShape) {
    if (size != count || NpyArray.elementCount(exampleShape) * array.dtype().itemSize() != rowBytes) {
      throw new IllegalArgumentException(array.source() + ": " + size + " examples of shape "
          + Arrays.toString(exampleShape) + " do not fit the mapped array " + Arrays.toString(array.shape()));
    }
  }

  @Override
  public ExampleStore slice(int fromIndex, int toIndex, int exampleSize) {
    return new MappedArrayStore(array, from + fromIndex, toIndex - fromIndex, scale,
        onDisk == null ? null : onDisk.slice(fromIndex, toIndex));
  }

  @Override
  public Optional<GraphInput> graphInput(long[] exampleShape) {
    return onDisk == null ? Optional.empty() : onDisk.graphInput(exampleShape);
  }

  @Override
  public String describe() {
    return "memory-mapped " + array.dtype().descr() + " array";
  }
}

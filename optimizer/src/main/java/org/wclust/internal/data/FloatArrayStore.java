package org.wclust.internal.data;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;
import java.util.Optional;

/**
 * Inputs held in memory as one row-major float array; {@code onDisk}, when not null, says where the
 * same examples lie in their file, for a training graph that reads them itself.
 */
final class FloatArrayStore implements ExampleStore {
  private final float[] values;
  private final OnDisk onDisk;

  FloatArrayStore(float[] values) {
    this(values, null);
  }

  FloatArrayStore(float[] values, OnDisk onDisk) {
    this.values = values;
    this.onDisk = onDisk;
  }

  float[] values() {
    return values;
  }

  @Override
  public float[] read(int[] indices, long[] exampleShape) {
    int width = (int) NpyArray.elementCount(exampleShape);
    float[] out = new float[indices.length * width];
    for (int b = 0; b < indices.length; b++) {
      System.arraycopy(values, indices[b] * width, out, b * width, width);
    }
    return out;
  }

  @Override
  public void checkHolds(int size, long[] exampleShape) {
    long perExample = NpyArray.elementCount(exampleShape);
    checkArgument(values.length == size * perExample,
        "%s examples of shape %s need %s input values, got %s", size, Arrays.toString(exampleShape),
        size * perExample, values.length);
  }

  @Override
  public ExampleStore slice(int from, int to, int exampleSize) {
    return new FloatArrayStore(Arrays.copyOfRange(values, from * exampleSize, to * exampleSize),
        onDisk == null ? null : onDisk.slice(from, to));
  }

  @Override
  public Optional<GraphInput> graphInput(long[] exampleShape) {
    return onDisk == null ? Optional.empty() : onDisk.graphInput(exampleShape);
  }

  @Override
  public String describe() {
    return "in memory";
  }
}

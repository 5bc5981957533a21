package org.wclust.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import java.util.Arrays;
import java.util.Optional;
import org.wclust.bridge.HostTensor;

/**
 * An immutable in-memory dataset: {@code size()} examples of float32 inputs, each of shape {@link
 * #exampleShape()}, stored row-major in one array, and optionally one class index ({@code >= 0}) per
 * example. Batches are copied out as {@link HostTensor}s of shape {@code [b, ...exampleShape]}.
 */
public final class Dataset {
  private final int size;
  private final long[] exampleShape;
  private final int exampleSize;
  private final float[] inputs;
  private final int[] labels;

  private Dataset(int size, long[] exampleShape, float[] inputs, int[] labels) {
    checkArgument(size >= 0, "negative dataset size %s", size);
    for (long d : exampleShape) {
      checkArgument(d >= 0, "example shape %s has a negative dimension", Arrays.toString(exampleShape));
    }
    long perExample = NpyArray.elementCount(exampleShape);
    checkArgument(perExample > 0, "examples of shape %s hold no values", Arrays.toString(exampleShape));
    checkArgument(inputs.length == size * perExample,
        "%s examples of shape %s need %s input values, got %s", size, Arrays.toString(exampleShape),
        size * perExample, inputs.length);
    if (labels != null) {
      checkArgument(labels.length == size, "%s examples but %s labels", size, labels.length);
      for (int i = 0; i < labels.length; i++) {
        checkArgument(labels[i] >= 0, "label %s of example %s is negative; labels are class indices >= 0",
            labels[i], i);
      }
    }
    this.size = size;
    this.exampleShape = exampleShape.clone();
    this.exampleSize = (int) perExample;
    this.inputs = inputs;
    this.labels = labels;
  }

  /**
   * A labelled dataset; the arrays are copied.
   *
   * @param exampleShape per-example shape (no batch dimension)
   * @param inputs {@code labels.length * prod(exampleShape)} values, row-major
   * @param labels one class index ({@code >= 0}) per example
   */
  public static Dataset of(long[] exampleShape, float[] inputs, int[] labels) {
    checkNotNull(labels, "labels");
    return new Dataset(labels.length, exampleShape, inputs.clone(), labels.clone());
  }

  /** An unlabelled dataset; the inputs are copied. */
  public static Dataset unlabeled(long[] exampleShape, float[] inputs) {
    long perExample = NpyArray.elementCount(exampleShape);
    checkArgument(perExample > 0 && inputs.length % perExample == 0,
        "%s values do not make whole examples of shape %s", inputs.length, Arrays.toString(exampleShape));
    return new Dataset((int) (inputs.length / perExample), exampleShape, inputs.clone(), null);
  }

  /** Takes over the arrays without copying: for the loaders, which hold the only reference. */
  static Dataset wrap(int size, long[] exampleShape, float[] inputs, int[] labels) {
    return new Dataset(size, exampleShape, inputs, labels);
  }

  /** Number of examples. */
  public int size() {
    return size;
  }

  /** Shape of one example, without the batch dimension. */
  public long[] exampleShape() {
    return exampleShape.clone();
  }

  /** Number of values in one example. */
  public int exampleSize() {
    return exampleSize;
  }

  public boolean hasLabels() {
    return labels != null;
  }

  /** A copy of all labels, if the dataset has them. */
  public Optional<int[]> labels() {
    return Optional.ofNullable(labels).map(int[]::clone);
  }

  /** A copy of the values of one example. */
  public float[] example(int index) {
    checkIndex(index);
    return Arrays.copyOfRange(inputs, index * exampleSize, (index + 1) * exampleSize);
  }

  /** The inputs of the given examples, in the given order, as float32 {@code [b, ...exampleShape]}. */
  public HostTensor batchInputs(int[] exampleIndices) {
    float[] out = new float[exampleIndices.length * exampleSize];
    for (int b = 0; b < exampleIndices.length; b++) {
      int i = exampleIndices[b];
      checkIndex(i);
      System.arraycopy(inputs, i * exampleSize, out, b * exampleSize, exampleSize);
    }
    long[] shape = new long[exampleShape.length + 1];
    shape[0] = exampleIndices.length;
    System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
    return HostTensor.ofFloats(shape, out);
  }

  /** The labels of the given examples, in the given order. */
  public int[] batchLabels(int[] exampleIndices) {
    checkState(labels != null, "the dataset has no labels");
    int[] out = new int[exampleIndices.length];
    for (int b = 0; b < exampleIndices.length; b++) {
      checkIndex(exampleIndices[b]);
      out[b] = labels[exampleIndices[b]];
    }
    return out;
  }

  /** Examples {@code [from, to)} as a new dataset (copied), e.g. to hold out a validation split. */
  public Dataset slice(int from, int to) {
    checkArgument(0 <= from && from <= to && to <= size, "slice [%s, %s) outside [0, %s)", from, to, size);
    return new Dataset(to - from, exampleShape,
        Arrays.copyOfRange(inputs, from * exampleSize, to * exampleSize),
        labels == null ? null : Arrays.copyOfRange(labels, from, to));
  }

  /**
   * The same examples seen with another shape of the same number of values (e.g. {@code [28, 28]} as
   * {@code [28, 28, 1]}); the data is shared, not copied, since neither dataset can change it.
   */
  public Dataset withExampleShape(long[] shape) {
    checkArgument(NpyArray.elementCount(shape) == exampleSize,
        "examples of shape %s (%s values) cannot be reshaped to %s (%s values)",
        Arrays.toString(exampleShape), exampleSize, Arrays.toString(shape), NpyArray.elementCount(shape));
    return new Dataset(size, shape, inputs, labels);
  }

  @Override
  public String toString() {
    return "Dataset[" + size + " x " + Arrays.toString(exampleShape)
        + (labels == null ? ", unlabelled]" : ", labelled]");
  }

  private void checkIndex(int i) {
    if (i < 0 || i >= size) {
      throw new IndexOutOfBoundsException("example index " + i + " outside [0, " + size + ")");
    }
  }
}

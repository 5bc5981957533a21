package org.wclust.internal.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;
import static com.google.common.base.Preconditions.checkState;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.wclust.internal.bridge.HostTensor;

/**
 * An immutable dataset: {@code size()} examples of float32 inputs, each of shape {@link
 * #exampleShape()}, and optionally either one class index
 * ({@code >= 0}) per example or float regression targets of a fixed shape per example. Batches are
 * copied out as {@link HostTensor}s of shape {@code [b, ...exampleShape]}.
 */
public final class Dataset {
  private final int size;
  private final long[] exampleShape;
  private final int exampleSize;
  private final ExampleStore inputs;
  private final int[] labels;
  private final long[] targetShape;
  private final float[] targets;
  private int shuffleBuffer; // set only by withShuffleBuffer, on a fresh copy
  // The inputs of a model with several inputs, or null for one input; set only on a fresh copy (the
  // plain inputs are then the first of them, so that size and slicing stay as they are).
  private NamedInputs named;

  private Dataset(int size, long[] exampleShape, float[] inputs, int[] labels) {
    this(size, exampleShape, inputs, labels, null, null);
  }

  private Dataset(int size, long[] exampleShape, float[] inputs, int[] labels, long[] targetShape,
      float[] targets) {
    this(size, exampleShape, new FloatArrayStore(inputs), labels, targetShape, targets);
  }

  private Dataset(int size, long[] exampleShape, ExampleStore inputs, int[] labels, long[] targetShape,
      float[] targets) {
    checkArgument(size >= 0, "negative dataset size %s", size);
    for (long d : exampleShape) {
      checkArgument(d >= 0, "example shape %s has a negative dimension", Arrays.toString(exampleShape));
    }
    long perExample = NpyArray.elementCount(exampleShape);
    checkArgument(perExample > 0, "examples of shape %s hold no values", Arrays.toString(exampleShape));
    inputs.checkHolds(size, exampleShape);
    if (labels != null) {
      checkArgument(labels.length == size, "%s examples but %s labels", size, labels.length);
      for (int i = 0; i < labels.length; i++) {
        checkArgument(labels[i] >= 0, "label %s of example %s is negative; labels are class indices >= 0",
            labels[i], i);
      }
    }
    checkArgument(labels == null || targets == null, "a dataset has labels or regression targets, not both");
    if (targets != null) {
      checkArgument(targets.length == size * NpyArray.elementCount(targetShape),
          "%s examples with targets of shape %s need %s values, got %s", size, Arrays.toString(targetShape),
          size * NpyArray.elementCount(targetShape), targets.length);
    }
    this.targetShape = targetShape == null ? null : targetShape.clone();
    this.targets = targets;
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

  /**
   * A dataset with float regression targets; the arrays are copied.
   *
   * @param targetShape per-example target shape (no batch dimension)
   * @param targets {@code size * prod(targetShape)} values, row-major
   */
  public static Dataset withTargets(long[] exampleShape, float[] inputs, long[] targetShape, float[] targets) {
    long perExample = NpyArray.elementCount(exampleShape);
    checkArgument(perExample > 0 && inputs.length % perExample == 0,
        "%s values do not make whole examples of shape %s", inputs.length, Arrays.toString(exampleShape));
    return new Dataset((int) (inputs.length / perExample), exampleShape, inputs.clone(), null,
        targetShape, targets.clone());
  }

  /** Takes over the arrays without copying: for the loaders, which hold the only reference. */
  static Dataset wrapWithTargets(int size, long[] exampleShape, float[] inputs, long[] targetShape,
      float[] targets) {
    return new Dataset(size, exampleShape, inputs, null, targetShape, targets);
  }

  /** Takes over the arrays without copying: for the loaders, which hold the only reference. */
  static Dataset wrap(int size, long[] exampleShape, float[] inputs, int[] labels) {
    return new Dataset(size, exampleShape, inputs, labels);
  }

  /** As {@link #wrap(int, long[], float[], int[])}, with where the inputs lie in their file (may be null). */
  static Dataset wrap(int size, long[] exampleShape, float[] inputs, int[] labels, OnDisk onDisk) {
    return new Dataset(size, exampleShape, new FloatArrayStore(inputs, onDisk), labels, null, null);
  }

  /**
   * A dataset whose examples are read from {@code store} when a batch is asked for (e.g. image files
   * decoded batch by batch), so that only the labels are held in memory.
   */
  static Dataset streamed(int size, long[] exampleShape, ExampleStore store, int[] labels) {
    return new Dataset(size, exampleShape, store, labels, null, null);
  }

  /** The inputs array itself, not a copy: for the loaders, which hand it to a new dataset. */
  float[] rawInputs() {
    return ((FloatArrayStore) inputs).values();
  }

  /**
   * Whether the examples are read from files batch by batch rather than held in memory; the trainer
   * then prepares the next batches in the background (see {@link Prefetcher}).
   */
  public boolean streamed() {
    return !(inputs instanceof FloatArrayStore);
  }

  /** How the examples are read, for a progress line: e.g. "in memory" or "PNG files decoded by TensorFlow". */
  public String source() {
    return inputs.describe();
  }

  /** The same examples, shuffled for training through a buffer of n (0: all at once); see {@link ShuffleOrder}. */
  public Dataset withShuffleBuffer(int n) {
    checkArgument(n >= 0, "the shuffle buffer must be >= 0, got %s", n);
    return keepReading(new Dataset(size, exampleShape, inputs, labels, targetShape, targets), n);
  }

  /**
   * A dataset whose inputs are several named arrays (one per model input), with the labels or
   * regression targets of the outer dataset; the plain inputs are the first array's.
   */
  static Dataset withNamedInputs(NamedInputs named, int[] labels, long[] targetShape, float[] targets) {
    Dataset first = named.first();
    Dataset d = new Dataset(named.size(), first.exampleShape, first.inputs, labels, targetShape, targets);
    d.named = named;
    return d;
  }

  /** The inputs by model input name, when the data feeds a model with several inputs. */
  public Optional<NamedInputs> namedInputs() {
    return Optional.ofNullable(named);
  }

  /**
   * The dataset for a model whose inputs are {@code names} with per-example {@code shapes} (empty or
   * negative dimensions: unknown): for one input, the data itself (or its array named after the input);
   * for several, one array per input in the model's order. Fails with one line naming the input without
   * data, or when one array of inputs meets a model with several.
   */
  public Dataset forInputs(List<String> names, List<Optional<long[]>> shapes) {
    if (named == null) {
      if (names.size() > 1) {
        throw new IllegalArgumentException("the model has " + names.size() + " inputs (" + String.join(", ", names)
            + ") but the data holds one array of inputs; give each input its own: .npz arrays named "
            + String.join(", ", names) + ", or --features " + String.join(":KEY,", names) + ":KEY");
      }
      return this;
    }
    NamedInputs chosen = named.select(names, shapes);
    if (names.size() == 1) {
      Dataset only = chosen.first();
      Dataset plain = new Dataset(size, only.exampleShape, only.inputs, labels, targetShape, targets);
      plain.shuffleBuffer = shuffleBuffer; // not keepReading: the one input is no longer a named one
      return plain;
    }
    return keepReading(withNamedInputs(chosen, labels, targetShape, targets), shuffleBuffer);
  }

  public int shuffleBuffer() {
    return shuffleBuffer;
  }

  private Dataset keepReading(Dataset d, int shuffleBuffer) {
    d.shuffleBuffer = shuffleBuffer;
    if (d.named == null) {
      d.named = named;
    }
    return d;
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

  /** Whether the dataset holds float regression targets. */
  public boolean hasTargets() {
    return targets != null;
  }

  /** Shape of one example's targets, without the batch dimension. */
  public long[] targetShape() {
    checkState(targets != null, "the dataset has no regression targets");
    return targetShape.clone();
  }

  /** The regression targets of the given examples, in the given order, as float32 {@code [b, ...targetShape]}. */
  public HostTensor batchTargets(int[] exampleIndices) {
    checkState(targets != null, "the dataset has no regression targets");
    int width = (int) NpyArray.elementCount(targetShape);
    float[] out = new float[exampleIndices.length * width];
    for (int b = 0; b < exampleIndices.length; b++) {
      checkIndex(exampleIndices[b]);
      System.arraycopy(targets, exampleIndices[b] * width, out, b * width, width);
    }
    long[] shape = new long[targetShape.length + 1];
    shape[0] = exampleIndices.length;
    System.arraycopy(targetShape, 0, shape, 1, targetShape.length);
    return HostTensor.ofFloats(shape, out);
  }

  /** A copy of all labels, if the dataset has them. */
  public Optional<int[]> labels() {
    return Optional.ofNullable(labels).map(int[]::clone);
  }

  /** A copy of the values of one example. */
  public float[] example(int index) {
    checkIndex(index);
    return inputs.read(new int[] {index}, exampleShape);
  }

  /** Where the examples of the (first) input are read from, for the readers of this package. */
  ExampleStore store() {
    return inputs;
  }

  /** The inputs of the given examples, in the given order, as float32 {@code [b, ...exampleShape]}. */
  public HostTensor batchInputs(int[] exampleIndices) {
    for (int i : exampleIndices) {
      checkIndex(i);
    }
    float[] out = inputs.read(exampleIndices, exampleShape);
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
    int width = targets == null ? 0 : (int) NpyArray.elementCount(targetShape);
    int[] slicedLabels = labels == null ? null : Arrays.copyOfRange(labels, from, to);
    float[] slicedTargets = targets == null ? null : Arrays.copyOfRange(targets, from * width, to * width);
    if (named != null) {
      return withNamedInputs(named.slice(from, to), slicedLabels, targetShape, slicedTargets);
    }
    return new Dataset(to - from, exampleShape, inputs.slice(from, to, exampleSize), slicedLabels, targetShape,
        slicedTargets);
  }

  /**
   * The same examples seen with another shape of the same number of values (e.g. {@code [28, 28]} as
   * {@code [28, 28, 1]}); the data is shared, not copied, since neither dataset can change it.
   */
  public Dataset withExampleShape(long[] shape) {
    if (inputs.resizes(shape)) {
      // e.g. images, resized while decoding
      return keepReading(new Dataset(size, shape, inputs, labels, targetShape, targets), shuffleBuffer);
    }
    checkArgument(NpyArray.elementCount(shape) == exampleSize,
        "examples of shape %s (%s values) cannot be reshaped to %s (%s values)",
        Arrays.toString(exampleShape), exampleSize, Arrays.toString(shape), NpyArray.elementCount(shape));
    return keepReading(new Dataset(size, shape, inputs, labels, targetShape, targets), shuffleBuffer);
  }

  /** The same examples with their regression targets seen with another shape of as many values. */
  public Dataset withTargetShape(long[] shape) {
    checkState(targets != null, "the dataset has no regression targets");
    checkArgument(NpyArray.elementCount(shape) == NpyArray.elementCount(targetShape),
        "targets of shape %s cannot be reshaped to the output's %s", Arrays.toString(targetShape),
        Arrays.toString(shape));
    return keepReading(new Dataset(size, exampleShape, inputs, null, shape, targets), shuffleBuffer);
  }

  @Override
  public String toString() {
    return "Dataset[" + size + " x " + (named != null ? "{" + named + "}" : Arrays.toString(exampleShape))
        + (labels != null ? ", labelled]" : targets != null ? ", targets " + Arrays.toString(targetShape) + "]"
            : ", unlabelled]");
  }

  private void checkIndex(int i) {
    if (i < 0 || i >= size) {
      throw new IndexOutOfBoundsException("example index " + i + " outside [0, " + size + ")");
    }
  }
}

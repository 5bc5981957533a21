package org.wclust.internal.data;

import java.util.Optional;

/**
 * Where a {@link Dataset}'s input values come from: an array in memory, or files read and decoded
 * when a batch is asked for. Implementations are immutable and safe to read from several threads.
 */
interface ExampleStore {
  /**
   * The values of the given examples, in the given order, row-major, each of {@code exampleShape}.
   * Indices were checked by the caller.
   */
  float[] read(int[] indices, long[] exampleShape);

  /** Fails unless the store holds {@code size} examples of {@code exampleShape}. */
  void checkHolds(int size, long[] exampleShape);

  /** Examples {@code [from, to)}; {@code exampleSize} values each. */
  ExampleStore slice(int from, int to, int exampleSize);

  /**
   * Whether examples can be read at {@code shape} whatever their stored size (images, which are
   * resized when decoded); otherwise a new shape must hold as many values as the old one.
   */
  default boolean resizes(long[] shape) {
    return false;
  }

  /**
   * The examples read by ops inside a training graph at {@code exampleShape} ({@link GraphInput}), when
   * this store knows where they lie in files that the graph's devices can read; else empty.
   */
  default Optional<GraphInput> graphInput(long[] exampleShape) {
    return Optional.empty();
  }

  /** A few words for progress lines, e.g. "in memory". */
  String describe();
}

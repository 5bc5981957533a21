package org.wclust.api;

import org.wclust.internal.data.Dataset;

/**
 * A set of examples in memory: model inputs and, optionally, integer labels or float regression
 * targets. Made by {@link Datasets}; used to fine-tune, validate and calibrate.
 *
 * <pre>{@code
 * Examples train = Datasets.npz(Path.of("train.npz"));
 * System.out.println(train.size() + " examples, labelled: " + train.hasLabels());
 * }</pre>
 */
public final class Examples {
  private final Dataset data;

  Examples(Dataset data) {
    this.data = data;
  }

  /** The number of examples. */
  public int size() {
    return data.size();
  }

  /** The shape of one input example (without the batch dimension). */
  public long[] exampleShape() {
    return data.exampleShape();
  }

  /** Whether the examples carry integer class labels. */
  public boolean hasLabels() {
    return data.hasLabels();
  }

  /** Whether the examples carry float regression targets. */
  public boolean hasTargets() {
    return data.hasTargets();
  }

  /** Examples {@code from} (inclusive) to {@code to} (exclusive). */
  public Examples slice(int from, int to) {
    return new Examples(data.slice(from, to));
  }

  Dataset dataset() {
    return data;
  }

  static Dataset orNull(Examples e) {
    return e == null ? null : e.data;
  }

  @Override
  public String toString() {
    return data.toString();
  }
}

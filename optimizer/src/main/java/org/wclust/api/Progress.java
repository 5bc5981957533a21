package org.wclust.api;

/**
 * Where a clustering run is: each stage as it starts, and each fine-tuning step. Both methods do
 * nothing by default, so a listener overrides only what it shows.
 *
 * <pre>{@code
 * Wclust.cluster(in, out, config, new Progress() {
 *   public void stage(String description) { System.out.println(description + " ..."); }
 * });
 * }</pre>
 */
public interface Progress {
  /** Reports nothing. */
  Progress NONE = new Progress() {};

  /** A stage starts, e.g. {@code "clustering 4 weight tensors"}. */
  default void stage(String description) {}

  /**
   * After each fine-tuning step: the epoch (1-based), the step within it, the steps per epoch, and the
   * epoch's running mean loss and accuracy (NaN without a classifier objective).
   */
  default void trainingStep(int epoch, int step, int stepsPerEpoch, double loss, double accuracy) {}

  /** Before {@link #trainingStep}: how many examples the step trained on (for a throughput figure). */
  default void trainingExamples(int examples) {}
}

package org.wclust.internal.train;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * The learning rate of each step: constant, cosine decay to zero over the run, or exponential decay
 * by {@code rate} per epoch.
 */
public record LearningRateSchedule(Kind kind, double rate) {
  public enum Kind { CONSTANT, COSINE, EXPONENTIAL }

  public static final LearningRateSchedule CONSTANT = new LearningRateSchedule(Kind.CONSTANT, 1);
  public static final LearningRateSchedule COSINE = new LearningRateSchedule(Kind.COSINE, 1);

  public LearningRateSchedule {
    checkArgument(rate > 0 && rate <= 1, "the decay rate must be in (0, 1], got %s", rate);
  }

  public static LearningRateSchedule exponential(double ratePerEpoch) {
    return new LearningRateSchedule(Kind.EXPONENTIAL, ratePerEpoch);
  }

  /** Parses {@code none}/{@code constant}, {@code cosine} or {@code exponential} (with {@code rate}). */
  public static LearningRateSchedule parse(String name, double rate) {
    return switch (name) {
      case "none", "constant" -> CONSTANT;
      case "cosine" -> COSINE;
      case "exponential" -> exponential(rate);
      default -> throw new IllegalArgumentException(
          "unknown learning-rate decay '" + name + "'; expected none, cosine or exponential");
    };
  }

  /**
   * @param step 0-based step
   * @param stepsPerEpoch steps in one epoch
   * @param totalSteps steps in the whole run
   */
  public float at(float initial, long step, long stepsPerEpoch, long totalSteps) {
    return switch (kind) {
      case CONSTANT -> initial;
      case COSINE -> (float) (initial * 0.5 * (1 + Math.cos(Math.PI * step / Math.max(1, totalSteps))));
      case EXPONENTIAL -> (float) (initial * Math.pow(rate, (double) step / Math.max(1, stepsPerEpoch)));
    };
  }

  @Override
  public String toString() {
    return switch (kind) {
      case CONSTANT -> "constant";
      case COSINE -> "cosine";
      case EXPONENTIAL -> "exponential(" + rate + " per epoch)";
    };
  }
}

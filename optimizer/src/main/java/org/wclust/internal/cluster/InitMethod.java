package org.wclust.internal.cluster;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How {@link Clusterer1D} places the initial centroids of one tensor (the placements are described
 * exactly on {@link Clusterer1D#cluster}). The CLI names follow tfmot's {@code
 * CentroidInitialization} where one exists.
 */
public enum InitMethod {
  /** k centroids evenly spaced from the minimum to the maximum value. */
  LINEAR("linear"),
  /** k centroids uniformly random in [minimum, maximum], from the seed. */
  RANDOM("random"),
  /** Centroids at evenly spaced quantiles of the values (with their multiplicities). */
  DENSITY("density"),
  /** k-means++ seeding, as {@link KMeans1D}. */
  KMEANS_PP("kmeans++"),
  /** The globally optimal 1-D k-means (minimum SSE) by dynamic programming; never refined. */
  OPTIMAL("optimal"),
  /**
   * Entropy-constrained clustering at the rate-distortion knee ({@link RateDistortion}): a little
   * more squared error than optimal, much lower index entropy, nearest-centroid assignment; never
   * refined.
   */
  KNEE("knee");

  /**
   * The method used when none is chosen: the rate-distortion knee (deterministic, seed-independent),
   * because after fine-tuning every method is equally accurate and the knee's model is the smallest.
   */
  public static final InitMethod DEFAULT = KNEE;

  private final String cliName;

  InitMethod(String cliName) {
    this.cliName = cliName;
  }

  /** The name used on the command line, e.g. {@code "kmeans++"}. */
  public String cliName() {
    return cliName;
  }

  /** Whether Lloyd refinement applies: false for optimal (a fixed point) and knee (it would undo the knee). */
  public boolean refinable() {
    return this != OPTIMAL && this != KNEE;
  }

  /**
   * The method with the given CLI name (exact, case-sensitive).
   *
   * @throws IllegalArgumentException if no method has that name; the message lists the valid
   *     names
   */
  public static InitMethod fromCliName(String s) {
    for (InitMethod m : values()) {
      if (m.cliName.equals(s)) {
        return m;
      }
    }
    throw new IllegalArgumentException(
        "unknown clustering init method '"
            + s
            + "'; valid: "
            + Arrays.stream(values()).map(InitMethod::cliName).collect(Collectors.joining(", ")));
  }
}

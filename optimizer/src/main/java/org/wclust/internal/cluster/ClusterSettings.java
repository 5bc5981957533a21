package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

/**
 * How one weight tensor is clustered.
 *
 * @param clusters k, codebook size per group (at least 2)
 * @param init how centroids are initialised ({@code optimal} is exact and needs no refinement)
 * @param refine whether Lloyd iterations follow the initialisation
 * @param granularity one codebook per tensor, per output channel, or per group of channels
 * @param preserveSparsity exact zeros stay zero: one centroid is pinned at 0
 * @param seed seed of the random initialisations
 * @param sizeWeight 0, or the weight of the index entropy against the squared error for
 *     size-aware (entropy-constrained) clustering, relative to each codebook's variance
 * @param rateWeight for {@link InitMethod#KNEE}: what one bit of index entropy per weight is worth,
 *     in multiples of the optimal mean squared error at k ({@link RateDistortion#KNEE_WEIGHT} by
 *     default; larger = smaller and less exact; 0 = optimal)
 */
public record ClusterSettings(int clusters, InitMethod init, boolean refine, Granularity granularity,
    boolean preserveSparsity, long seed, double sizeWeight, double rateWeight) {
  public ClusterSettings {
    checkArgument(clusters >= 2, "the number of clusters must be at least 2, got %s", clusters);
    checkNotNull(init, "init");
    checkNotNull(granularity, "granularity");
    checkArgument(sizeWeight >= 0 && Double.isFinite(sizeWeight),
        "the size weight must be a finite number >= 0, got %s", sizeWeight);
    // The entropy term moves and drops centroids: it would unpin the zero centroid, and it refines
    // one codebook at a time, so it is offered for per-tensor codebooks without pinned zeros.
    checkArgument(sizeWeight == 0 || (!preserveSparsity && granularity.groupSize() == 0),
        "--size-aware works with --granularity tensor and without --preserve-sparsity");
    checkArgument(rateWeight >= 0 && Double.isFinite(rateWeight),
        "the rate weight must be a finite number >= 0, got %s", rateWeight);
  }

  /** With the default rate weight. */
  public ClusterSettings(int clusters, InitMethod init, boolean refine, Granularity granularity,
      boolean preserveSparsity, long seed, double sizeWeight) {
    this(clusters, init, refine, granularity, preserveSparsity, seed, sizeWeight, RateDistortion.KNEE_WEIGHT);
  }

  /** Without size-aware refinement. */
  public ClusterSettings(int clusters, InitMethod init, boolean refine, Granularity granularity,
      boolean preserveSparsity, long seed) {
    this(clusters, init, refine, granularity, preserveSparsity, seed, 0);
  }

  /** Per-tensor clustering with the default method. */
  public static ClusterSettings of(int clusters, long seed) {
    return new ClusterSettings(clusters, InitMethod.DEFAULT, true, Granularity.TENSOR, false, seed);
  }

  public ClusterSettings withClusters(int k) {
    return new ClusterSettings(k, init, refine, granularity, preserveSparsity, seed, sizeWeight, rateWeight);
  }

  public ClusterSettings withGranularity(Granularity g) {
    return new ClusterSettings(clusters, init, refine, g, preserveSparsity, seed, sizeWeight, rateWeight);
  }

  public ClusterSettings withRateWeight(double weight) {
    return new ClusterSettings(clusters, init, refine, granularity, preserveSparsity, seed, sizeWeight, weight);
  }
}

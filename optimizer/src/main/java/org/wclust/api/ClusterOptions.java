package org.wclust.api;

import org.wclust.cluster.ClusterPlan;
import org.wclust.cluster.ClusterSettings;
import org.wclust.load.ModelLoader;

/**
 * What {@link Wclust#clusterToSavedModel} does.
 *
 * @param plan which weights to cluster, into how many clusters
 * @param settings how each weight is clustered (method, refinement, granularity, sparsity, seed); its
 *     number of clusters is replaced by the plan's per weight
 * @param signature the serving signature of the input model to use
 * @param foldBatchNorm fold inference BatchNormalization into the preceding conv/dense before
 *     clustering, so the clusters survive TFLite conversion
 * @param int8Aware snap centroids onto each output channel's int8 grid, so int8 quantization of the
 *     exported model is exact
 */
public record ClusterOptions(ClusterPlan plan, ClusterSettings settings, String signature,
    boolean foldBatchNorm, boolean int8Aware) {
  /** The default method, per tensor, seed 0, {@code serving_default}, BatchNorm folded. */
  public static ClusterOptions of(ClusterPlan plan) {
    return of(plan, 0L);
  }

  public static ClusterOptions of(ClusterPlan plan, long seed) {
    return new ClusterOptions(plan, ClusterSettings.of(2, seed), ModelLoader.DEFAULT_SIGNATURE, true, false);
  }
}

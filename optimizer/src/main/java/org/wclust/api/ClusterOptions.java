package org.wclust.api;

import org.wclust.cluster.ClusterPlan;
import org.wclust.load.ModelLoader;

/**
 * What {@link Wclust#clusterToSavedModel} does.
 *
 * @param plan which weights to cluster, into how many clusters
 * @param seed seed of the k-means initialisation; the same seed gives the same output
 * @param signature the serving signature of the input model to use
 */
public record ClusterOptions(ClusterPlan plan, long seed, String signature) {
  public static ClusterOptions of(ClusterPlan plan) {
    return new ClusterOptions(plan, 0L, ModelLoader.DEFAULT_SIGNATURE);
  }
}

package org.wclust.cluster;

import org.wclust.graph.WeightTensor;

/**
 * One weight replaced by a centroid-gather subgraph.
 *
 * @param weight the original weight
 * @param settings how it was clustered (k, method, granularity, sparsity)
 * @param clustering the codebook(s), indices and SSE
 * @param centroidsHandle the VarHandleOp of the centroids variable in the rewritten graph
 * @param weightTensor the graph tensor that now computes the weight ({@code centroids[indices]})
 */
public record ClusteredLayer(WeightTensor weight, ClusterSettings settings, TensorClustering clustering,
    String centroidsHandle, String weightTensor) {

  /** Bits of a packed codebook format: ⌈log2 k⌉ per weight plus a float32 per centroid. */
  public long packedBits() {
    int indexBits = 32 - Integer.numberOfLeadingZeros(Math.max(1, settings.clusters() - 1));
    return weight.params() * indexBits + 32L * clustering.codebook().length;
  }
}

package org.wclust.internal.cluster;

import org.wclust.internal.graph.WeightTensor;

/**
 * One weight replaced by a trainable centroid-gather subgraph (see {@link ClusteredWeight}).
 *
 * @param weight the original weight (its variable still feeds the straight-through term)
 * @param settings how it was clustered (k, method, granularity, sparsity)
 * @param clustering the codebook(s), indices and SSE as clustered, before any fine-tuning
 * @param centroidsHandle the VarHandleOp of the centroids variable (float[K])
 * @param indicesHandle the VarHandleOp of the indices variable (int32, the weight's shape)
 * @param gradientScaleHandle the VarHandleOp of the per-centroid gradient scale (float[K])
 * @param trainableEntries per centroid, 1 if fine-tuning may move it, 0 if it is pinned at zero
 * @param sparsityMasked whether a zero mask keeps the original zeros at zero
 * @param layout which centroids each element may be re-assigned to
 * @param weightTensor the graph tensor that now computes the weight ({@code centroids[indices]})
 * @param gatheredTensor the gathered centroids inside it, before the sparsity mask (see
 *     {@link ClusteredWeight.Parts})
 */
public record ClusteredLayer(WeightTensor weight, ClusterSettings settings, TensorClustering clustering,
    String centroidsHandle, String indicesHandle, String gradientScaleHandle, float[] trainableEntries,
    boolean sparsityMasked, CodebookLayout layout, String weightTensor, String gatheredTensor) {

  /** Bits of a packed codebook format: ⌈log2 k⌉ per weight plus a float32 per centroid. */
  public long packedBits() {
    int indexBits = 32 - Integer.numberOfLeadingZeros(Math.max(1, settings.clusters() - 1));
    return weight.params() * indexBits + 32L * clustering.codebook().length;
  }
}

package org.wclust.internal.cluster;

/**
 * A clustered weight tensor: one or more codebooks laid end to end in {@code codebook}, and for each
 * element the index of its value in that concatenation, so the weight is {@code codebook[indices[i]]}
 * whatever the granularity — exactly what the centroid-gather subgraph computes.
 *
 * @param codebook all centroids, group by group
 * @param indices per element, an index into {@code codebook}
 * @param groups number of codebooks
 * @param sse within-cluster sum of squared errors over the whole tensor
 * @param maxDistinctPerGroup the most distinct values any one group holds
 * @param keptOriginalValues true when some group had no more distinct values than clusters
 * @param emptyClusters initial centroids that got no member (only without refinement)
 */
public record TensorClustering(float[] codebook, int[] indices, int groups, double sse,
    int maxDistinctPerGroup, boolean keptOriginalValues, int emptyClusters) {

  /** The clustered weight values, {@code codebook[indices[i]]}. */
  public float[] reconstruct() {
    float[] out = new float[indices.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = codebook[indices[i]];
    }
    return out;
  }
}

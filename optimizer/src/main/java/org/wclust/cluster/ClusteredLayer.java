package org.wclust.cluster;

import org.wclust.graph.WeightTensor;

/**
 * One weight replaced by a centroid-gather subgraph.
 *
 * @param weight the original weight
 * @param clusters the number of clusters asked for
 * @param clustering the k-means result (centroids, indices, SSE)
 * @param centroidsHandle the VarHandleOp of the centroids variable in the rewritten graph
 * @param weightTensor the graph tensor that now computes the weight ({@code centroids[indices]})
 */
public record ClusteredLayer(WeightTensor weight, int clusters, Clustering clustering,
    String centroidsHandle, String weightTensor) {}

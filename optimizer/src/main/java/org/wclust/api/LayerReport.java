package org.wclust.api;

/**
 * Per clustered layer, as written to {@code wclust-report.json}.
 *
 * @param name layer path of the weight
 * @param op the op the weight feeds
 * @param shape the weight's shape
 * @param params number of weights
 * @param clusters number of clusters asked for
 * @param distinctValues distinct values of the weight in the exported model
 * @param sse within-cluster sum of squared errors
 * @param keptOriginalValues true when the weight had no more distinct values than clusters
 */
public record LayerReport(String name, String op, long[] shape, long params, int clusters,
    int distinctValues, double sse, boolean keptOriginalValues) {}

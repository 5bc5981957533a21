package org.wclust.internal.graph;

/**
 * A weight of a flat model as {@code wclust inspect} shows it.
 *
 * @param name the layer path, e.g. {@code conv2d_1/kernel}
 * @param handleNode the VarHandleOp holding it in the flat graph
 * @param op the op that consumes it (for clusterable weights: the conv/matmul it feeds)
 * @param shape its dimensions
 * @param params number of elements
 * @param distinctValues number of distinct values (float weights), or -1 for other dtypes and when not
 *     counted ({@link WeightDiscovery#discoverForClustering})
 * @param dtype TensorFlow dtype name, e.g. {@code DT_FLOAT}
 * @param clusterable whether wclust clusters it
 * @param reason why it is or is not clusterable
 * @param channels where its output channels lie (for per-channel clustering); the whole tensor as one
 *     channel when it is not clusterable
 */
public record WeightTensor(String name, String handleNode, String op, long[] shape, long params,
    int distinctValues, String dtype, boolean clusterable, String reason, OutputChannels channels) {}

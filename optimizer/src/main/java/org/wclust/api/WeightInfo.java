package org.wclust.api;

import org.wclust.internal.graph.WeightTensor;

/**
 * One weight tensor of a model, as {@code wclust inspect} lists it.
 *
 * <pre>{@code
 * for (WeightInfo w : ClusterableModel.load(Path.of("model")).weights()) {
 *   System.out.println(w.name() + " " + w.op() + (w.clusterable() ? "" : " (" + w.reason() + ")"));
 * }
 * }</pre>
 *
 * @param name the layer path, e.g. {@code conv2d_1/kernel}
 * @param op the op that consumes it
 * @param shape its dimensions
 * @param params number of elements
 * @param dtype TensorFlow dtype name, e.g. {@code DT_FLOAT}
 * @param distinctValues distinct values (float weights), or -1 when not counted
 * @param clusterable whether wclust clusters it
 * @param reason why it is or is not clusterable
 */
public record WeightInfo(String name, String op, long[] shape, long params, String dtype, int distinctValues,
    boolean clusterable, String reason) {
  static WeightInfo of(WeightTensor w) {
    return new WeightInfo(w.name(), w.op(), w.shape(), w.params(), w.dtype(), w.distinctValues(), w.clusterable(),
        w.reason());
  }
}

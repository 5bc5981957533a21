package org.wclust.internal.graph;

import java.util.Map;
import java.util.Optional;
import org.tensorflow.proto.NodeDef;

/**
 * What makes an op input a clusterable weight, and where that weight's output channels lie. The
 * registry of {@link WeightDiscovery}: a conv filter, a matrix-product operand, the constant side of
 * an Einsum, the params of a gather (an embedding table; never its indices).
 */
final class WeightConsumers {
  private WeightConsumers() {}

  /**
   * The output channels of the weight fed to input {@code inputIndex} of {@code node}, with the weight
   * seen in shape {@code shape} by that op (after any reshapes, which keep the row-major order, so
   * the layout holds for the variable's own elements too); empty when that input is not a weight. A
   * null {@code shape} (not known statically) gives one channel.
   *
   * @param elements the number of elements of the weight
   */
  static Optional<OutputChannels> channels(NodeDef node, int inputIndex, long[] shape, long elements,
      Map<String, NodeDef> nodes) {
    if (!isWeightInput(node, inputIndex, nodes)) {
      return Optional.empty();
    }
    if (shape == null || shape.length == 0) {
      return Optional.of(OutputChannels.single(elements));
    }
    int rank = shape.length;
    switch (node.getOp()) {
      case "DepthwiseConv2dNative":
        return Optional.of(new OutputChannels(Math.toIntExact(shape[rank - 2] * shape[rank - 1]), 1));
      case "Conv2DBackpropInput":
      case "Conv3DBackpropInputV2": // filter [..., out, in]
        return Optional.of(new OutputChannels(Math.toIntExact(shape[rank - 2]), shape[rank - 1]));
      case "MatMul":
      case "BatchMatMulV2":
        return Optional.of(matMulChannels(node, inputIndex, shape));
      case "GatherV2":
      case "ResourceGather": // an embedding table: one channel per row (per token)
        return Optional.of(new OutputChannels(Math.toIntExact(shape[0]), elements / shape[0]));
      case "Einsum":
        return Optional.of(einsumChannels(node, inputIndex, shape, elements));
      default: // Conv2D, Conv3D: filter [..., in, out]
        return Optional.of(new OutputChannels(Math.toIntExact(shape[rank - 1]), 1));
    }
  }

  /** Whether input {@code inputIndex} of {@code node} is a weight position of a weight-consuming op. */
  static boolean isWeightInput(NodeDef node, int inputIndex, Map<String, NodeDef> nodes) {
    switch (node.getOp()) {
      case "Conv2D":
      case "Conv3D":
      case "DepthwiseConv2dNative":
      case "Conv2DBackpropInput":
      case "Conv3DBackpropInputV2":
        return inputIndex == 1;
      case "MatMul":
      case "BatchMatMulV2":
      case "Einsum":
        return inputIndex == 0 || inputIndex == 1;
      case "GatherV2": { // params only, and only a gather of whole rows (axis 0, no batch dims)
        int[] axis = inputIndex == 0 ? StaticShapes.constantInts(node.getInput(2), nodes) : null;
        return axis != null && axis.length == 1 && axis[0] == 0 && batchDims(node) == 0;
      }
      case "ResourceGather":
        return inputIndex == 0 && batchDims(node) == 0;
      default:
        return false;
    }
  }

  private static long batchDims(NodeDef node) {
    return node.getAttrMap().containsKey("batch_dims") ? node.getAttrOrThrow("batch_dims").getI() : 0;
  }

  /** Channels are the output features: the columns of b (rows if transposed), the rows of a. */
  private static OutputChannels matMulChannels(NodeDef node, int inputIndex, long[] shape) {
    int rank = shape.length;
    if (rank < 2) {
      return OutputChannels.single(shape[0]);
    }
    boolean isB = inputIndex == 1;
    String transposeAttr = node.getOp().equals("MatMul")
        ? (isB ? "transpose_b" : "transpose_a")
        : (isB ? "adj_y" : "adj_x");
    boolean transposed = node.getAttrMap().containsKey(transposeAttr) && node.getAttrOrThrow(transposeAttr).getB();
    boolean channelsLast = isB != transposed;
    return channelsLast
        ? new OutputChannels(Math.toIntExact(shape[rank - 1]), 1)
        : new OutputChannels(Math.toIntExact(shape[rank - 2]), shape[rank - 1]);
  }

  /**
   * An Einsum operand's output channels are its dimensions whose labels appear in the output
   * ({@code "abc,cd->abd"}: {@code d} of the second operand). When they form one contiguous block of
   * dimensions, that block is the channel; otherwise the tensor is one channel.
   */
  private static OutputChannels einsumChannels(NodeDef node, int inputIndex, long[] shape, long elements) {
    String equation = node.getAttrOrThrow("equation").getS().toStringUtf8().replace(" ", "");
    String[] sides = equation.split("->", -1);
    String[] operands = sides[0].split(",", -1);
    if (sides.length != 2 || operands.length != 2 || operands[inputIndex].contains(".")
        || operands[inputIndex].length() != shape.length) {
      return OutputChannels.single(elements);
    }
    String labels = operands[inputIndex];
    int first = -1;
    int last = -1;
    for (int d = 0; d < labels.length(); d++) {
      if (sides[1].indexOf(labels.charAt(d)) >= 0) {
        if (first < 0) {
          first = d;
        } else if (last != d - 1) {
          return OutputChannels.single(elements);
        }
        last = d;
      }
    }
    if (first < 0) {
      return OutputChannels.single(elements);
    }
    long count = 1;
    long stride = 1;
    for (int d = first; d <= last; d++) {
      count *= shape[d];
    }
    for (int d = last + 1; d < shape.length; d++) {
      stride *= shape[d];
    }
    return new OutputChannels(Math.toIntExact(count), stride);
  }
}

package org.wclust.graph;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;
import org.wclust.bridge.HostTensor;
import org.wclust.bridge.TensorRef;

/**
 * Finds the clusterable weights of a flat model by the op that consumes them: the filter of a
 * convolution or the weight operand of a matrix product, traced back through Identity and
 * ReadVariableOp to its variable. Biases, BatchNorm parameters and non-float tensors feed other ops
 * or have other dtypes, and are never clustered.
 */
public final class WeightDiscovery {
  /** Weight-consuming ops and the input positions that hold the weight. */
  private static final ImmutableMap<String, ImmutableSet<Integer>> WEIGHT_INPUTS = ImmutableMap.of(
      "Conv2D", ImmutableSet.of(1),
      "Conv3D", ImmutableSet.of(1),
      "DepthwiseConv2dNative", ImmutableSet.of(1),
      "Conv2DBackpropInput", ImmutableSet.of(1),
      "MatMul", ImmutableSet.of(0, 1),
      "BatchMatMulV2", ImmutableSet.of(0, 1));
  private static final ImmutableSet<String> PASS_THROUGH = ImmutableSet.of("Identity", "ReadVariableOp");

  private WeightDiscovery() {}

  /** Every variable of the model, in load order, with what consumes it. */
  public static List<WeightTensor> discover(FlatModel model) {
    Map<String, List<Consumer>> consumers = consumersByNode(model);
    List<WeightTensor> weights = new ArrayList<>();
    for (ModelVariable variable : model.variables().values()) {
      Set<String> ops = new HashSet<>();
      String weightOp = null;
      HostTensor value = variable.value();
      OutputChannels channels = OutputChannels.single(value.size());
      for (Consumer c : reachedThroughReads(variable.handleNode(), consumers)) {
        ops.add(c.node().getOp());
        ImmutableSet<Integer> positions = WEIGHT_INPUTS.get(c.node().getOp());
        if (positions != null && positions.contains(c.inputIndex())) {
          weightOp = c.node().getOp();
          channels = outputChannels(c, value.shape());
        }
      }
      boolean isFloat = value.isFloat();
      String op = weightOp != null ? weightOp : ops.isEmpty() ? "-" : String.join(",", ops.stream().sorted().toList());
      String reason;
      if (weightOp == null) {
        reason = ops.isEmpty() ? "not used by the serving signature" : "not a conv/matmul weight";
      } else if (!isFloat) {
        reason = "not float32 (" + value.dtype() + ")";
      } else {
        reason = "weight of " + weightOp;
      }
      weights.add(new WeightTensor(variable.name(), variable.handleNode(), op, value.shape(),
          value.size(), isFloat ? distinct(value.toFloats()) : -1, value.dtype().name(),
          weightOp != null && isFloat, reason, channels));
    }
    return weights;
  }

  /** The output-channel layout of a weight given the op and input position that consume it. */
  private static OutputChannels outputChannels(Consumer c, long[] shape) {
    int rank = shape.length;
    if (rank == 0) {
      return OutputChannels.single(1);
    }
    NodeDef node = c.node();
    switch (node.getOp()) {
      case "DepthwiseConv2dNative":
        return new OutputChannels(Math.toIntExact(shape[rank - 2] * shape[rank - 1]), 1);
      case "Conv2DBackpropInput":
        return new OutputChannels(Math.toIntExact(shape[rank - 2]), shape[rank - 1]);
      case "MatMul":
      case "BatchMatMulV2": {
        if (rank < 2) {
          return OutputChannels.single(shape[0]);
        }
        // Channels are the output features: the columns of b (rows if transposed), the rows of a.
        boolean isB = c.inputIndex() == 1;
        String transposeAttr = node.getOp().equals("MatMul")
            ? (isB ? "transpose_b" : "transpose_a")
            : (isB ? "adj_y" : "adj_x");
        boolean transposed = node.getAttrMap().containsKey(transposeAttr)
            && node.getAttrOrThrow(transposeAttr).getB();
        boolean channelsLast = isB != transposed;
        return channelsLast
            ? new OutputChannels(Math.toIntExact(shape[rank - 1]), 1)
            : new OutputChannels(Math.toIntExact(shape[rank - 2]), shape[rank - 1]);
      }
      default: // Conv2D, Conv3D: filter [..., in, out]
        return new OutputChannels(Math.toIntExact(shape[rank - 1]), 1);
    }
  }

  /** Number of distinct float values (+0 and -0 count once, as the clustering sees them). */
  public static int distinct(float[] values) {
    Set<Float> seen = new HashSet<>();
    for (float v : values) {
      seen.add(v == 0f ? 0f : v);
    }
    return seen.size();
  }

  /** The ReadVariableOp nodes that read the variable {@code handleNode} (directly or via Identity). */
  public static List<NodeDef> reads(FlatModel model, String handleNode) {
    Map<String, List<Consumer>> consumers = consumersByNode(model);
    List<NodeDef> reads = new ArrayList<>();
    List<String> frontier = new ArrayList<>(List.of(handleNode));
    while (!frontier.isEmpty()) {
      String node = frontier.remove(frontier.size() - 1);
      for (Consumer c : consumers.getOrDefault(node, List.of())) {
        if (c.node().getOp().equals("ReadVariableOp")) {
          reads.add(c.node());
        } else if (c.node().getOp().equals("Identity")) {
          frontier.add(c.node().getName());
        }
      }
    }
    return reads;
  }

  private record Consumer(NodeDef node, int inputIndex) {}

  private static Map<String, List<Consumer>> consumersByNode(FlatModel model) {
    Map<String, List<Consumer>> consumers = new HashMap<>();
    for (NodeDef node : model.graph().getNodeList()) {
      for (int i = 0; i < node.getInputCount(); i++) {
        TensorRef ref = TensorRef.parse(node.getInput(i));
        if (!ref.control()) {
          consumers.computeIfAbsent(ref.node(), k -> new ArrayList<>()).add(new Consumer(node, i));
        }
      }
    }
    return consumers;
  }

  /** The first consumers that are not a read or an identity, following those from the handle. */
  private static List<Consumer> reachedThroughReads(String handle, Map<String, List<Consumer>> consumers) {
    List<Consumer> reached = new ArrayList<>();
    List<String> frontier = new ArrayList<>(List.of(handle));
    Set<String> seen = new HashSet<>();
    while (!frontier.isEmpty()) {
      String node = frontier.remove(frontier.size() - 1);
      if (!seen.add(node)) {
        continue;
      }
      for (Consumer c : consumers.getOrDefault(node, List.of())) {
        if (PASS_THROUGH.contains(c.node().getOp())) {
          frontier.add(c.node().getName());
        } else {
          reached.add(c);
        }
      }
    }
    return reached;
  }
}

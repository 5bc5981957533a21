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
 * Finds the clusterable weights of a flat model by the op that consumes them (see
 * {@link WeightConsumers}): the filter of a convolution or transposed convolution, the weight operand
 * of a matrix product or an Einsum, the table of an embedding gather, traced back through Identity,
 * ReadVariableOp and reshapes to its variable. Biases, normalization parameters and non-float tensors
 * feed other ops or have other dtypes, and are never clustered.
 */
public final class WeightDiscovery {
  /** Ops a weight passes through unchanged on its way to the op that consumes it. */
  private static final ImmutableSet<String> PASS_THROUGH = ImmutableSet.of("Identity", "ReadVariableOp");
  /** Ops that only change a weight's shape, keeping its row-major element order. */
  private static final ImmutableSet<String> RESHAPES = ImmutableSet.of("Reshape", "ExpandDims", "Squeeze");

  private WeightDiscovery() {}

  /** Every variable of the model, in load order, with what consumes it. */
  public static List<WeightTensor> discover(FlatModel model) {
    Map<String, List<Consumer>> consumers = consumersByNode(model);
    Map<String, NodeDef> nodes = new HashMap<>();
    model.graph().getNodeList().forEach(n -> nodes.put(n.getName(), n));
    List<WeightTensor> weights = new ArrayList<>();
    for (ModelVariable variable : model.variables().values()) {
      Set<String> ops = new HashSet<>();
      String weightOp = null;
      HostTensor value = variable.value();
      OutputChannels channels = OutputChannels.single(value.size());
      for (Reached r : reachedThroughReads(variable.handleNode(), value.shape(), consumers, nodes)) {
        ops.add(r.consumer().node().getOp());
        var weightChannels = WeightConsumers.channels(r.consumer().node(), r.consumer().inputIndex(), r.shape(),
            value.size(), nodes);
        if (weightChannels.isPresent()) {
          weightOp = r.consumer().node().getOp();
          channels = weightChannels.get();
        }
      }
      boolean isFloat = value.isFloat();
      String op = weightOp != null ? weightOp : ops.isEmpty() ? "-" : String.join(",", ops.stream().sorted().toList());
      String reason;
      if (weightOp == null) {
        reason = ops.isEmpty() ? "not used by the serving signature" : "not a weight of a conv, matmul, einsum or gather";
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

  /** A consumer reached from a variable, with the weight's shape as that consumer sees it (null: unknown). */
  private record Reached(Consumer consumer, long[] shape) {}

  /**
   * The first consumers that are not a read, an identity or a reshape, following those from the handle
   * (a ResourceGather consumes the handle itself).
   */
  private static List<Reached> reachedThroughReads(String handle, long[] shape,
      Map<String, List<Consumer>> consumers, Map<String, NodeDef> nodes) {
    List<Reached> reached = new ArrayList<>();
    List<Reached> frontier = new ArrayList<>(List.of(new Reached(new Consumer(nodes.get(handle), -1), shape)));
    Set<String> seen = new HashSet<>();
    while (!frontier.isEmpty()) {
      Reached at = frontier.remove(frontier.size() - 1);
      String node = at.consumer().node().getName();
      if (!seen.add(node)) {
        continue;
      }
      for (Consumer c : consumers.getOrDefault(node, List.of())) {
        String op = c.node().getOp();
        if (PASS_THROUGH.contains(op)) {
          frontier.add(new Reached(c, at.shape()));
        } else if (RESHAPES.contains(op) && c.inputIndex() == 0) {
          frontier.add(new Reached(c, StaticShapes.reshaped(c.node(), at.shape(), nodes)));
        } else {
          reached.add(new Reached(c, at.shape()));
        }
      }
    }
    return reached;
  }
}

package org.wclust.internal.graph;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;

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

  /** Every variable of the model, in load order, with what consumes it and its distinct values. */
  public static List<WeightTensor> discover(FlatModel model) {
    return discover(model, true);
  }

  /**
   * {@link #discover(FlatModel)} without counting distinct values ({@link WeightTensor#distinctValues}
   * is -1): what clustering needs. Counting sorts every weight; only {@code inspect} shows the counts.
   */
  public static List<WeightTensor> discoverForClustering(FlatModel model) {
    return discover(model, false);
  }

  private static List<WeightTensor> discover(FlatModel model, boolean countDistinct) {
    Nodes graph = Nodes.of(model.graph().getNodeList());
    Map<String, FunctionDef> library = new HashMap<>();
    model.graph().getLibrary().getFunctionList().forEach(f -> library.put(f.getSignature().getName(), f));
    Map<String, Nodes> bodies = new HashMap<>();
    List<WeightTensor> weights = new ArrayList<>();
    for (ModelVariable variable : model.variables().values()) {
      Set<String> ops = new HashSet<>();
      String weightOp = null;
      HostTensor value = variable.value();
      OutputChannels channels = OutputChannels.single(value.size());
      for (Reached r : reachedThroughReads(variable.handleNode(), value.shape(), graph, library, bodies)) {
        ops.add(r.consumer().node().getOp());
        var weightChannels = WeightConsumers.channels(r.consumer().node(), r.consumer().inputIndex(), r.shape(),
            value.size(), r.nodes().byName());
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
          value.size(), isFloat && countDistinct ? distinct(value.toFloats()) : -1, value.dtype().name(),
          weightOp != null && isFloat, reason, channels));
    }
    return weights;
  }

  /**
   * Number of distinct float values (+0 and -0 count once, as the clustering sees them; NaNs count
   * as one value, as {@link Float#equals} sees them). A clustered tensor has a few values: a small
   * hash set of bit patterns counts them in one pass; past {@value #HASHED_DISTINCT} values it counts
   * on sorted bit patterns instead. (A set of boxed floats took seconds and gigabytes on ResNet-50.)
   */
  public static int distinct(float[] values) {
    int[] table = new int[64]; // bit patterns; 0 marks a free slot, +0f is tracked apart
    boolean zero = false;
    int count = 0;
    for (float v : values) {
      int bits = Float.floatToIntBits(v == 0f ? 0f : v); // canonical NaN, like Float.equals
      if (bits == 0) {
        zero = true;
        continue;
      }
      int mask = table.length - 1;
      int i = (bits * 0x9E3779B9) >>> 7 & mask;
      while (table[i] != 0 && table[i] != bits) {
        i = (i + 1) & mask;
      }
      if (table[i] == 0) {
        table[i] = bits;
        if (++count > HASHED_DISTINCT) {
          return distinctBySorting(values);
        }
        if (count * 2 > table.length) {
          table = rehashed(table);
        }
      }
    }
    return count + (zero ? 1 : 0);
  }

  /** Beyond this many values {@link #distinct} sorts rather than hashes (the table would outgrow an int[] copy). */
  static final int HASHED_DISTINCT = 1 << 16;

  private static int[] rehashed(int[] table) {
    int[] bigger = new int[table.length * 2];
    int mask = bigger.length - 1;
    for (int bits : table) {
      if (bits != 0) {
        int i = (bits * 0x9E3779B9) >>> 7 & mask;
        while (bigger[i] != 0) {
          i = (i + 1) & mask;
        }
        bigger[i] = bits;
      }
    }
    return bigger;
  }

  private static int distinctBySorting(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      bits[i] = Float.floatToIntBits(v == 0f ? 0f : v);
    }
    java.util.Arrays.parallelSort(bits);
    int count = 1;
    for (int i = 1; i < bits.length; i++) {
      if (bits[i] != bits[i - 1]) {
        count++;
      }
    }
    return count;
  }

  /** The ReadVariableOp nodes that read the variable {@code handleNode} (directly or via Identity). */
  public static List<NodeDef> reads(FlatModel model, String handleNode) {
    return reads(consumersByNode(model), handleNode);
  }

  /**
   * {@link #reads(FlatModel, String)} of every variable of the model, indexing the graph once (not once
   * per variable: on a big model, that was quadratic in the number of nodes).
   */
  public static Map<String, List<NodeDef>> reads(FlatModel model) {
    Map<String, List<Consumer>> consumers = consumersByNode(model);
    Map<String, List<NodeDef>> reads = new HashMap<>();
    model.variables().keySet().forEach(handle -> reads.put(handle, reads(consumers, handle)));
    return reads;
  }

  private static List<NodeDef> reads(Map<String, List<Consumer>> consumers, String handleNode) {
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
  private record Reached(Consumer consumer, long[] shape, Nodes nodes) {}

  /** The nodes of a graph or of a function body, by name and by the names they consume. */
  private record Nodes(Map<String, NodeDef> byName, Map<String, List<Consumer>> consumers) {
    static Nodes of(List<NodeDef> list) {
      Map<String, NodeDef> byName = new HashMap<>();
      Map<String, List<Consumer>> consumers = new HashMap<>();
      for (NodeDef node : list) {
        byName.put(node.getName(), node);
        for (int i = 0; i < node.getInputCount(); i++) {
          String in = node.getInput(i);
          if (!in.startsWith("^")) { // graph "node:k" and function "node:out:k" or "arg" alike
            consumers.computeIfAbsent(in.split(":")[0], k -> new ArrayList<>()).add(new Consumer(node, i));
          }
        }
      }
      return new Nodes(byName, consumers);
    }
  }

  /** A place the weight flows through: a node or function argument name, with the weight's shape there. */
  private record At(String name, long[] shape, Nodes nodes) {}

  /**
   * The first consumers that are not a read, an identity or a reshape, following those from the handle
   * (a ResourceGather consumes the handle itself), and into the body of a {@code While} loop that
   * receives the weight as a loop input (see {@code LoopInvariantReads}).
   */
  private static List<Reached> reachedThroughReads(String handle, long[] shape, Nodes graph,
      Map<String, FunctionDef> library, Map<String, Nodes> bodies) {
    List<Reached> reached = new ArrayList<>();
    List<At> frontier = new ArrayList<>(List.of(new At(handle, shape, graph)));
    Set<String> seen = new HashSet<>();
    while (!frontier.isEmpty()) {
      At at = frontier.remove(frontier.size() - 1);
      if (!seen.add(System.identityHashCode(at.nodes()) + "/" + at.name())) {
        continue;
      }
      for (Consumer c : at.nodes().consumers().getOrDefault(at.name(), List.of())) {
        String op = c.node().getOp();
        FunctionDef body = loopBody(c, library);
        if (PASS_THROUGH.contains(op)) {
          frontier.add(new At(c.node().getName(), at.shape(), at.nodes()));
        } else if (RESHAPES.contains(op) && c.inputIndex() == 0) {
          frontier.add(new At(c.node().getName(), StaticShapes.reshaped(c.node(), at.shape(), at.nodes().byName()),
              at.nodes()));
        } else if (body != null) {
          frontier.add(new At(body.getSignature().getInputArg(c.inputIndex()).getName(), at.shape(),
              bodies.computeIfAbsent(body.getSignature().getName(), b -> Nodes.of(body.getNodeDefList()))));
        } else {
          reached.add(new Reached(c, at.shape(), at.nodes()));
        }
      }
    }
    return reached;
  }

  /** The body of a {@code While} loop that receives a float weight as its input {@code c.inputIndex()}. */
  private static FunctionDef loopBody(Consumer c, Map<String, FunctionDef> library) {
    NodeDef node = c.node();
    if (!node.getOp().equals("While") && !node.getOp().equals("StatelessWhile")) {
      return null;
    }
    var types = node.getAttrOrThrow("T").getList().getTypeList();
    if (c.inputIndex() >= types.size() || types.get(c.inputIndex()) != org.tensorflow.proto.DataType.DT_FLOAT) {
      return null;
    }
    return library.get(node.getAttrOrThrow("body").getFunc().getName());
  }
}

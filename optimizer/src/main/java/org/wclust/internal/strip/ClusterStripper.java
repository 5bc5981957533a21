package org.wclust.internal.strip;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.GraphDefs;
import org.wclust.internal.bridge.GraphFreezer;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.ModelVariable;

/**
 * Strips a (clustered) flat model down to constants: evaluates every centroid gather in TensorFlow
 * and takes every variable read from the variable's value, then freezes those tensors into Const
 * nodes and prunes the variables and gathers away. Evaluating the gathers in TensorFlow, rather than
 * recomputing them in Java, means the constants are exactly what the trained graph computed.
 */
public final class ClusterStripper {
  private ClusterStripper() {}

  /** A constants-only graph and the values frozen into it, by the tensor they replaced. */
  public record Frozen(GraphDef graph, Map<String, HostTensor> values) {}

  /**
   * @param weightTensors extra tensors to freeze (the centroid-gather outputs), beside all variable reads
   */
  public static Frozen strip(FlatModel model, List<String> weightTensors) {
    // A variable read is the variable's value, which is at hand: only the centroid gathers are run in
    // TensorFlow, in a session holding just their subgraphs (not every weight of the model twice).
    Map<String, NodeDef> nodes = GraphDefs.byName(model.graph());
    List<String> reads = new ArrayList<>();
    List<String> computed = new ArrayList<>(weightTensors);
    for (NodeDef node : model.graph().getNodeList()) {
      if (node.getOp().equals("ReadVariableOp")) {
        String tensor = TensorRef.of(node.getName(), 0).withIndex();
        reads.add(tensor);
        if (readVariable(model, nodes, node) == null) {
          computed.add(tensor);
        }
      }
    }
    Map<String, HostTensor> evaluated = evaluateInBatches(model, computed);
    // Frozen in this order (the gathers, then the reads in graph order), which names the constants.
    Map<String, HostTensor> canonical = new LinkedHashMap<>();
    for (String tensor : weightTensors) {
      canonical.put(TensorRef.parse(tensor).toString(), evaluated.get(tensor));
    }
    for (String tensor : reads) {
      HostTensor value = evaluated.get(tensor);
      if (value == null) {
        value = readVariable(model, nodes, nodes.get(TensorRef.parse(tensor).node())).value();
      }
      canonical.put(TensorRef.parse(tensor).toString(), value);
    }
    List<String> outputs = model.signature().outputs().stream().map(TensorSpec::tensorName).toList();
    return new Frozen(GraphFreezer.freeze(model.graph(), canonical, outputs), canonical);
  }

  /**
   * Weights per evaluation session: a session holds a batch's original weights, indices, gathered
   * weights and the straight-through temporaries, about five copies; in batches of 8 M weights
   * (32 MB) that stays ~160 MB however big the model, for a few sessions more.
   */
  static final long BATCH_ELEMENTS = 8L << 20;

  /** {@link ModelSession#evaluate(FlatModel, List)} in batches of about {@link #BATCH_ELEMENTS} elements. */
  private static Map<String, HostTensor> evaluateInBatches(FlatModel model, List<String> tensors) {
    Map<String, Long> sizes = new java.util.HashMap<>();
    model.variables().values().forEach(v -> sizes.put(v.handleNode(), v.value().size()));
    Map<String, NodeDef> nodes = GraphDefs.byName(model.graph());
    Map<String, HostTensor> values = new LinkedHashMap<>();
    List<String> batch = new ArrayList<>();
    long elements = 0;
    for (String tensor : tensors) {
      long size = largestVariableUnder(nodes, sizes, TensorRef.parse(tensor).node());
      if (!batch.isEmpty() && elements + size > BATCH_ELEMENTS) {
        values.putAll(ModelSession.evaluate(model, batch));
        batch.clear();
        elements = 0;
      }
      batch.add(tensor);
      elements += size;
    }
    values.putAll(ModelSession.evaluate(model, batch));
    return values;
  }

  /**
   * The size of the largest variable a tensor is computed from, following inputs a few steps (a
   * gather's indices and original weight are its own variables, a handful of nodes away); 0 if none.
   */
  private static long largestVariableUnder(Map<String, NodeDef> nodes, Map<String, Long> sizes, String node) {
    long largest = 0;
    java.util.Deque<String> todo = new java.util.ArrayDeque<>(List.of(node));
    java.util.Set<String> seen = new java.util.HashSet<>();
    while (!todo.isEmpty() && seen.size() < 64) {
      String name = todo.pop();
      if (!seen.add(name)) {
        continue;
      }
      largest = Math.max(largest, sizes.getOrDefault(name, 0L));
      NodeDef n = nodes.get(name);
      if (n != null) {
        n.getInputList().forEach(in -> todo.push(TensorRef.parse(in).node()));
      }
    }
    return largest;
  }

  /** The model variable a ReadVariableOp reads (through Identity nodes on the handle); null if none. */
  private static ModelVariable readVariable(FlatModel model, Map<String, NodeDef> nodes, NodeDef read) {
    NodeDef handle = nodes.get(TensorRef.parse(read.getInput(0)).node());
    while (handle != null && handle.getOp().equals("Identity")) {
      handle = nodes.get(TensorRef.parse(handle.getInput(0)).node());
    }
    if (handle == null || !handle.getOp().equals("VarHandleOp")) {
      return null;
    }
    ModelVariable variable = model.variables().get(handle.getName());
    return variable != null && variable.value().dtype() == read.getAttrOrThrow("dtype").getType() ? variable : null;
  }
}

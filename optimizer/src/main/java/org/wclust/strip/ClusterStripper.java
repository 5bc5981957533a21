package org.wclust.strip;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.bridge.GraphDefs;
import org.wclust.bridge.GraphFreezer;
import org.wclust.bridge.HostTensor;
import org.wclust.bridge.TensorRef;
import org.wclust.bridge.TensorSpec;
import org.wclust.graph.FlatModel;
import org.wclust.graph.ModelSession;
import org.wclust.graph.ModelVariable;

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
    Map<String, HostTensor> evaluated = ModelSession.evaluate(model, computed);
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

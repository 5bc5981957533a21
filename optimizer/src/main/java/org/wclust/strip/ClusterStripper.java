package org.wclust.strip;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.bridge.GraphFreezer;
import org.wclust.bridge.HostTensor;
import org.wclust.bridge.TensorRef;
import org.wclust.bridge.TensorSpec;
import org.wclust.graph.FlatModel;
import org.wclust.graph.ModelSession;

/**
 * Strips a (clustered) flat model down to constants: runs the model once in TensorFlow to evaluate
 * every variable read and every centroid gather, then freezes those tensors into Const nodes and
 * prunes the variables and gathers away. Evaluating in TensorFlow, rather than recomputing in Java,
 * means the constants are exactly what the trained graph computed.
 */
public final class ClusterStripper {
  private ClusterStripper() {}

  /** A constants-only graph and the values frozen into it, by the tensor they replaced. */
  public record Frozen(GraphDef graph, Map<String, HostTensor> values) {}

  /**
   * @param weightTensors extra tensors to freeze (the centroid-gather outputs), beside all variable reads
   */
  public static Frozen strip(FlatModel model, List<String> weightTensors) {
    List<String> tensors = new ArrayList<>(weightTensors);
    for (NodeDef node : model.graph().getNodeList()) {
      if (node.getOp().equals("ReadVariableOp")) {
        tensors.add(TensorRef.of(node.getName(), 0).withIndex());
      }
    }
    Map<String, HostTensor> values = Map.of();
    if (!tensors.isEmpty()) { // a model without weights has nothing to evaluate
      try (ModelSession session = new ModelSession(model)) {
        values = session.evaluate(tensors);
      }
    }
    Map<String, HostTensor> canonical = new LinkedHashMap<>();
    values.forEach((tensor, value) -> canonical.put(TensorRef.parse(tensor).toString(), value));
    List<String> outputs = model.signature().outputs().stream().map(TensorSpec::tensorName).toList();
    return new Frozen(GraphFreezer.freeze(model.graph(), canonical, outputs), canonical);
  }
}

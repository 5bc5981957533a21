package org.wclust.bridge;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.proto.GraphDef;

/**
 * Freezes a graph: every tensor named in {@code values} is replaced by a Const node holding its value,
 * and whatever computed it before (variable reads, centroid gathers) is pruned away. The result, with
 * constants only, is what the TFLite converter accepts.
 */
public final class GraphFreezer {
  private GraphFreezer() {}

  public static GraphDef freeze(GraphDef graph, Map<String, HostTensor> values,
      Collection<String> outputTensors) {
    GraphDef.Builder withConstants = graph.toBuilder();
    Map<String, String> rewire = new HashMap<>();
    int i = 0;
    for (Map.Entry<String, HostTensor> e : values.entrySet()) {
      TensorRef ref = TensorRef.parse(e.getKey());
      String constName = "frozen/" + sanitize(ref.node()) + "_" + ref.index() + "_" + (i++);
      withConstants.addNode(GraphDefs.constant(constName, e.getValue()));
      rewire.put(ref.toString(), constName);
    }
    GraphDef rewired = GraphDefs.rewireInputs(withConstants.build(), rewire);
    return GraphDefs.prune(rewired, outputTensors);
  }

  private static String sanitize(String name) {
    return name.replaceAll("[^A-Za-z0-9_.\\-/]", "_");
  }
}

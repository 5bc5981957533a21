package org.wclust.internal.bridge;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
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
    Map<String, String> rewire = new HashMap<>();
    Map<String, HostTensor> constants = new LinkedHashMap<>();
    int i = 0;
    for (Map.Entry<String, HostTensor> e : values.entrySet()) {
      TensorRef ref = TensorRef.parse(e.getKey());
      String constName = "frozen/" + sanitize(ref.node()) + "_" + ref.index() + "_" + (i++);
      constants.put(constName, e.getValue());
      rewire.put(ref.toString(), constName);
    }
    GraphDef rewired = GraphDefs.rewireInputs(graph, rewire);
    // Only the constants the outputs still reach are made: serializing the others (e.g. the original
    // weight under a centroid gather) would copy weights only for the prune to drop them.
    Set<String> reached = GraphDefs.dependencies(rewired, outputTensors, constants.keySet());
    GraphDef.Builder withConstants = rewired.toBuilder();
    constants.forEach((name, value) -> {
      if (reached.contains(name)) {
        withConstants.addNode(GraphDefs.constant(name, value));
      }
    });
    return GraphDefs.prune(withConstants.build(), outputTensors);
  }

  private static String sanitize(String name) {
    return name.replaceAll("[^A-Za-z0-9_.\\-/]", "_");
  }
}

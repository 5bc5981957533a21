package org.wclust.bridge;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

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
    Set<String> reached = reachedConstants(rewired, constants.keySet(), outputTensors);
    GraphDef.Builder withConstants = rewired.toBuilder();
    constants.forEach((name, value) -> {
      if (reached.contains(name)) {
        withConstants.addNode(GraphDefs.constant(name, value));
      }
    });
    return GraphDefs.prune(withConstants.build(), outputTensors);
  }

  /** The names among {@code constants} that the outputs depend on, as {@link GraphDefs#prune} follows inputs. */
  private static Set<String> reachedConstants(GraphDef graph, Set<String> constants, Collection<String> outputs) {
    Map<String, NodeDef> nodes = GraphDefs.byName(graph);
    Set<String> seen = new HashSet<>();
    Set<String> reached = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    outputs.forEach(t -> todo.push(TensorRef.parse(t).node()));
    while (!todo.isEmpty()) {
      String name = todo.pop();
      if (!seen.add(name)) {
        continue;
      }
      if (constants.contains(name)) {
        reached.add(name);
        continue;
      }
      NodeDef node = nodes.get(name);
      if (node != null) { // a missing node fails in the prune, with its name
        node.getInputList().forEach(in -> todo.push(TensorRef.parse(in).node()));
      }
    }
    return reached;
  }

  private static String sanitize(String name) {
    return name.replaceAll("[^A-Za-z0-9_.\\-/]", "_");
  }
}

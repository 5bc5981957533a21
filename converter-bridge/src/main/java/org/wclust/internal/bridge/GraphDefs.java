package org.wclust.internal.bridge;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Small, pure operations on GraphDef protos shared by the loader, the rewriter and the freezer. */
public final class GraphDefs {
  private GraphDefs() {}

  /** Nodes by name, in graph order. */
  public static Map<String, NodeDef> byName(GraphDef graph) {
    Map<String, NodeDef> nodes = new LinkedHashMap<>();
    graph.getNodeList().forEach(n -> nodes.put(n.getName(), n));
    return nodes;
  }

  /**
   * Keeps only the nodes that the given tensors depend on (through data and control inputs), in
   * their original order; everything else (initialisers, savers, dead branches) is dropped.
   */
  public static GraphDef prune(GraphDef graph, Collection<String> outputTensors) {
    Set<String> keep = dependencies(graph, outputTensors, Set.of());
    GraphDef.Builder out = graph.toBuilder().clearNode();
    graph.getNodeList().stream().filter(n -> keep.contains(n.getName())).forEach(out::addNode);
    return out.build();
  }

  /**
   * The names of the nodes the given tensors depend on through data and control inputs, themselves
   * included; a name in {@code leaves} counts without being looked up or followed (it need not be in
   * the graph).
   */
  public static Set<String> dependencies(GraphDef graph, Collection<String> outputTensors, Set<String> leaves) {
    Map<String, NodeDef> nodes = byName(graph);
    Set<String> reached = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    outputTensors.forEach(t -> todo.push(TensorRef.parse(t).node()));
    while (!todo.isEmpty()) {
      String name = todo.pop();
      if (!reached.add(name) || leaves.contains(name)) {
        continue;
      }
      NodeDef node = nodes.get(name);
      if (node == null) {
        throw new IllegalArgumentException("graph has no node named " + name);
      }
      node.getInputList().forEach(in -> todo.push(TensorRef.parse(in).node()));
    }
    return reached;
  }

  /** Rewrites every data input that names a key of {@code replacements} (canonical form) to its value. */
  public static GraphDef rewireInputs(GraphDef graph, Map<String, String> replacements) {
    GraphDef.Builder out = graph.toBuilder();
    for (NodeDef.Builder node : out.getNodeBuilderList()) {
      for (int i = 0; i < node.getInputCount(); i++) {
        String in = TensorRef.parse(node.getInput(i)).toString();
        String to = replacements.get(in);
        if (to != null) {
          node.setInput(i, to);
        }
      }
    }
    return out.build();
  }

  /** A Const node holding {@code value}. */
  public static NodeDef constant(String name, HostTensor value) {
    return NodeDef.newBuilder()
        .setName(name)
        .setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(value.dtype()).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(value.toProto()).build())
        .build();
  }
}

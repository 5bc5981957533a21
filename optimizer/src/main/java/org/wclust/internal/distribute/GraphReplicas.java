package org.wclust.internal.distribute;

import java.util.HashSet;
import java.util.Set;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.TensorRef;

/**
 * Copies of a model graph, one per worker, that share its variables: every VarHandleOp is kept once
 * under its own name on task 0 (the parameter holder), every other node is copied as
 * {@code replica_I/NAME} onto task I, except the ops that take a variable's handle (reads, assigns),
 * which TensorFlow runs where the variable lives (task 0); their values then travel to task I.
 */
public final class GraphReplicas {
  private final GraphDef model;
  private final int count;
  /** Nodes whose output is a variable handle: the VarHandleOps (shared) and Identity nodes of them. */
  private final Set<String> handles = new HashSet<>();
  private final Set<String> shared = new HashSet<>();

  public GraphReplicas(GraphDef model, int count) {
    this.model = model;
    this.count = count;
    for (NodeDef node : model.getNodeList()) {
      if (node.getOp().equals("VarHandleOp")) {
        shared.add(node.getName());
        handles.add(node.getName());
      }
    }
    boolean grew = true;
    while (grew) {
      grew = false;
      for (NodeDef node : model.getNodeList()) {
        if (node.getOp().equals("Identity") && node.getInputCount() > 0
            && handles.contains(TensorRef.parse(node.getInput(0)).node())) {
          grew |= handles.add(node.getName());
        }
      }
    }
  }

  /** The scope of replica {@code replica}'s copy of the model. */
  public static String scope(int replica) {
    return "replica_" + replica;
  }

  /** The name in the replicated graph of the model's tensor or node {@code name} in replica {@code replica}. */
  public String name(int replica, String name) {
    TensorRef ref = TensorRef.parse(name);
    if (shared.contains(ref.node())) {
      return name;
    }
    String node = scope(replica) + "/" + ref.node();
    return ref.control() ? "^" + node : name.contains(":") ? node + ":" + ref.index() : node;
  }

  /** The model's variables once, and {@link #count} copies of the rest, placed as described above. */
  public GraphDef graph() {
    GraphDef.Builder out = model.toBuilder().clearNode();
    for (NodeDef node : model.getNodeList()) {
      if (shared.contains(node.getName())) {
        out.addNode(node.toBuilder().setDevice(WorkerCluster.device(0)));
      }
    }
    for (int r = 0; r < count; r++) {
      for (NodeDef node : model.getNodeList()) {
        if (shared.contains(node.getName())) {
          continue;
        }
        // Colocation hints ("loc:@NODE") would name nodes of the original graph and pull a replica's
        // ops onto another task; the placement below is the one wanted.
        NodeDef.Builder copy = node.toBuilder().setName(name(r, node.getName())).clearInput().removeAttr("_class");
        boolean takesHandle = handles.contains(node.getName());
        for (String input : node.getInputList()) {
          copy.addInput(name(r, input));
          takesHandle |= !TensorRef.parse(input).control() && handles.contains(TensorRef.parse(input).node());
        }
        copy.setDevice(WorkerCluster.device(takesHandle ? 0 : r));
        out.addNode(copy);
      }
    }
    return out.build();
  }

  /**
   * Places the nodes added to the replicated graph without a device: those under a replica's
   * {@code gradientScope} (its backward pass) on that replica's task, the rest (averaging, optimizer
   * updates, re-assignment, reading variables back) on task 0, with the variables.
   */
  public static GraphDef placeUnplaced(GraphDef graph, java.util.function.IntFunction<String> gradientScope,
      int count) {
    GraphDef.Builder out = graph.toBuilder();
    for (int i = 0; i < out.getNodeCount(); i++) {
      NodeDef node = out.getNode(i);
      if (!node.getDevice().isEmpty()) {
        continue;
      }
      int task = 0;
      for (int r = 0; r < count; r++) {
        if (node.getName().startsWith(gradientScope.apply(r) + "/")) {
          task = r;
        }
      }
      out.setNode(i, node.toBuilder().setDevice(WorkerCluster.device(task)));
    }
    return out.build();
  }

  /**
   * {@code graph} with each placeholder of {@code sources} (node name to tensor name) turned into an
   * Identity of that tensor, on the placeholder's device: an input computed in the graph (e.g. images
   * read on the replica's worker) instead of fed.
   */
  public static GraphDef inputsFrom(GraphDef graph, java.util.Map<String, String> sources) {
    GraphDef.Builder out = graph.toBuilder();
    java.util.Set<String> replaced = new HashSet<>();
    for (int i = 0; i < out.getNodeCount(); i++) {
      NodeDef node = out.getNode(i);
      String source = sources.get(node.getName());
      if (source == null) {
        continue;
      }
      if (!node.getOp().equals("Placeholder")) {
        throw new IllegalArgumentException(node.getName() + " is a " + node.getOp() + ", not a Placeholder");
      }
      // a GraphDef names output 0 by its node alone
      String input = source.endsWith(":0") ? source.substring(0, source.length() - 2) : source;
      out.setNode(i, NodeDef.newBuilder().setName(node.getName()).setOp("Identity").addInput(input)
          .setDevice(node.getDevice()).putAttr("T", node.getAttrOrThrow("dtype")).build());
      replaced.add(node.getName());
    }
    if (!replaced.equals(sources.keySet())) {
      throw new IllegalArgumentException("no placeholders " + sources.keySet() + " in the graph, found " + replaced);
    }
    return out.build();
  }
}

package org.wclust.internal.load;

import com.google.common.collect.ImmutableSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.TensorRef;

/**
 * Inlines a SavedModel's function call tree into one flat GraphDef. Keras exports keep the forward pass
 * in FunctionDefs called through (Stateful)PartitionedCall, which TF Java cannot differentiate through
 * or rewrite; the flat graph is plain nodes that can be. Function body nodes are copied under the call
 * node's name as prefix, function arguments are mapped to the call's inputs, {@code node:out_arg:i}
 * references are translated to graph indices, and nested calls are inlined recursively. Only the nodes
 * the requested outputs depend on are copied. Control dependencies are dropped: the flat graph computes
 * a pure function of its inputs and variables.
 */
public final class FunctionInliner {
  private static final ImmutableSet<String> CALL_OPS =
      ImmutableSet.of("StatefulPartitionedCall", "PartitionedCall");
  private static final ImmutableSet<String> CONTROL_FLOW_OPS =
      ImmutableSet.of("If", "StatelessIf", "Case", "StatelessCase");
  /** Loops stay loops: their cond/body functions are copied into the flat graph's library. */
  private static final ImmutableSet<String> LOOP_OPS = ImmutableSet.of("While", "StatelessWhile");

  private final Map<String, FunctionDef> library = new HashMap<>();
  private final OpRegistry registry = OpRegistry.get();
  private final GraphDef.Builder flat = GraphDef.newBuilder();
  /** Flat tensor names of already inlined nodes and calls, by their flat name. */
  private final Map<String, List<String>> emitted = new HashMap<>();

  private FunctionInliner(GraphDef graph) {
    graph.getLibrary().getFunctionList().forEach(f -> library.put(f.getSignature().getName(), f));
    flat.setVersions(graph.getVersions());
  }

  /** The flat graph computing {@code outputs}, and the flat names of those outputs. */
  public record Result(GraphDef graph, List<String> outputs) {}

  public static Result inline(GraphDef graph, List<String> outputs) {
    FunctionInliner inliner = new FunctionInliner(graph);
    Scope top = new Scope("", GraphDefsIndex.of(graph.getNodeList()), Map.of(), false);
    List<String> flatOutputs = new ArrayList<>();
    for (String out : outputs) {
      flatOutputs.add(inliner.resolve(top, out));
    }
    return new Result(LoopInvariantReads.hoist(inliner.flat.build()), flatOutputs);
  }

  /** One level of the call tree: the graph itself or one inlined function body. */
  private record Scope(String prefix, Map<String, NodeDef> nodes, Map<String, String> args,
      boolean functionBody) {}

  /** Flat tensor name for a data reference in {@code scope}. */
  private String resolve(Scope scope, String ref) {
    if (scope.functionBody()) {
      if (!ref.contains(":")) {
        String arg = scope.args().get(ref);
        if (arg == null) {
          throw new IllegalArgumentException("function argument " + ref + " is unknown");
        }
        return arg;
      }
      String[] parts = ref.split(":");
      NodeDef node = node(scope, parts[0]);
      int index = CALL_OPS.contains(node.getOp())
          ? Integer.parseInt(parts[2])
          : registry.flatOutputIndex(node, parts[1], Integer.parseInt(parts[2]));
      return output(scope, node, index);
    }
    TensorRef parsed = TensorRef.parse(ref);
    return output(scope, node(scope, parsed.node()), parsed.index());
  }

  private static NodeDef node(Scope scope, String name) {
    NodeDef node = scope.nodes().get(name);
    if (node == null) {
      throw new IllegalArgumentException("graph references a missing node: " + name);
    }
    return node;
  }

  private String output(Scope scope, NodeDef node, int index) {
    List<String> outs = emitted.get(scope.prefix() + node.getName());
    if (outs == null) {
      outs = CALL_OPS.contains(node.getOp()) ? inlineCall(scope, node) : copyNode(scope, node);
      emitted.put(scope.prefix() + node.getName(), outs);
    }
    if (CALL_OPS.contains(node.getOp())) {
      return outs.get(index);
    }
    return TensorRef.of(outs.get(0), index).toString();
  }

  /** Copies a plain node; returns a one-element list holding its flat node name. */
  private List<String> copyNode(Scope scope, NodeDef node) {
    if (CONTROL_FLOW_OPS.contains(node.getOp())) {
      throw new IllegalArgumentException(
          "control flow op " + node.getOp() + " (" + node.getName() + ") is not supported");
    }
    String name = scope.prefix() + node.getName();
    NodeDef.Builder copy = node.toBuilder().setName(name).clearInput().setDevice("");
    for (String in : node.getInputList()) {
      if (!in.startsWith("^")) {
        copy.addInput(resolve(scope, in));
      }
    }
    // Private attributes (colocation, output shapes, ...) may name nodes that no longer exist.
    List<String> privateAttrs = copy.getAttrMap().keySet().stream().filter(k -> k.startsWith("_")).toList();
    privateAttrs.forEach(copy::removeAttr);
    if (LOOP_OPS.contains(node.getOp())) {
      keepFunction(node.getAttrOrThrow("cond").getFunc().getName());
      keepFunction(node.getAttrOrThrow("body").getFunc().getName());
    }
    flat.addNode(copy);
    return List.of(name);
  }

  /** Inlines the function a call node invokes; returns the flat names of the call's outputs. */
  private List<String> inlineCall(Scope scope, NodeDef call) {
    String fname = call.getAttrOrThrow("f").getFunc().getName();
    FunctionDef fn = library.get(fname);
    if (fn == null) {
      throw new IllegalArgumentException("function " + fname + " is missing from the graph library");
    }
    List<String> callInputs = call.getInputList().stream().filter(i -> !i.startsWith("^")).toList();
    var inputArgs = fn.getSignature().getInputArgList();
    if (inputArgs.size() != callInputs.size()) {
      throw new IllegalArgumentException("call " + call.getName() + " passes " + callInputs.size()
          + " inputs to " + fname + ", which takes " + inputArgs.size());
    }
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i < inputArgs.size(); i++) {
      args.put(inputArgs.get(i).getName(), resolve(scope, callInputs.get(i)));
    }
    Scope body = new Scope(scope.prefix() + call.getName() + "/",
        GraphDefsIndex.of(fn.getNodeDefList()), args, true);
    List<String> outs = new ArrayList<>();
    for (var outArg : fn.getSignature().getOutputArgList()) {
      outs.add(resolve(body, fn.getRetOrThrow(outArg.getName())));
    }
    return outs;
  }

  /** Copies a function, and every function it references, into the flat graph's library (once). */
  private void keepFunction(String name) {
    if (flat.getLibrary().getFunctionList().stream().anyMatch(f -> f.getSignature().getName().equals(name))) {
      return;
    }
    FunctionDef fn = library.get(name);
    if (fn == null) {
      throw new IllegalArgumentException("function " + name + " is missing from the graph library");
    }
    flat.getLibraryBuilder().addFunction(fn);
    for (NodeDef node : fn.getNodeDefList()) {
      for (var attr : node.getAttrMap().values()) {
        if (attr.hasFunc()) {
          keepFunction(attr.getFunc().getName());
        }
      }
    }
  }

  /** Name index of a node list. */
  private static final class GraphDefsIndex {
    static Map<String, NodeDef> of(List<NodeDef> nodes) {
      Map<String, NodeDef> map = new HashMap<>();
      nodes.forEach(n -> map.put(n.getName(), n));
      return map;
    }
  }
}

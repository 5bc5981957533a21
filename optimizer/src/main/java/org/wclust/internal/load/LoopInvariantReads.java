package org.wclust.internal.load;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.TensorShapeProto;
import org.wclust.internal.bridge.TensorRef;

/**
 * Moves the variable reads of a {@code While} loop's body out of the loop. A Keras RNN layer passes its
 * kernels into the loop as resource handles that the body reads with ReadVariableOp at every step;
 * after this rewrite the loop receives the read value (a loop-invariant float input, which the body
 * returns unchanged) and the read sits in the outer graph, where clustering can rewire it to a
 * centroid-gather as it does for any other weight. The loop keeps its structure.
 *
 * <p>A resource input is hoisted only when the body reads it with ReadVariableOp and returns it
 * unchanged, and no other loop uses the same body function; anything else is left as it was.
 */
final class LoopInvariantReads {
  private LoopInvariantReads() {}

  static GraphDef hoist(GraphDef graph) {
    Map<String, NodeDef> nodes = new HashMap<>();
    graph.getNodeList().forEach(n -> nodes.put(n.getName(), n));
    Map<String, FunctionDef> functions = new HashMap<>();
    graph.getLibrary().getFunctionList().forEach(f -> functions.put(f.getSignature().getName(), f));
    Map<String, Integer> bodyUses = new HashMap<>();
    for (NodeDef n : graph.getNodeList()) {
      if (isLoop(n)) {
        bodyUses.merge(n.getAttrOrThrow("body").getFunc().getName(), 1, Integer::sum);
      }
    }
    GraphDef.Builder out = graph.toBuilder().clearNode();
    boolean changed = false;
    for (NodeDef node : graph.getNodeList()) {
      if (!isLoop(node) || bodyUses.get(node.getAttrOrThrow("body").getFunc().getName()) != 1) {
        out.addNode(node);
        continue;
      }
      NodeDef.Builder loop = node.toBuilder();
      String bodyName = node.getAttrOrThrow("body").getFunc().getName();
      String condName = node.getAttrOrThrow("cond").getFunc().getName();
      FunctionDef.Builder body = functions.get(bodyName).toBuilder();
      FunctionDef.Builder cond = functions.get(condName).toBuilder();
      List<DataType> types = new ArrayList<>(node.getAttrOrThrow("T").getList().getTypeList());
      for (int i = 0; i < types.size(); i++) {
        if (types.get(i) != DataType.DT_RESOURCE) {
          continue;
        }
        NodeDef handle = nodes.get(TensorRef.parse(node.getInput(i)).node());
        DataType dtype = handle == null || !handle.getOp().equals("VarHandleOp") ? null : readsOnly(body, i);
        if (dtype == null) {
          continue;
        }
        String read = node.getName() + "/wclust_read_" + i;
        out.addNode(NodeDef.newBuilder().setName(read).setOp("ReadVariableOp").addInput(node.getInput(i))
            .putAttr("dtype", AttrValue.newBuilder().setType(dtype).build()));
        loop.setInput(i, read);
        types.set(i, dtype);
        if (node.containsAttr("output_shapes")) {
          AttrValue.ListValue.Builder shapes = loop.getAttrOrThrow("output_shapes").getList().toBuilder();
          if (i < shapes.getShapeCount()) {
            shapes.setShape(i, TensorShapeProto.newBuilder().setUnknownRank(true));
            loop.putAttr("output_shapes", AttrValue.newBuilder().setList(shapes).build());
          }
        }
        readsBecomeIdentities(body, i, dtype);
        cond.getSignatureBuilder().getInputArgBuilder(i).setType(dtype);
        cond.removeArgAttr(i);
        unknownInputShape(body, i);
        unknownInputShape(cond, i);
        changed = true;
      }
      loop.putAttr("T", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addAllType(types)).build());
      functions.put(bodyName, body.build());
      functions.put(condName, cond.build());
      out.addNode(loop);
    }
    if (!changed) {
      return graph;
    }
    out.getLibraryBuilder().clearFunction();
    graph.getLibrary().getFunctionList().forEach(f -> out.getLibraryBuilder().addFunction(functions.get(f.getSignature().getName())));
    return out.build();
  }

  static boolean isLoop(NodeDef node) {
    return node.getOp().equals("While") || node.getOp().equals("StatelessWhile");
  }

  /**
   * The dtype the body reads argument {@code i} as, when its only uses are ReadVariableOps of one dtype
   * and returning it unchanged as output {@code i}; null otherwise.
   */
  private static DataType readsOnly(FunctionDef.Builder body, int i) {
    OpDef.Builder sig = body.getSignatureBuilder();
    String arg = sig.getInputArg(i).getName();
    if (!arg.equals(body.getRetOrDefault(sig.getOutputArg(i).getName(), ""))) {
      return null;
    }
    DataType dtype = null;
    for (NodeDef n : body.getNodeDefList()) {
      for (String in : n.getInputList()) {
        if (in.equals(arg) || in.startsWith(arg + ":")) {
          if (!n.getOp().equals("ReadVariableOp")) {
            return null;
          }
          DataType d = n.getAttrOrThrow("dtype").getType();
          if (dtype != null && dtype != d) {
            return null;
          }
          dtype = d;
        }
      }
    }
    for (Map.Entry<String, String> ret : body.getRetMap().entrySet()) {
      if (ret.getValue().equals(arg) && !ret.getKey().equals(sig.getOutputArg(i).getName())) {
        return null;
      }
    }
    return dtype;
  }

  /** The function's recorded {@code _input_shapes} had the handle's scalar shape for input {@code i}. */
  private static void unknownInputShape(FunctionDef.Builder fn, int i) {
    AttrValue shapes = fn.getAttrMap().get("_input_shapes");
    if (shapes != null && i < shapes.getList().getShapeCount()) {
      fn.putAttr("_input_shapes", AttrValue.newBuilder().setList(shapes.getList().toBuilder()
          .setShape(i, TensorShapeProto.newBuilder().setUnknownRank(true))).build());
    }
  }

  /** Argument {@code i} becomes a float input; each read of it an Identity (outputs renamed to match). */
  private static void readsBecomeIdentities(FunctionDef.Builder body, int i, DataType dtype) {
    OpDef.Builder sig = body.getSignatureBuilder();
    String arg = sig.getInputArg(i).getName();
    sig.getInputArgBuilder(i).setType(dtype);
    sig.getOutputArgBuilder(i).setType(dtype);
    body.removeArgAttr(i);
    body.removeResourceArgUniqueId(i);
    Map<String, String> renamed = new HashMap<>();
    for (NodeDef.Builder n : body.getNodeDefBuilderList()) {
      if (n.getOp().equals("ReadVariableOp") && n.getInput(0).equals(arg)) {
        n.setOp("Identity").removeAttr("dtype").removeAttr("_output_shapes")
            .putAttr("T", AttrValue.newBuilder().setType(dtype).build());
        renamed.put(n.getName() + ":value:", n.getName() + ":output:");
      }
    }
    for (NodeDef.Builder n : body.getNodeDefBuilderList()) {
      for (int k = 0; k < n.getInputCount(); k++) {
        n.setInput(k, rename(n.getInput(k), renamed));
      }
    }
    for (Map.Entry<String, String> ret : new HashMap<>(body.getRetMap()).entrySet()) {
      body.putRet(ret.getKey(), rename(ret.getValue(), renamed));
    }
  }

  private static String rename(String ref, Map<String, String> renamed) {
    for (Map.Entry<String, String> r : renamed.entrySet()) {
      if (ref.startsWith(r.getKey())) {
        return r.getValue() + ref.substring(r.getKey().length());
      }
    }
    return ref;
  }
}

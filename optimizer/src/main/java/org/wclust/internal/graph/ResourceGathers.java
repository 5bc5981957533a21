package org.wclust.internal.graph;

import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Rewrites every {@code ResourceGather(handle, indices)} (an embedding lookup on a resource variable,
 * as TF1 hub modules and {@code tf.gather(variable, ids)} write it) into
 * {@code GatherV2(ReadVariableOp(handle), indices, 0)}. The result is the same tensor, but the weight
 * now flows through a read that clustering can rewire, and TensorFlow's C++ gradients cover GatherV2
 * (not ResourceGather). The GatherV2 keeps the ResourceGather's name, so its consumers are unchanged.
 */
public final class ResourceGathers {
  private ResourceGathers() {}

  public static FlatModel asGatherV2(FlatModel model) {
    if (model.graph().getNodeList().stream().noneMatch(ResourceGathers::convertible)) {
      return model;
    }
    GraphDef.Builder graph = model.graph().toBuilder().clearNode();
    for (NodeDef node : model.graph().getNodeList()) {
      if (!convertible(node)) {
        graph.addNode(node);
        continue;
      }
      AttrValue dtype = node.getAttrOrThrow("dtype");
      AttrValue indexType = node.getAttrOrThrow("Tindices");
      String read = node.getName() + "/wclust_read";
      String axis = node.getName() + "/wclust_axis";
      graph.addNode(NodeDef.newBuilder().setName(read).setOp("ReadVariableOp").addInput(node.getInput(0))
          .putAttr("dtype", dtype).setDevice(node.getDevice()));
      graph.addNode(NodeDef.newBuilder().setName(axis).setOp("Const")
          .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
          .putAttr("value", AttrValue.newBuilder().setTensor(TensorProto.newBuilder().setDtype(DataType.DT_INT32)
              .setTensorShape(TensorShapeProto.getDefaultInstance()).addIntVal(0)).build()));
      NodeDef.Builder gather = NodeDef.newBuilder().setName(node.getName()).setOp("GatherV2")
          .addInput(read).addInput(node.getInput(1)).addInput(axis)
          .putAttr("Tparams", dtype).putAttr("Tindices", indexType)
          .putAttr("Taxis", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
          .putAttr("batch_dims", AttrValue.newBuilder().setI(0).build()).setDevice(node.getDevice());
      for (int i = 2; i < node.getInputCount(); i++) {
        gather.addInput(node.getInput(i)); // control inputs
      }
      graph.addNode(gather);
    }
    return FlatModel.of(graph.build(), model.signature(), model.variables());
  }

  private static boolean convertible(NodeDef node) {
    return node.getOp().equals("ResourceGather")
        && (!node.getAttrMap().containsKey("batch_dims") || node.getAttrOrThrow("batch_dims").getI() == 0);
  }
}

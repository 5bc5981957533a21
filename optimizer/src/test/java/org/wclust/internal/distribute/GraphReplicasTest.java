package org.wclust.internal.distribute;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Replicas share the variables, copy the rest per task, and read variables where they live. */
class GraphReplicasTest {
  private static NodeDef node(String name, String op, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(List.of(inputs)).build();
  }

  private static final GraphDef MODEL = GraphDef.newBuilder()
      .addNode(node("w", "VarHandleOp"))
      .addNode(node("w_alias", "Identity", "w"))
      .addNode(node("x", "Placeholder"))
      .addNode(node("read", "ReadVariableOp", "w_alias"))
      .addNode(node("y", "MatMul", "x", "read:0", "^read").toBuilder().putAttr("_class",
          org.tensorflow.proto.AttrValue.newBuilder().setList(org.tensorflow.proto.AttrValue.ListValue.newBuilder()
              .addS(com.google.protobuf.ByteString.copyFromUtf8("loc:@x"))).build()).build())
      .build();

  private static Map<String, NodeDef> byName(GraphDef g) {
    Map<String, NodeDef> out = new HashMap<>();
    g.getNodeList().forEach(n -> out.put(n.getName(), n));
    return out;
  }

  @Test
  void variablesOnceOnTaskZeroEverythingElseOncePerTask() {
    GraphReplicas replicas = new GraphReplicas(MODEL, 2);
    Map<String, NodeDef> g = byName(replicas.graph());
    assertEquals(1 + 2 * 4, g.size(), g.keySet().toString());
    assertEquals("/job:worker/replica:0/task:0", g.get("w").getDevice());
    for (int r = 0; r < 2; r++) {
      String p = "replica_" + r + "/";
      assertEquals("/job:worker/replica:0/task:" + r, g.get(p + "x").getDevice());
      assertEquals("/job:worker/replica:0/task:" + r, g.get(p + "y").getDevice());
      assertEquals(List.of(p + "x", p + "read:0", "^" + p + "read"), g.get(p + "y").getInputList());
      assertEquals(false, g.get(p + "y").containsAttr("_class"), "colocation hints name original nodes");
      // a handle (and whatever takes one) stays where the variable lives
      assertEquals("/job:worker/replica:0/task:0", g.get(p + "w_alias").getDevice());
      assertEquals("/job:worker/replica:0/task:0", g.get(p + "read").getDevice());
      assertEquals(List.of(p + "w_alias"), g.get(p + "read").getInputList());
      assertEquals(List.of("w"), g.get(p + "w_alias").getInputList());
    }
    assertEquals("replica_1/y:0", replicas.name(1, "y:0"));
    assertEquals("replica_1/y", replicas.name(1, "y"));
    assertEquals("w", replicas.name(1, "w"));
  }

  @Test
  void unplacedNodesGoToTheirReplicasBackwardPassOrToTaskZero() {
    GraphDef built = GraphDef.newBuilder()
        .addNode(node("replica_1_gradients/MatMul_grad", "MatMul"))
        .addNode(node("replica_0_gradients/MatMul_grad", "MatMul"))
        .addNode(node("wclust_train/update_0", "ResourceApplyAdam"))
        .addNode(node("replica_1_loss/loss", "Identity").toBuilder().setDevice("/job:worker/task:1").build())
        .build();
    Map<String, NodeDef> g = byName(GraphReplicas.placeUnplaced(built, r -> "replica_" + r + "_gradients", 2));
    assertEquals("/job:worker/replica:0/task:1", g.get("replica_1_gradients/MatMul_grad").getDevice());
    assertEquals("/job:worker/replica:0/task:0", g.get("replica_0_gradients/MatMul_grad").getDevice());
    assertEquals("/job:worker/replica:0/task:0", g.get("wclust_train/update_0").getDevice());
    assertEquals("/job:worker/task:1", g.get("replica_1_loss/loss").getDevice());
  }
}

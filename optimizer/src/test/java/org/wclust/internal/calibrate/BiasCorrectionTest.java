package org.wclust.internal.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

class BiasCorrectionTest {
  private static NodeDef node(String name, String op, String... inputs) {
    NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp(op);
    for (String in : inputs) {
      b.addInput(in);
    }
    return b.build();
  }

  /** Layers are corrected in data-flow order: a node's depth is its longest path from a source. */
  @Test
  void depthIsTheLongestPathFromASourceWhateverTheNodeOrder() {
    // Listed out of order; "skip" reaches "add" by a short path, "conv2" by a longer one; a control
    // input counts; a loop's back edge (NextIteration -> Merge) does not hang the walk.
    GraphDef graph = GraphDef.newBuilder()
        .addNode(node("add", "AddV2", "skip", "conv2:0"))
        .addNode(node("conv2", "Conv2D", "relu", "w2"))
        .addNode(node("relu", "Relu", "conv1"))
        .addNode(node("conv1", "Conv2D", "x", "w1", "^init"))
        .addNode(node("skip", "Identity", "x"))
        .addNode(node("x", "Placeholder"))
        .addNode(node("w1", "Const"))
        .addNode(node("w2", "Const"))
        .addNode(node("init", "NoOp", "w1"))
        .addNode(node("merge", "Merge", "x", "next"))
        .addNode(node("next", "NextIteration", "merge"))
        .build();
    Map<String, Integer> depth = BiasCorrection.depths(graph);
    assertEquals(0, depth.get("x"));
    assertEquals(1, depth.get("init"));
    assertEquals(2, depth.get("conv1"));
    assertEquals(3, depth.get("relu"));
    assertEquals(4, depth.get("conv2"));
    assertEquals(1, depth.get("skip"));
    assertEquals(5, depth.get("add"));
    assertEquals(11, depth.size());
  }
}

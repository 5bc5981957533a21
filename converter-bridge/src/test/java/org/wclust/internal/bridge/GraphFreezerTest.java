package org.wclust.internal.bridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

class GraphFreezerTest {
  /** y = x * w with w a resource variable: freezing the read makes y = x * const, with no variable left. */
  @Test
  void replacesAVariableReadByAConstantAndPrunesTheVariable() {
    GraphDef graph;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class);
      VarHandleOp w = tf.withName("w").varHandleOp(TFloat32.class, Shape.of(2));
      tf.withName("y").math.mul(x, tf.withName("w_read").readVariableOp(w, TFloat32.class));
      graph = g.toGraphDef();
    }
    GraphDef frozen = GraphFreezer.freeze(graph,
        Map.of("w_read", HostTensor.ofFloats(new long[] {2}, new float[] {2f, -3f})), List.of("y:0"));
    assertTrue(frozen.getNodeList().stream().noneMatch(n -> n.getOp().contains("Variable")));

    try (Graph g = new Graph(); Session s = new Session(g)) {
      g.importGraphDef(frozen);
      try (TFloat32 x = TFloat32.vectorOf(1f, 2f);
           Result r = s.runner().feed("x", x).fetch("y").run()) {
        assertArrayEquals(new float[] {2f, -6f}, HostTensor.copyOf(r.get(0)).toFloats());
      }
    }
  }

  @Test
  void writerRefusesAGraphWithVariables(@TempDir Path tmp) {
    GraphDef graph;
    try (Graph g = new Graph()) {
      Ops.create(g).withName("w").varHandleOp(TFloat32.class, Shape.of(2));
      graph = g.toGraphDef();
    }
    ServingSignature sig = new ServingSignature("serving_default",
        com.google.common.collect.ImmutableList.of(), com.google.common.collect.ImmutableList.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SavedModelWriter.write(tmp, graph, sig));
    assertTrue(e.getMessage().contains("not frozen"), e.getMessage());
  }
}

package org.wclust.internal.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;

/**
 * The tool's calls share one Python process (real Python TensorFlow from the project's .venv): its
 * answers and errors, and a new process when the last one died or served its share of calls.
 */
class ToolProcessTest {
  @Test
  void oneProcessConvertsInspectsAndReportsErrors(@TempDir Path tmp) throws Exception {
    PythonTensorFlow python = fresh();
    Path savedModel = tmp.resolve("matmul");
    writeMatMul(savedModel);
    Path tflite = tmp.resolve("matmul.tflite");

    JsonObject converted = python.runTool("convert", savedModel.toString(), tflite.toString());
    long pid = python.toolProcessId();
    assertEquals(Files.size(tflite), converted.get("tflite_bytes").getAsLong());
    // A failing command is answered with its one-line error; the process serves on.
    IOException e = assertThrows(IOException.class,
        () -> python.runTool("convert", tmp.resolve("missing").toString(), tmp.resolve("x.tflite").toString()));
    assertTrue(e.getMessage().startsWith("TFLite tool failed: tflite_tool: not a SavedModel directory"),
        e.getMessage());
    JsonArray weights = python.runTool("weights", tflite.toString()).getAsJsonArray("weights");
    assertEquals(1, weights.size(), weights.toString());
    JsonObject fc = weights.get(0).getAsJsonObject();
    assertEquals("FULLY_CONNECTED", fc.get("op").getAsString());
    assertEquals(3, fc.get("distinct").getAsInt(), "the kernel's values 1, 2, 2, 3, 3, 3");
    assertEquals(pid, python.toolProcessId(), "the same process served every call");

    // A process that died is replaced by the next call, which succeeds.
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(10, TimeUnit.SECONDS).join());
    assertEquals(1, python.runTool("weights", tflite.toString()).getAsJsonArray("weights").size());
    assertNotEquals(pid, python.toolProcessId());
  }

  @Test
  void aProcessIsReplacedAfterItsShareOfCalls() throws Exception {
    PythonTensorFlow python = fresh();
    // Bad arguments fail before TensorFlow is imported: cheap calls.
    IOException e = assertThrows(IOException.class, () -> python.runTool("no-such-command"));
    assertTrue(e.getMessage().contains("bad arguments: no-such-command"), e.getMessage());
    long first = python.toolProcessId();
    for (int call = 2; call <= ToolProcess.CALLS_PER_PROCESS; call++) {
      assertThrows(IOException.class, () -> python.runTool("no-such-command"));
      assertEquals(first, python.toolProcessId(), "call " + call);
    }
    assertThrows(IOException.class, () -> python.runTool("no-such-command"));
    assertNotEquals(first, python.toolProcessId(), "call " + (ToolProcess.CALLS_PER_PROCESS + 1));
  }

  /** An installation of its own, whose first call starts its first tool process. */
  private static PythonTensorFlow fresh() {
    return new PythonTensorFlow(PythonTensorFlow.require().python());
  }

  /** A frozen SavedModel computing y = x · [[1, 2, 2], [3, 3, 3]] for x of shape [1, 2]. */
  private static void writeMatMul(Path dir) throws IOException {
    GraphDef graph;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(1, 2)));
      tf.withName("y").linalg.matMul(x, tf.constant(new float[][] {{1, 2, 2}, {3, 3, 3}}));
      graph = g.toGraphDef();
    }
    ServingSignature signature = new ServingSignature("serving_default",
        ImmutableList.of(new TensorSpec("x", "x:0", DataType.DT_FLOAT, shape(1, 2))),
        ImmutableList.of(new TensorSpec("y", "y:0", DataType.DT_FLOAT, shape(1, 3))));
    SavedModelWriter.write(dir, graph, signature);
  }

  private static TensorShapeProto shape(long... dims) {
    TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
    for (long d : dims) {
      b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return b.build();
  }
}

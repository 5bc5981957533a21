package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoader;
import org.wclust.models.DemoCommand;
import org.wclust.cli.WclustCommand;
import picocli.CommandLine;

/**
 * The end-to-end contract on models made by real Keras: loading, clustering with the CLI,
 * conversion with the real TFLite converter, and interpreter parity.
 */
class EndToEndFixturesTest {
  private static final int K = 8;

  static List<Fixtures.Fixture> fixtures() {
    return Fixtures.all();
  }

  /** The flat (inlined) graph computes what Python TensorFlow computes for the original signature. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void flatGraphMatchesTheOriginalSignature(Fixtures.Fixture fixture, @TempDir Path tmp) throws Exception {
    FlatModel model = ModelLoader.load(fixture.path(), "serving_default");
    assertTrue(model.graph().getNodeList().stream().noneMatch(n -> n.getOp().endsWith("PartitionedCall")),
        "flat graph still has function calls");
    String inputKey = model.signature().inputs().get(0).key();
    HostTensor input = Fixtures.randomInput(fixture.inputShape(), 4, 7);
    Map<String, HostTensor> reference = pythonReference(fixture.path(), inputKey, input, tmp);
    Map<String, HostTensor> ours;
    try (ModelSession session = new ModelSession(model)) {
      ours = session.run(Map.of(inputKey, input));
    }
    assertEquals(reference.keySet(), ours.keySet());
    for (String key : reference.keySet()) {
      assertArrayEquals(reference.get(key).shape(), ours.get(key).shape());
      double diff = Fixtures.maxAbsDiff(reference.get(key), ours.get(key));
      assertTrue(diff <= 1e-6, key + ": max abs diff " + diff);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void clusterConvertAndRunInTflite(Fixtures.Fixture fixture, @TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("clustered");
    assertEquals(0, cli("cluster", fixture.path().toString(), "-o", out.toString(), "--clusters", String.valueOf(K)));
    assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));
    assertTrue(Files.isRegularFile(out.resolve("wclust-report.json")));

    // Independently of the report: every conv/matmul weight constant in OUT has at most K values.
    GraphDef graph = SavedModel.parseFrom(Files.readAllBytes(out.resolve("saved_model.pb")))
        .getMetaGraphs(0).getGraphDef();
    assertTrue(graph.getNodeList().stream().noneMatch(n -> n.getOp().contains("Variable")),
        "OUT must hold constants only");
    Map<String, Integer> weightConstants = weightConstantDistinctCounts(graph);
    assertFalse(weightConstants.isEmpty(), "no weight constants found in OUT");
    weightConstants.forEach((name, distinct) ->
        assertTrue(distinct <= K, name + " has " + distinct + " distinct values"));

    Path tflite = tmp.resolve("clustered.tflite");
    assertEquals(0, cli("convert", out.toString(), "-o", tflite.toString()));
    assertTrue(Files.size(tflite) > 0);

    // The .tflite computes what the exported SavedModel computes in TensorFlow (Java).
    String inputKey = ModelLoader.load(out, "serving_default").signature().inputs().get(0).key();
    Fixtures.assertTfliteComputesSavedModel(tflite, out,
        Map.of(inputKey, Fixtures.randomInput(fixture.inputShape(), 3, 11)), tmp);

    // Clusters survive conversion where nothing folds into them: FULLY_CONNECTED weights.
    Fixtures.assertFullyConnectedKeepAtMost(tflite, K);
  }

  /** Distinct value counts of the Const nodes feeding a conv filter or a matmul operand. */
  static Map<String, Integer> weightConstantDistinctCounts(GraphDef graph) {
    Map<String, NodeDef> nodes = new HashMap<>();
    graph.getNodeList().forEach(n -> nodes.put(n.getName(), n));
    Map<String, Integer> counts = new HashMap<>();
    for (NodeDef node : graph.getNodeList()) {
      List<Integer> positions = switch (node.getOp()) {
        case "Conv2D", "DepthwiseConv2dNative", "Conv3D", "Conv2DBackpropInput" -> List.of(1);
        case "MatMul", "BatchMatMulV2" -> List.of(0, 1);
        default -> List.of();
      };
      for (int p : positions) {
        NodeDef source = nodes.get(TensorRef.parse(node.getInput(p)).node());
        while (source != null && source.getOp().equals("Identity")) {
          source = nodes.get(TensorRef.parse(source.getInput(0)).node());
        }
        if (source != null && source.getOp().equals("Const")) {
          float[] values = HostTensor.fromProto(source.getAttrOrThrow("value").getTensor()).toFloats();
          Set<Float> distinct = new HashSet<>();
          for (float v : values) {
            distinct.add(v);
          }
          counts.put(source.getName(), distinct.size());
        }
      }
    }
    return counts;
  }

  static Map<String, HostTensor> pythonReference(Path model, String inputKey, HostTensor input, Path tmp)
      throws Exception {
    Path in = tmp.resolve("ref-in.json");
    Path out = tmp.resolve("ref-out.json");
    Files.writeString(in, Fixtures.tensorsJson("inputs", Map.of(inputKey, input)).toString());
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("savedmodel_run.py").toString(),
        model.toString(), in.toString(), out.toString());
    return Fixtures.readTensorsJson(out, "outputs");
  }

  static int cli(String... args) {
    CommandLine cli = WclustCommand.commandLine(new DemoCommand());
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    int code = cli.execute(args);
    if (code != 0) {
      System.err.println("wclust " + String.join(" ", args) + " -> " + code + ": " + err);
    }
    return code;
  }
}

package org.wclust;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.wclust.api.ClusterConfig;
import org.wclust.api.ClusterSummary;
import org.wclust.api.LayerReport;
import org.wclust.api.Wclust;
import org.wclust.internal.bridge.GraphDefs;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.graph.WeightTensor;
import org.wclust.internal.load.CheckpointReader;
import org.wclust.internal.load.ModelLoader;

/** A TF1 (VariableV2) SavedModel written by TF Java's own exporter, end to end. */
class TF1SavedModelTest {
  private static final float[] IDENTITY4 = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};

  @TempDir Path tmp;

  @Test
  void tfJavaExporterKeysCheckpointByVariableNodeName() throws Exception {
    Path dir = TfJavaModels.exportDense(tmp.resolve("m"));
    Map<String, HostTensor> values = new CheckpointReader(dir.resolve("variables/variables"))
        .read(Map.of("dense/kernel", DataType.DT_FLOAT, "dense/bias", DataType.DT_FLOAT));
    assertArrayEquals(new float[] {-1.5f, 1.5f, -1.25f, 1.75f, -1.125f, 1.875f,
        -0.875f, 2.125f, -0.75f, 2.25f, -0.5f, 2.5f}, values.get("dense/kernel").toFloats());
    assertArrayEquals(TfJavaModels.BIAS, values.get("dense/bias").toFloats());
  }

  @Test
  void loadedKernelIsClusterableAndBiasIsNot() throws Exception {
    FlatModel model = ModelLoader.load(TfJavaModels.exportDense(tmp.resolve("m")), "serving_default");
    Map<String, Boolean> clusterable = new java.util.HashMap<>();
    WeightDiscovery.discover(model).forEach(w -> clusterable.put(w.name(), w.clusterable()));
    assertEquals(Map.of("dense/kernel", true, "dense/bias", false), clusterable);
  }

  @Test
  void loadedModelComputesXWPlusB() throws Exception {
    FlatModel model = ModelLoader.load(TfJavaModels.exportDense(tmp.resolve("m")), "serving_default");
    float[] x = {1, 2, 3, 4, -0.5f, 0.25f, 8, -3};
    try (ModelSession session = new ModelSession(model)) {
      HostTensor y = session.run(Map.of("x", HostTensor.ofFloats(new long[] {2, 4}, x))).get("y");
      assertArrayEquals(new long[] {2, 3}, y.shape());
      assertArrayEquals(TfJavaModels.dense(x, TfJavaModels.KERNEL, TfJavaModels.BIAS), y.toFloats(), 1e-5f);
    }
  }

  /** TF Java's exporter leaves resource variables out of the checkpoint; their initialisers hold them. */
  @Test
  void resourceVariablesAreReadFromTheirConstantInitialisers() throws Exception {
    FlatModel model = ModelLoader.load(
        TfJavaModels.exportDenseWithResourceVariables(tmp.resolve("r")), "serving_default");
    float[] x = {1, 2, 3, 4, -0.5f, 0.25f, 8, -3};
    try (ModelSession session = new ModelSession(model)) {
      HostTensor y = session.run(Map.of("x", HostTensor.ofFloats(new long[] {2, 4}, x))).get("y");
      assertArrayEquals(TfJavaModels.dense(x, TfJavaModels.KERNEL, TfJavaModels.BIAS), y.toFloats(), 1e-5f);
    }
  }

  @Test
  void clusterToSavedModelWithK2WritesTwoValuedConstantKernel() throws Exception {
    Path in = TfJavaModels.exportDense(tmp.resolve("m"));
    Path out = tmp.resolve("out");
    ClusterSummary result = Wclust.cluster(in, out,
        ClusterConfig.builder().clusters(2).seed(0).measureTfliteSize(false).build());

    LayerReport layer = result.layers().get(0);
    assertEquals(1, result.layers().size());
    assertEquals("dense/kernel", layer.name());
    assertEquals(2, layer.distinctValues());
    assertTrue(Files.isRegularFile(out.resolve(Wclust.REPORT_FILE)));
    try (Stream<Path> siblings = Files.list(tmp)) {
      assertEquals(Set.of("m", "out"), siblings.map(p -> p.getFileName().toString())
          .collect(java.util.stream.Collectors.toSet()), "no staging directory left behind");
    }

    GraphDef graph = SavedModel.parseFrom(Files.readAllBytes(out.resolve("saved_model.pb")))
        .getMetaGraphs(0).getGraphDef();
    for (NodeDef n : graph.getNodeList()) {
      assertFalse(Set.of("VarHandleOp", "VariableV2", "ReadVariableOp").contains(n.getOp()), n.toString());
    }
    // The kernel is a Const feeding MatMul: each value replaced by its group's mean (-1 or 2).
    Map<String, NodeDef> nodes = GraphDefs.byName(graph);
    NodeDef matMul = graph.getNodeList().stream().filter(n -> n.getOp().equals("MatMul")).findFirst().orElseThrow();
    NodeDef kernel = nodes.get(TensorRef.parse(matMul.getInput(1)).node());
    assertEquals("Const", kernel.getOp());
    float[] clustered = {-1, 2, -1, 2, -1, 2, -1, 2, -1, 2, -1, 2};
    assertArrayEquals(clustered, HostTensor.fromProto(kernel.getAttrOrThrow("value").getTensor()).toFloats());

    // Reloaded and run on the identity: rows of the clustered kernel plus the bias.
    FlatModel reloaded = ModelLoader.load(out, "serving_default");
    try (ModelSession session = new ModelSession(reloaded)) {
      HostTensor y = session.run(Map.of("x", HostTensor.ofFloats(new long[] {4, 4}, IDENTITY4))).get("y");
      assertArrayEquals(new float[] {-0.5f, 1, 1, 2.5f, -2, 4, -0.5f, 1, 1, 2.5f, -2, 4}, y.toFloats());
    }
    List<WeightTensor> none = WeightDiscovery.discover(reloaded);
    assertTrue(none.isEmpty(), "the output holds no variables: " + none);
  }
}

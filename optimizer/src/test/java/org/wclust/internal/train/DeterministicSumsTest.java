package org.wclust.internal.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.TfJavaModels;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusterRewriter;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.graph.DeterministicSums;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.load.ModelLoader;

/**
 * Fine-tuning a model whose hidden activation feeds three ops (a residual block) gives the same weights,
 * bit for bit, on every run: the graph is trained with no float tensor feeding more than two inputs, so
 * every gradient sum is a sum of two, and the outputs are those of the model as loaded.
 */
class DeterministicSumsTest {
  @TempDir Path tmp;

  private FlatModel residual() throws Exception {
    return ModelLoader.load(TfJavaModels.exportResidual(tmp.resolve("m")), "serving_default");
  }

  /** Per tensor, how many op inputs it feeds. */
  private static Map<String, Integer> fanOut(GraphDef graph) {
    Map<String, Integer> uses = new HashMap<>();
    for (NodeDef node : graph.getNodeList()) {
      for (String input : node.getInputList()) {
        if (!input.startsWith("^")) {
          uses.merge(TensorRef.parse(input).toString(), 1, Integer::sum);
        }
      }
    }
    return uses;
  }

  @Test
  void noFloatTensorFeedsMoreThanTwoInputsAndTheOutputsStayTheSame() throws Exception {
    FlatModel model = residual();
    assertTrue(fanOut(model.graph()).values().stream().anyMatch(n -> n >= 3), "the model has a three-way fan-out");
    GraphDef split = DeterministicSums.binaryFanOut(model.graph());
    assertTrue(fanOut(split).values().stream().allMatch(n -> n <= 2), fanOut(split).toString());

    TensorSpec output = Evaluation.output(model, null);
    float[] x = new float[5 * 16];
    Random random = new Random(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    HostTensor input = HostTensor.ofFloats(new long[] {5, 16}, x);
    String inputName = ModelInputs.all(model).get(0).tensorName();
    assertArrayEquals(outputs(model, model.graph(), inputName, input, output), outputs(model, split, inputName, input, output));
  }

  @Test
  void aGraphWithoutWideFanOutIsLeftAsItIs() throws Exception {
    FlatModel dense = ModelLoader.load(TfJavaModels.exportDense(tmp.resolve("d")), "serving_default");
    assertSame(dense.graph(), DeterministicSums.binaryFanOut(dense.graph()));
  }

  /**
   * This small model rarely hits the scheduling race itself (it passed with the split turned off too);
   * DeterminismTest's fine-tuning of the functional_residual fixture is the test that fails without it.
   */
  @Test
  void fineTuningTheResidualModelGivesTheSameWeightsOnEveryRun() throws Exception {
    FlatModel model = residual();
    Map<String, Integer> targets = new LinkedHashMap<>();
    for (ModelVariable v : model.variables().values()) {
      if (v.name().endsWith("kernel")) {
        targets.put(v.name(), 8);
      }
    }
    ClusteredModel clustered = ClusterRewriter.cluster(model, targets, ClusterSettings.of(8, 0));
    TensorSpec output = Evaluation.output(clustered.model(), null);
    FineTuneOptions options = new FineTuneOptions(1, 256, TrainingOptimizer.Adam.DEFAULT, 1e-3f,
        LearningRateSchedule.CONSTANT, FineTuneOptions.LossKind.AUTO, false, 1f,
        FineTuneOptions.GradientAggregation.SUM, 1, null, 0L);
    Map<String, float[]> first = null;
    for (int run = 0; run < 6; run++) {
      Random random = new Random(7);
      try (TrainingGraph graph = new TrainingGraph(clustered, output, TrainingGraph.Objective.CROSSENTROPY_LOGITS,
          options)) {
        for (int step = 0; step < 4; step++) {
          float[] x = new float[256 * 16];
          int[] y = new int[256];
          for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
          }
          for (int i = 0; i < y.length; i++) {
            y[i] = random.nextInt(10);
          }
          graph.stepAndReassign(List.of(HostTensor.ofFloats(new long[] {256, 16}, x)),
              HostTensor.ofInts(new long[] {256}, y), 1e-3f, step);
        }
        Map<String, float[]> weights = new LinkedHashMap<>();
        graph.trainedModel().variables().values().stream().filter(v -> v.value().isFloat())
            .forEach(v -> weights.put(v.name(), v.value().toFloats()));
        if (first == null) {
          first = weights;
        } else {
          assertEquals(first.keySet(), weights.keySet());
          for (String name : first.keySet()) {
            assertArrayEquals(first.get(name), weights.get(name), name + " in run " + run);
          }
        }
      }
    }
  }

  private static float[] outputs(FlatModel model, GraphDef graph, String input, HostTensor x, TensorSpec output) {
    try (ModelSession session = new ModelSession(model, graph, org.tensorflow.Session::new);
        org.tensorflow.Tensor fed = x.toTensor();
        org.tensorflow.Result result = session.session().runner().feed(input, fed).fetch(output.tensorName()).run()) {
      return HostTensor.copyOf(result.get(0)).toFloats();
    }
  }
}

package org.wclust.internal.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.wclust.TfJavaModels;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusterRewriter;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.load.ModelLoader;

/**
 * The step with its re-assignment in one session run ({@link TrainingGraph#stepAndReassign}) against a
 * step and then a separate re-assignment run: the same variables, bit for bit, after every step.
 */
class TrainingGraphTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @EnumSource(FineTuneOptions.GradientAggregation.class)
  void aStepWithItsReassignmentInOneRunEqualsTheStepThenTheReassignment(
      FineTuneOptions.GradientAggregation aggregation) throws Exception {
    FlatModel model = ModelLoader.load(TfJavaModels.exportDense(tmp.resolve("m")), "serving_default");
    ClusteredModel clustered = ClusterRewriter.cluster(model, Map.of("dense/kernel", 3), ClusterSettings.of(3, 0));
    ClusteredLayer layer = clustered.layers().get(0);
    TensorSpec output = Evaluation.output(clustered.model(), null);
    // A large rate, so that weights cross midpoints and the indices change from step to step.
    FineTuneOptions options = new FineTuneOptions(1, 32, new TrainingOptimizer.Sgd(0.9f, false), 0.5f,
        LearningRateSchedule.CONSTANT, FineTuneOptions.LossKind.AUTO, false, 1f, aggregation, 1, null, 0L);
    Random random = new Random(7);
    int[] firstIndices = layer.clustering().indices();
    boolean indicesMoved = false;
    try (TrainingGraph apart = new TrainingGraph(clustered, output, TrainingGraph.Objective.CROSSENTROPY_LOGITS, options);
        TrainingGraph fused = new TrainingGraph(clustered, output, TrainingGraph.Objective.CROSSENTROPY_LOGITS, options)) {
      for (int step = 0; step < 8; step++) {
        float[] x = new float[32 * 4];
        int[] y = new int[32];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) random.nextGaussian() * 2;
        }
        for (int i = 0; i < y.length; i++) {
          y[i] = random.nextInt(3);
        }
        List<HostTensor> inputs = List.of(HostTensor.ofFloats(new long[] {32, 4}, x));
        HostTensor labels = HostTensor.ofInts(new long[] {32}, y);
        apart.step(inputs, labels, 0.5f, step);
        apart.reassign();
        fused.stepAndReassign(inputs, labels, 0.5f, step);
        Map<String, ModelVariable> expected = apart.trainedModel().variables();
        Map<String, ModelVariable> actual = fused.trainedModel().variables();
        for (Map.Entry<String, ModelVariable> e : expected.entrySet()) {
          HostTensor want = e.getValue().value();
          HostTensor got = actual.get(e.getKey()).value();
          String what = "variable " + e.getKey() + " after step " + step;
          if (want.isFloat()) {
            assertArrayEquals(want.toFloats(), got.toFloats(), what);
          } else {
            assertArrayEquals(want.toInts(), got.toInts(), what);
          }
        }
        indicesMoved |= !Arrays.equals(firstIndices,
            actual.get(layer.indicesHandle()).value().toInts());
      }
    }
    assertTrue(indicesMoved, "the re-assignments changed some index");
  }
}

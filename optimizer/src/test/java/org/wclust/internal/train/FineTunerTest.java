package org.wclust.internal.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.TfJavaModels;
import org.wclust.internal.cluster.ClusterRewriter;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.cluster.Granularity;
import org.wclust.internal.cluster.InitMethod;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.load.ModelLoader;
import org.wclust.internal.strip.ClusterStripper;

/**
 * Fine-tuning a clustered dense classifier ({@code y = x W + b}, W [4, 3], logits) on synthetic data
 * whose labels come from another W: the loss falls, accuracy rises, and the clustering's invariants
 * hold after training (k values per codebook, pinned zeros, indices = nearest centroid).
 */
class FineTunerTest {
  @TempDir Path tmp;

  private static final float[][] TEACHER = {
      {1f, -1f, 0.5f}, {-0.5f, 1f, 1f}, {2f, 0f, -1f}, {0f, 0.5f, -0.5f}};

  private FlatModel model() throws Exception {
    return ModelLoader.load(TfJavaModels.exportDense(tmp.resolve("m")), "serving_default");
  }

  private FlatModel model(float[][] kernel) throws Exception {
    return ModelLoader.load(TfJavaModels.exportDense(tmp.resolve("m"), kernel, TfJavaModels.BIAS), "serving_default");
  }

  /** 2000 Gaussian inputs labelled by the arg-max of x TEACHER. */
  private static Dataset data(boolean labelled) {
    Random random = new Random(1);
    int n = 2000;
    float[] x = new float[n * 4];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 4; j++) {
        x[i * 4 + j] = (float) random.nextGaussian();
      }
      float[] logits = TfJavaModels.dense(java.util.Arrays.copyOfRange(x, i * 4, i * 4 + 4), TEACHER, new float[3]);
      y[i] = Evaluation.argMax(logits, 0, 3);
    }
    return labelled ? Dataset.of(new long[] {4}, x, y) : Dataset.unlabeled(new long[] {4}, x);
  }

  private static ClusteredModel cluster(FlatModel model, ClusterSettings settings) {
    return ClusterRewriter.cluster(model, Map.of("dense/kernel", settings.clusters()), settings);
  }

  private static FineTuneOptions options(TrainingOptimizer optimizer, float lr, int epochs) {
    return new FineTuneOptions(epochs, 32, optimizer, lr, LearningRateSchedule.CONSTANT,
        FineTuneOptions.LossKind.AUTO, false, 1f, FineTuneOptions.GradientAggregation.SUM, 1, null, 0L);
  }

  /** Loss of each epoch's last step (the running mean over the epoch). */
  private static final class EpochLosses implements FineTuner.Listener {
    final List<Double> losses = new ArrayList<>();

    @Override
    public void onStep(int epoch, int step, int steps, double loss, double accuracy) {
      if (step == steps) {
        losses.add(loss);
      }
    }
  }

  private static float[] exportedKernel(ClusteredModel trained) {
    ClusteredLayer layer = trained.layers().get(0);
    return ClusterStripper.strip(trained.model(), List.of(layer.weightTensor())).values()
        .get(org.wclust.internal.bridge.TensorRef.parse(layer.weightTensor()).toString()).toFloats();
  }

  private static Set<Float> distinct(float[] values) {
    Set<Float> out = new HashSet<>();
    for (float v : values) {
      out.add(v == 0f ? 0f : v);
    }
    return out;
  }

  @Test
  void adamLowersTheLossRaisesAccuracyAndKeepsKValues() throws Exception {
    FlatModel model = model();
    ClusteredModel clustered = cluster(model, ClusterSettings.of(3, 0));
    Dataset data = data(true);
    double before = Evaluation.accuracy(clustered.model(), data, null);
    EpochLosses listener = new EpochLosses();
    FineTuner.Result r = FineTuner.fineTune(model, clustered, data,
        options(TrainingOptimizer.Adam.DEFAULT, 0.05f, 4), listener);
    ClusteredModel trained = clustered.withTrainedValues(r.model(), model, false);

    assertEquals(4 * 63, r.steps(), "2000 examples in batches of 32, 4 epochs");
    assertTrue(listener.losses.get(3) < listener.losses.get(0), "loss per epoch " + listener.losses);
    double after = Evaluation.accuracy(trained.model(), data, null);
    assertTrue(after > before + 0.1, "accuracy " + before + " -> " + after);
    assertTrue(distinct(exportedKernel(trained)).size() <= 3);
    assertTrue(r.trainableVariables().containsAll(List.of("dense/kernel", "dense/bias", "dense/kernel/centroids")),
        r.trainableVariables().toString());
    assertEquals("cross-entropy (logits)", r.objective());
  }

  @Test
  void afterTrainingEveryIndexIsTheNearestCentroidOfTheTrainedOriginalWeight() throws Exception {
    FlatModel model = model();
    ClusteredModel clustered = cluster(model, ClusterSettings.of(3, 0));
    FineTuner.Result r = FineTuner.fineTune(model, clustered, data(true),
        options(new TrainingOptimizer.Sgd(0.9f, false), 0.05f, 1), FineTuner.Listener.NONE);
    ClusteredLayer layer = clustered.layers().get(0);
    float[] original = r.model().variables().get(layer.weight().handleNode()).value().toFloats();
    float[] centroids = r.model().variables().get(layer.centroidsHandle()).value().toFloats();
    int[] indices = r.model().variables().get(layer.indicesHandle()).value().toInts();
    assertTrue(!java.util.Arrays.equals(original,
        model.variables().get(layer.weight().handleNode()).value().toFloats()), "the original weight trained");
    for (int i = 0; i < original.length; i++) {
      int best = 0;
      for (int c = 1; c < centroids.length; c++) {
        if (Math.abs(original[i] - centroids[c]) < Math.abs(original[i] - centroids[best])) {
          best = c;
        }
      }
      assertEquals(best, indices[i], "element " + i);
    }
  }

  @Test
  void withoutReassignmentTheIndicesStayAsClustered() throws Exception {
    FlatModel model = model();
    ClusteredModel clustered = cluster(model, ClusterSettings.of(3, 0));
    FineTuneOptions noReassign = new FineTuneOptions(1, 32, TrainingOptimizer.Adam.DEFAULT, 0.05f,
        LearningRateSchedule.COSINE, FineTuneOptions.LossKind.AUTO, false, 1f,
        FineTuneOptions.GradientAggregation.MEAN, 0, null, 0L);
    FineTuner.Result r = FineTuner.fineTune(model, clustered, data(true), noReassign, FineTuner.Listener.NONE);
    ClusteredLayer layer = clustered.layers().get(0);
    assertArrayEquals(layer.clustering().indices(), r.model().variables().get(layer.indicesHandle()).value().toInts());
    assertTrue(!java.util.Arrays.equals(layer.clustering().codebook(),
        r.model().variables().get(layer.centroidsHandle()).value().toFloats()), "the centroids trained");
  }

  @Test
  void perChannelCodebooksKeepKValuesPerOutputChannel() throws Exception {
    FlatModel model = model();
    ClusterSettings settings = new ClusterSettings(2, InitMethod.DEFAULT, true, Granularity.CHANNEL, false, 0);
    ClusteredModel clustered = cluster(model, settings);
    FineTuner.Result r = FineTuner.fineTune(model, clustered, data(true),
        options(TrainingOptimizer.Adam.DEFAULT, 0.05f, 2), FineTuner.Listener.NONE);
    float[] w = exportedKernel(clustered.withTrainedValues(r.model(), model, false));
    for (int channel = 0; channel < 3; channel++) {
      float[] column = {w[channel], w[3 + channel], w[6 + channel], w[9 + channel]};
      assertTrue(distinct(column).size() <= 2, "channel " + channel + ": " + distinct(column));
    }
    assertTrue(distinct(w).size() > 2, "three channels of their own codebooks: " + distinct(w));
  }

  @Test
  void preservedZerosStayZeroThroughTraining() throws Exception {
    float[][] sparse = {{0f, 1.5f, -1.25f}, {1.75f, 0f, 1.875f}, {-0.875f, 2.125f, 0f}, {0f, -0.5f, 2.5f}};
    FlatModel model = model(sparse);
    ClusterSettings settings = new ClusterSettings(3, InitMethod.DEFAULT, true, Granularity.TENSOR, true, 0);
    ClusteredModel clustered = cluster(model, settings);
    FineTuner.Result r = FineTuner.fineTune(model, clustered, data(true),
        options(TrainingOptimizer.Adam.DEFAULT, 0.05f, 2), FineTuner.Listener.NONE);
    float[] w = exportedKernel(clustered.withTrainedValues(r.model(), model, false));
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 3; j++) {
        if (sparse[i][j] == 0f) {
          assertEquals(0f, w[i * 3 + j], 0f, "pruned weight [" + i + "][" + j + "]");
        }
      }
    }
    assertTrue(distinct(w).contains(0f) && distinct(w).size() <= 3, distinct(w).toString());
  }

  /** The teacher computes x TEACHER; the student starts as another model, clustered. */
  @Test
  void distillationNeedsNoLabelsAndMovesTowardsTheTeacher() throws Exception {
    FlatModel teacher = ModelLoader.load(TfJavaModels.exportDense(tmp.resolve("teacher"), TEACHER, new float[3]),
        "serving_default");
    ClusteredModel clustered = cluster(model(), ClusterSettings.of(3, 0));
    double before = Evaluation.accuracy(clustered.model(), data(true), null);
    FineTuneOptions distill = options(TrainingOptimizer.Adam.DEFAULT, 0.02f, 3).withDistill(true);
    EpochLosses listener = new EpochLosses();
    FineTuner.Result r = FineTuner.fineTune(teacher, clustered, data(false), distill, listener);
    assertTrue(listener.losses.get(2) < listener.losses.get(0), "KL per epoch " + listener.losses);
    assertTrue(r.objective().startsWith("distillation"), r.objective());
    // The data's labels are the teacher's arg-max, which training never saw.
    double after = Evaluation.accuracy(clustered.withTrainedValues(r.model(), teacher, false).model(), data(true), null);
    assertTrue(after > before + 0.1, "agreement with the teacher " + before + " -> " + after);
  }

  @Test
  void labelsAreRequiredUnlessDistilling() throws Exception {
    FlatModel model = model();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FineTuner.fineTune(model,
        cluster(model, ClusterSettings.of(3, 0)), data(false), options(TrainingOptimizer.Adam.DEFAULT, 0.01f, 1),
        FineTuner.Listener.NONE));
    assertTrue(e.getMessage().contains("--distill"), e.getMessage());
  }

  /** The same inputs with float targets x TEACHER (regression on the three outputs). */
  private static Dataset regressionData() {
    Dataset d = data(false);
    float[] inputs = d.batchInputs(Evaluation.range(0, d.size())).toFloats();
    float[] targets = new float[d.size() * 3];
    for (int i = 0; i < d.size(); i++) {
      float[] y = TfJavaModels.dense(java.util.Arrays.copyOfRange(inputs, i * 4, i * 4 + 4), TEACHER, new float[3]);
      System.arraycopy(y, 0, targets, i * 3, 3);
    }
    return Dataset.withTargets(new long[] {4}, inputs, new long[] {3}, targets);
  }

  private static FineTuneOptions mse(boolean distill) {
    return new FineTuneOptions(3, 32, TrainingOptimizer.Adam.DEFAULT, 0.05f, LearningRateSchedule.CONSTANT,
        FineTuneOptions.LossKind.MSE, distill, 1f, FineTuneOptions.GradientAggregation.SUM, 1, null, 0L);
  }

  @Test
  void meanSquaredErrorAgainstFloatTargetsFalls() throws Exception {
    FlatModel model = model();
    ClusteredModel clustered = cluster(model, ClusterSettings.of(4, 0));
    Dataset data = regressionData();
    double before = Evaluation.meanSquaredError(clustered.model(), data, null);
    FineTuner.Result r = FineTuner.fineTune(model, clustered, data, mse(false), FineTuner.Listener.NONE);
    double after = Evaluation.meanSquaredError(clustered.withTrainedValues(r.model(), model, false).model(), data, null);
    assertTrue(after < before / 2, "mse " + before + " -> " + after);
    assertEquals("mean squared error", r.objective());
    assertTrue(Double.isNaN(r.finalAccuracy()));
  }

  @Test
  void distillingARegressionModelMatchesTheTeachersOutputs() throws Exception {
    FlatModel teacher = ModelLoader.load(TfJavaModels.exportDense(tmp.resolve("teacher"), TEACHER, new float[3]),
        "serving_default");
    ClusteredModel clustered = cluster(model(), ClusterSettings.of(4, 0));
    Dataset targets = regressionData(); // x TEACHER: what the teacher outputs, for scoring only
    double before = Evaluation.meanSquaredError(clustered.model(), targets, null);
    FineTuner.Result r = FineTuner.fineTune(teacher, clustered, data(false), mse(true), FineTuner.Listener.NONE);
    double after = Evaluation.meanSquaredError(clustered.withTrainedValues(r.model(), teacher, false).model(),
        targets, null);
    assertTrue(after < before / 2, "mse to the teacher " + before + " -> " + after);
  }
}

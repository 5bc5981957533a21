package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.api.AccuracyReport;
import org.wclust.api.ClusterConfig;
import org.wclust.api.ClusterSummary;
import org.wclust.api.Datasets;
import org.wclust.api.Examples;
import org.wclust.api.FineTuning;
import org.wclust.api.LayerReport;
import org.wclust.api.Wclust;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.load.ModelLoader;

/**
 * Fine-tuning a Keras file trains its training-mode graph: BatchNorm normalises with batch statistics
 * and updates its moving averages, dropout is active; the trained values are exported through the
 * inference graph. The {@code convs} fixture (Conv2D, SeparableConv2D + BatchNormalization,
 * SpatialDropout2D, Dropout, ... to 5 logits) learns to reproduce its own arg-max on random inputs.
 */
class KerasFineTuningTest {
  @TempDir Path tmp;

  private static final int K = 2;

  /** 512 random inputs labelled by the original model's arg-max. */
  private static Examples selfLabelled(FlatModel model, long[] shape, int classes) {
    Random random = new Random(3);
    int n = 512;
    int size = (int) (shape[0] * shape[1] * shape[2]);
    float[] x = new float[n * size];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    TensorSpec input = model.signature().inputs().get(0);
    TensorSpec output = model.signature().outputs().get(0);
    float[] logits;
    try (ModelSession session = new ModelSession(model)) {
      logits = session.run(Map.of(input.key(), HostTensor.ofFloats(new long[] {n, shape[0], shape[1], shape[2]}, x)),
          List.of(output.tensorName())).get(output.tensorName()).toFloats();
    }
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      for (int c = 1; c < classes; c++) {
        if (logits[i * classes + c] > logits[i * classes + labels[i]]) {
          labels[i] = c;
        }
      }
    }
    return Datasets.of(shape, x, labels);
  }

  private static ClusterConfig config(boolean foldBatchNorm, Examples data, boolean validate) {
    FineTuning tuning = FineTuning.builder().epochs(4).batchSize(32).learningRate(1e-3f).build();
    ClusterConfig.Builder b = ClusterConfig.builder().clusters(K).foldBatchNorm(foldBatchNorm)
        .bnSafeSpread(10).measureTfliteSize(false).fineTune(data, tuning);
    return (validate ? b.validation(data) : b).build();
  }

  private static float[] variable(FlatModel model, String nameSuffix) {
    return model.variables().values().stream().filter(v -> v.name().endsWith(nameSuffix)).findFirst()
        .map(ModelVariable::value).map(HostTensor::toFloats).orElseThrow(() -> new AssertionError(nameSuffix));
  }

  @Test
  void withoutFoldingTheTrainingModeGraphIsTrainedAndExported() throws Exception {
    Path model = KerasFixtures.keras("convs").file();
    Examples data = selfLabelled(ModelLoader.load(model, ModelLoader.DEFAULT_SIGNATURE), new long[] {12, 12, 3}, 5);
    ClusterSummary r = Wclust.cluster(model, tmp.resolve("training"), config(false, data, true));
    String graph = r.fineTuning().orElseThrow().graph();
    assertTrue(graph.startsWith("Keras training mode"), graph);
    // The BatchNorm update ops ran with the steps: the moving statistics moved (the .keras output of the
    // same run writes them back).
    Wclust.cluster(model, tmp.resolve("training.keras"), config(false, data, false));
    FlatModel original = ModelLoader.load(model, ModelLoader.DEFAULT_SIGNATURE);
    FlatModel trained = ModelLoader.load(tmp.resolve("training.keras"), ModelLoader.DEFAULT_SIGNATURE);
    for (String stat : List.of("moving_mean", "moving_variance")) {
      assertFalse(Arrays.equals(variable(original, stat), variable(trained, stat)), stat);
    }
    // Training helped the exported model (inference graph with the trained values).
    AccuracyReport a = r.accuracy().orElseThrow();
    assertTrue(a.fineTuned() > a.clustered(), "clustered " + a.clustered() + ", fine-tuned " + a.fineTuned());
    for (LayerReport layer : r.layers()) {
      assertTrue(layer.distinctValues() <= K, layer.name() + ": " + layer.distinctValues());
    }
  }

  /**
   * With BatchNorm folded (the default) the training twin is folded the same way and keeps dropout
   * active; its dilated convolutions run in SpaceToBatchND form, so they train too.
   */
  @Test
  void withBatchNormFoldedTheFoldedTrainingTwinIsTrained() throws Exception {
    Path model = KerasFixtures.keras("convs").file();
    Examples data = selfLabelled(ModelLoader.load(model, ModelLoader.DEFAULT_SIGNATURE), new long[] {12, 12, 3}, 5);
    ClusterSummary r = Wclust.cluster(model, tmp.resolve("folded"), config(true, data, true));
    assertEquals(1, r.foldedBatchNorm().size(), r.foldedBatchNorm().toString());
    String graph = r.fineTuning().orElseThrow().graph();
    assertTrue(graph.startsWith("Keras training mode with BatchNorm folded"), graph);
    AccuracyReport a = r.accuracy().orElseThrow();
    assertTrue(a.fineTuned() > a.clustered(), "clustered " + a.clustered() + ", fine-tuned " + a.fineTuned());
  }

  /**
   * A SavedModel has no training twin: a dilated convolution in its graph (a Conv2D op with dilations,
   * as {@code tf.nn.conv2d(..., dilations=2)} saves it) is refused with one line, not a JVM crash
   * (TF Java's oneDNN kernels die on its gradient).
   */
  @Test
  void dilatedConvolutionsInASavedModelAreRefused() throws Exception {
    Path savedModel = tmp.resolve("dilated");
    Path data = tmp.resolve("data.npz");
    Fixtures.runPython("-c", String.join("\n",
        "import numpy as np, tensorflow as tf",
        "class M(tf.Module):",
        "  def __init__(self):",
        "    self.w = tf.Variable(tf.random.stateless_normal([3, 3, 1, 2], seed=[0, 1]))",
        "    self.d = tf.Variable(tf.random.stateless_normal([32, 2], seed=[0, 2]))",
        "  @tf.function(input_signature=[tf.TensorSpec([None, 8, 8, 1], tf.float32)])",
        "  def __call__(self, x):",
        "    y = tf.nn.conv2d(x, self.w, strides=1, padding='VALID', dilations=2)",
        "    return {'output_0': tf.matmul(tf.reshape(y, [-1, 32]), self.d)}",
        "m = M()",
        "tf.saved_model.save(m, '" + savedModel + "', signatures={'serving_default': m.__call__})",
        "r = np.random.default_rng(0)",
        "np.savez('" + data + "', x=r.standard_normal((16, 8, 8, 1)).astype(np.float32), y=r.integers(0, 2, 16))"));
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cli = org.wclust.cli.WclustCommand.commandLine();
    cli.setErr(new java.io.PrintWriter(err, true));
    cli.setOut(new java.io.PrintWriter(new java.io.StringWriter(), true));
    int code = cli.execute("cluster", savedModel.toString(), "-o", tmp.resolve("out").toString(), "--clusters", "2",
        "--data", data.toString(), "--no-size");
    assertEquals(2, code, err.toString());
    assertTrue(err.toString().strip().lines().count() == 1 && err.toString().contains("dilated"), err.toString());
  }
}

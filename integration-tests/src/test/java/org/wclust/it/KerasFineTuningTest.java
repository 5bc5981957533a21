package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.api.ClusterOptions;
import org.wclust.api.ClusterResult;
import org.wclust.api.LayerReport;
import org.wclust.api.Wclust;
import org.wclust.bridge.HostTensor;
import org.wclust.bridge.TensorSpec;
import org.wclust.cluster.ClusterPlan;
import org.wclust.cluster.ClusterSettings;
import org.wclust.data.Dataset;
import org.wclust.graph.FlatModel;
import org.wclust.graph.ModelSession;
import org.wclust.graph.ModelVariable;
import org.wclust.load.ModelLoader;
import org.wclust.train.FineTuneOptions;
import org.wclust.train.LearningRateSchedule;
import org.wclust.train.TrainingOptimizer;

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
  private static Dataset selfLabelled(FlatModel model, long[] shape, int classes) {
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
    return Dataset.of(shape, x, labels);
  }

  private static ClusterOptions options(boolean foldBatchNorm, Dataset data) {
    FineTuneOptions tuning = new FineTuneOptions(4, 32, TrainingOptimizer.Adam.DEFAULT, 1e-3f,
        LearningRateSchedule.CONSTANT, FineTuneOptions.LossKind.AUTO, false, 1f,
        FineTuneOptions.GradientAggregation.SUM, 1, null, 0L);
    return new ClusterOptions(ClusterPlan.of(OptionalInt.of(K), null, null),
        ClusterSettings.of(2, 0), ModelLoader.DEFAULT_SIGNATURE, foldBatchNorm, false)
        .withFineTuning(data, tuning, data);
  }

  private static float[] variable(FlatModel model, String nameSuffix) {
    return model.variables().values().stream().filter(v -> v.name().endsWith(nameSuffix)).findFirst()
        .map(ModelVariable::value).map(HostTensor::toFloats).orElseThrow(() -> new AssertionError(nameSuffix));
  }

  @Test
  void withoutFoldingTheTrainingModeGraphIsTrainedAndExported() throws Exception {
    Path model = KerasFixtures.keras("convs").file();
    Dataset data = selfLabelled(ModelLoader.load(model, ModelLoader.DEFAULT_SIGNATURE), new long[] {12, 12, 3}, 5);
    ClusterResult r = Wclust.clusterToSavedModel(model, tmp.resolve("training"), options(false, data));
    assertTrue(r.fineTuning().graph().startsWith("Keras training mode"), r.fineTuning().graph());
    // The BatchNorm update ops ran with the steps: the moving statistics moved.
    FlatModel original = ModelLoader.load(KerasFixtures.keras("convs").file(), ModelLoader.DEFAULT_SIGNATURE);
    for (String stat : List.of("moving_mean", "moving_variance")) {
      assertFalse(Arrays.equals(variable(original, stat), variable(r.fineTuning().model(), stat)), stat);
    }
    // Training helped the exported model (inference graph with the trained values).
    assertTrue(r.accuracy().fineTuned() > r.accuracy().clustered(),
        "clustered " + r.accuracy().clustered() + ", fine-tuned " + r.accuracy().fineTuned());
    for (LayerReport layer : r.layers()) {
      assertTrue(layer.distinctValues() <= K, layer.name() + ": " + layer.distinctValues());
    }
  }

  /** With BatchNorm folded (the default) the folded inference graph is trained, as for a SavedModel. */
  @Test
  void withBatchNormFoldedTheInferenceGraphIsTrained() throws Exception {
    Path model = KerasFixtures.keras("bn_train").file();
    FlatModel original = ModelLoader.load(model, ModelLoader.DEFAULT_SIGNATURE);
    Dataset data = selfLabelled(original, new long[] {6, 6, 2}, 3);
    ClusterResult r = Wclust.clusterToSavedModel(model, tmp.resolve("folded"), options(true, data));
    assertEquals(2, r.foldedBatchNorm().size(), r.foldedBatchNorm().toString());
    assertTrue(r.fineTuning().graph().startsWith("inference graph"), r.fineTuning().graph());
    assertTrue(r.accuracy().fineTuned() >= r.accuracy().clustered(),
        "clustered " + r.accuracy().clustered() + ", fine-tuned " + r.accuracy().fineTuned());
  }

  /** A dilated convolution in the graph to train is refused with a message, not a JVM crash. */
  @Test
  void dilatedConvolutionsInTheInferenceGraphAreRefused() throws Exception {
    Path model = KerasFixtures.keras("convs").file();
    Dataset data = selfLabelled(ModelLoader.load(model, ModelLoader.DEFAULT_SIGNATURE), new long[] {12, 12, 3}, 5);
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Wclust.clusterToSavedModel(model, tmp.resolve("dilated"), options(true, data)));
    assertTrue(e.getMessage().contains("dilated"), e.getMessage());
  }

  /**
   * {@code -o OUT.keras} with {@code --data}: the file holds the fine-tuned weights (clustered kernels,
   * biases, BatchNorm parameters and moving statistics), so Keras predict on it equals the SavedModel
   * fine-tuned the same way (same seed, --no-fold-bn), and differs from the file without fine-tuning.
   */
  @Test
  void fineTunedKerasFileLoadsInKerasWithTheFineTunedOutputs() throws Exception {
    KerasFixtures.Case c = KerasFixtures.keras("convs");
    Path data = tmp.resolve("data.npz");
    Fixtures.runPython("-c", "import numpy as np; r = np.random.default_rng(0); np.savez('" + data + "', "
        + "x=r.standard_normal((256, 12, 12, 3)).astype(np.float32), y=r.integers(0, 5, 256))");
    Path tuned = tmp.resolve("tuned.keras");
    Path plain = tmp.resolve("plain.keras");
    Path savedModel = tmp.resolve("tuned");
    String[] tuning = {"--clusters", String.valueOf(K), "--data", data.toString(), "--epochs", "2",
        "--learning-rate", "0.001"};
    assertEquals(0, EndToEndFixturesTest.cli(concat(new String[] {"cluster", c.file().toString(), "-o",
        tuned.toString()}, tuning)));
    assertEquals(0, EndToEndFixturesTest.cli("cluster", c.file().toString(), "-o", plain.toString(),
        "--clusters", String.valueOf(K)));
    assertEquals(0, EndToEndFixturesTest.cli(concat(new String[] {"cluster", c.file().toString(), "-o",
        savedModel.toString(), "--no-fold-bn", "--no-size"}, tuning)));

    Map<String, HostTensor> inputs = KerasFixtures.tensors(KerasFixtures.record(c).getAsJsonObject("inputs"));
    Path in = tmp.resolve("in.json");
    java.nio.file.Files.writeString(in, KerasFixtures.inputsJson(inputs).toString());
    Map<String, HostTensor> tunedKeras = kerasPredict(tuned, in);
    Map<String, HostTensor> exported;
    try (ModelSession session = new ModelSession(ModelLoader.load(savedModel, ModelLoader.DEFAULT_SIGNATURE))) {
      exported = session.run(inputs);
    }
    KerasParityTest.assertClose(tunedKeras, exported, "fine-tuned .keras (Keras predict) vs fine-tuned SavedModel");
    double change = Fixtures.maxAbsDiff(tunedKeras.get("output_0"), kerasPredict(plain, in).get("output_0"));
    assertTrue(change > 1e-3, "fine-tuning changed the outputs by only " + change);
  }

  private Map<String, HostTensor> kerasPredict(Path keras, Path inputs) throws Exception {
    Path result = tmp.resolve(keras.getFileName() + ".json");
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("keras_predict.py").toString(), keras.toString(),
        inputs.toString(), result.toString());
    com.google.gson.JsonObject predicted = com.google.gson.JsonParser.parseString(
        java.nio.file.Files.readString(result)).getAsJsonObject();
    predicted.getAsJsonObject("weights").entrySet().forEach(w ->
        assertTrue(w.getValue().getAsInt() <= K, w.getKey() + " has " + w.getValue() + " values in Keras"));
    return Fixtures.readTensorsJson(result, "outputs");
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}

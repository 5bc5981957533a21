package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.load.keras.KerasGraphBuilder.KerasGraph;
import org.wclust.internal.load.keras.KerasModelLoader;
import org.wclust.internal.cluster.ClusterPlan;
import org.wclust.internal.cluster.ClusterRewriter;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.load.ModelLoader;
import org.wclust.internal.strip.ClusterStripper;
import org.wclust.internal.train.FineTuneOptions;
import org.wclust.internal.train.FineTuner;
import org.wclust.internal.train.KerasTraining;
import java.util.OptionalInt;

/**
 * The training-mode graph built from the same layer code: BatchNormalization normalises with the
 * batch's statistics and its update ops move the moving statistics as Keras does
 * ({@code model(x, training=True)}); Dropout and SpatialDropout2D drop and rescale.
 */
class KerasTrainingModeTest {
  @ParameterizedTest
  @ValueSource(strings = {"keras", "h5"})
  void batchNormUsesBatchStatisticsAndUpdatesMovingOnes(String format) throws Exception {
    KerasFixtures.Case c = KerasFixtures.keras("bn_train");
    Path file = c.file().resolveSibling("bn_train." + format);
    JsonObject record = KerasFixtures.record(c);
    Map<String, HostTensor> inputs = KerasFixtures.tensors(record.getAsJsonObject("inputs"));
    KerasGraph training = KerasModelLoader.loadTraining(file, "serving_default");
    assertEquals(4, training.updateOps().size(), "two BatchNorm layers, mean and variance each");

    Map<String, HostTensor> outputs = runWithUpdates(training, inputs);
    KerasParityTest.assertClose(KerasFixtures.tensors(record.getAsJsonObject("training_outputs")), outputs,
        "training-mode graph");
  }

  /** Runs the outputs and the update ops once; returns the outputs and then the moving statistics. */
  private static Map<String, HostTensor> runWithUpdates(KerasGraph training, Map<String, HostTensor> inputs)
      throws Exception {
    FlatModel model = training.model();
    Map<String, HostTensor> outputs = new LinkedHashMap<>();
    try (ModelSession session = new ModelSession(model)) {
      Session.Runner runner = session.session().runner();
      List<Tensor> fed = new ArrayList<>();
      for (TensorSpec spec : model.signature().inputs()) {
        Tensor t = inputs.get(spec.key()).toTensor();
        fed.add(t);
        runner.feed(spec.tensorName(), t);
      }
      model.signature().outputs().forEach(s -> runner.fetch(s.tensorName()));
      training.updateOps().forEach(runner::addTarget);
      try (Result result = runner.run()) {
        for (int i = 0; i < model.signature().outputs().size(); i++) {
          outputs.put(model.signature().outputs().get(i).key(), HostTensor.copyOf(result.get(i)));
        }
      } finally {
        fed.forEach(Tensor::close);
      }
      // the moving statistics after this one training step
      JsonObject record = KerasFixtures.record(KerasFixtures.keras("bn_train"));
      Map<String, HostTensor> expectedMoving = KerasFixtures.tensors(record.getAsJsonObject("moving_after_training"));
      Map<String, HostTensor> moving = new LinkedHashMap<>();
      for (String name : expectedMoving.keySet()) {
        ModelVariable v = model.variables().values().stream().filter(x -> x.name().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no variable " + name));
        String read = WeightDiscovery.reads(model, v.handleNode()).get(0).getName() + ":0";
        moving.put(name, session.evaluate(List.of(read)).get(read));
      }
      KerasParityTest.assertClose(expectedMoving, moving, "moving statistics after one step");
    }
    return outputs;
  }

  /**
   * Without BatchNorm and dropout the training graph computes what Keras predict computes; this
   * pins the training form of dilated convolutions (SpaceToBatchND around the convolution), and that
   * attention and the unrolled recurrent layers are the same graph in both modes.
   */
  @ParameterizedTest
  @ValueSource(strings = {"dilated", "sequence", "activations", "merge_multi_io", "attention", "recurrent"})
  void trainingGraphWithoutBatchNormOrDropoutMatchesPredict(String name) throws Exception {
    KerasFixtures.Case c = KerasFixtures.keras(name);
    JsonObject record = KerasFixtures.record(c);
    KerasGraph training = KerasModelLoader.loadTraining(c.file(), "serving_default");
    Map<String, HostTensor> ours;
    try (ModelSession session = new ModelSession(training.model())) {
      ours = session.run(KerasFixtures.tensors(record.getAsJsonObject("inputs")));
    }
    KerasParityTest.assertClose(KerasFixtures.tensors(record.getAsJsonObject("outputs")), ours, "training graph");
  }

  /**
   * Fine-tuning needs gradients: every trainable weight of every training-mode fixture graph gets
   * a finite gradient of the summed outputs (GELU's Erfc through wclust's registered gradient; the
   * attention Einsums; the unrolled LSTM, GRU, SimpleRNN and Bidirectional layers).
   */
  @ParameterizedTest
  @ValueSource(strings = {"convs", "activations", "merge_multi_io", "sequence", "bn_train", "dilated", "attention",
      "recurrent"})
  void trainingGraphIsDifferentiable(String name) throws Exception {
    KerasFixtures.Case c = KerasFixtures.keras(name);
    Map<String, HostTensor> inputs = KerasFixtures.tensors(KerasFixtures.record(c).getAsJsonObject("inputs"));
    KerasGraph training = KerasModelLoader.loadTraining(c.file(), "serving_default");
    FlatModel model = training.model();
    try (ModelSession session = new ModelSession(model)) {
      Graph g = session.graph();
      List<Output<?>> weights = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (ModelVariable v : model.variables().values()) {
        if (!v.name().contains("moving_")) {
          weights.add(g.operation(WeightDiscovery.reads(model, v.handleNode()).get(0).getName()).output(0));
          names.add(v.name());
        }
      }
      Output<?>[] outputs = model.signature().outputs().stream()
          .map(o -> g.operation(o.tensorName().replaceFirst(":0$", "")).output(0)).toArray(Output<?>[]::new);
      Output<?>[] gradients = g.addGradients(null, outputs, weights.toArray(new Output<?>[0]), null);
      Session.Runner runner = session.session().runner();
      List<Tensor> fed = new ArrayList<>();
      for (TensorSpec spec : model.signature().inputs()) {
        Tensor t = inputs.get(spec.key()).toTensor();
        fed.add(t);
        runner.feed(spec.tensorName(), t);
      }
      for (Output<?> grad : gradients) {
        runner.fetch(grad);
      }
      try (Result result = runner.run()) {
        for (int i = 0; i < gradients.length; i++) {
          float[] grad = HostTensor.copyOf(result.get(i)).toFloats();
          for (float v : grad) {
            assertTrue(Float.isFinite(v), names.get(i) + " has a non-finite gradient");
          }
        }
      } finally {
        fed.forEach(Tensor::close);
      }
    }
  }

  /**
   * Fine-tuning a Keras file trains its training-mode graph: BatchNorm's moving statistics move
   * during training (they are frozen when training an inference graph), and the trained values put
   * back into the inference graph keep K values per clustered kernel.
   */
  @Test
  void fineTuningAKerasFileTrainsItsTrainingGraph() throws Exception {
    Path file = KerasFixtures.keras("bn_train").file();
    FlatModel model = ModelLoader.load(file, ModelLoader.DEFAULT_SIGNATURE);
    Map<String, Integer> plan = ClusterPlan.of(OptionalInt.of(4), null, null).resolve(WeightDiscovery.discover(model));
    ClusteredModel clustered = ClusterRewriter.cluster(model, plan, ClusterSettings.of(2, 0), false);
    ClusteredModel twin = KerasTraining.twin(file, ModelLoader.DEFAULT_SIGNATURE, false, false, clustered);
    assertTrue(twin.model().graph().getNodeList().stream().anyMatch(n -> n.getOp().equals("AssignVariableOp")),
        "the twin updates BatchNorm statistics");

    java.util.Random random = new java.util.Random(3);
    float[] x = new float[64 * 6 * 6 * 2];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    int[] y = random.ints(64, 0, 3).toArray();
    FineTuner.Result tuned = FineTuner.fineTune(model, twin, Dataset.of(new long[] {6, 6, 2}, x, y),
        FineTuneOptions.defaults().withEpochs(2), FineTuner.Listener.NONE);
    int moved = 0;
    for (ModelVariable v : model.variables().values()) {
      if (v.name().endsWith("moving_mean") || v.name().endsWith("moving_variance")) {
        float[] before = v.value().toFloats();
        float[] after = tuned.model().variables().get(v.handleNode()).value().toFloats();
        moved += java.util.Arrays.equals(before, after) ? 0 : 1;
      }
    }
    assertEquals(4, moved, "every moving statistic of both BatchNorm layers moved");

    ClusteredModel back = clustered.withTrainedValues(KerasTraining.trainedInference(clustered, tuned.model()),
        model, false);
    List<String> weights = back.layers().stream().map(ClusteredLayer::weightTensor).toList();
    Map<String, HostTensor> frozen = ClusterStripper.strip(back.model(), weights).values();
    for (String w : weights) {
      int distinct = WeightDiscovery.distinct(frozen.get(org.wclust.internal.bridge.TensorRef.parse(w).toString()).toFloats());
      assertTrue(distinct <= 4, w + " has " + distinct + " values after fine-tuning");
    }
  }

  /** The same through the CLI, with BatchNorm folded (the default) and not. */
  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void clusterWithDataFineTunesAKerasFile(boolean foldBatchNorm, @org.junit.jupiter.api.io.TempDir Path tmp) {
    KerasFixtures.manifest();
    Path out = tmp.resolve("out");
    List<String> args = new ArrayList<>(List.of("cluster", KerasFixtures.keras("bn_train").file().toString(),
        "-o", out.toString(), "--clusters", "4", "--data", KerasFixtures.DIR.resolve("bn_train_data.npz").toString(),
        "--epochs", "1", "--no-size"));
    if (!foldBatchNorm) {
      args.add("--no-fold-bn");
    }
    assertEquals(0, EndToEndFixturesTest.cli(args.toArray(new String[0])));
    assertTrue(java.nio.file.Files.isRegularFile(out.resolve("saved_model.pb")));
  }

  @Test
  void erfcGradientIsMinusTwoOverSqrtPiTimesGaussian() throws Exception {
    KerasModelLoader.load(KerasFixtures.keras("activations").file(), "serving_default"); // registers it
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      float[] xs = {-2f, -0.5f, 0f, 0.7f, 1.5f};
      Operand<TFloat32> x = tf.constant(xs);
      Output<?>[] grad = g.addGradients(null, new Output<?>[] {tf.math.erfc(x).asOutput()},
          new Output<?>[] {x.asOutput()}, null);
      try (Result r = s.runner().fetch(grad[0]).run()) {
        float[] dx = HostTensor.copyOf(r.get(0)).toFloats();
        for (int i = 0; i < xs.length; i++) {
          assertEquals(-2 / Math.sqrt(Math.PI) * Math.exp(-xs[i] * xs[i]), dx[i], 1e-6);
        }
      }
    }
  }

  @Test
  void dropoutDropsAndRescalesInTrainingModeOnly() throws Exception {
    KerasFixtures.Case c = KerasFixtures.keras("dropouts");
    Map<String, HostTensor> inputs = KerasFixtures.tensors(KerasFixtures.record(c).getAsJsonObject("inputs"));
    float[] x = inputs.get("image").toFloats();
    KerasGraph training = KerasModelLoader.loadTraining(c.file(), "serving_default");
    assertTrue(training.updateOps().isEmpty());
    Map<String, HostTensor> out;
    try (ModelSession session = new ModelSession(training.model())) {
      out = session.run(inputs);
    }
    // Dropout(0.3): each element is 0 or x / 0.7; about 30 % are 0.
    float[] y = out.get("output_1").toFloats();
    int zeros = 0;
    for (int i = 0; i < y.length; i++) {
      if (y[i] == 0f) {
        zeros++;
      } else {
        assertEquals(x[i] / 0.7f, y[i], 1e-5 * Math.max(1, Math.abs(y[i])));
      }
    }
    double rate = zeros / (double) y.length;
    assertTrue(Math.abs(rate - 0.3) < 0.03, "Dropout(0.3) dropped " + rate);

    // SpatialDropout2D(0.5): whole channels (per sample) are 0 or x / 0.5.
    float[] s = out.get("output_0").toFloats();
    long[] shape = out.get("output_0").shape(); // [N, 8, 8, C]
    int n = (int) shape[0];
    int pixels = (int) (shape[1] * shape[2]);
    int channels = (int) shape[3];
    int dropped = 0;
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < channels; ch++) {
        boolean zero = s[(b * pixels) * channels + ch] == 0f;
        for (int p = 0; p < pixels; p++) {
          int i = (b * pixels + p) * channels + ch;
          assertEquals(zero ? 0f : x[i] / 0.5f, s[i], 1e-5 * Math.max(1, Math.abs(s[i])));
        }
        dropped += zero ? 1 : 0;
      }
    }
    double channelRate = dropped / (double) (n * channels);
    assertTrue(Math.abs(channelRate - 0.5) < 0.15, "SpatialDropout2D(0.5) dropped " + channelRate);
    assertFalse(dropped == 0 || dropped == n * channels);
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.CsvSource;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoader;

/**
 * {@code wclust cluster model.keras --clusters 8}: the SavedModel output converts to .tflite, every
 * FULLY_CONNECTED weight there has at most 8 distinct values, and the interpreter computes what the
 * clustered SavedModel computes in TensorFlow.
 */
class KerasClusterTest {
  private static final int K = 8;

  static List<KerasFixtures.Case> cases() {
    return KerasFixtures.all().stream()
        .filter(c -> List.of("convs.keras", "activations.h5", "merge_multi_io.keras", "sequence.h5",
            "tf_keras_functional.h5").contains(c.toString()))
        .toList();
  }

  /**
   * {@code -o OUT.keras}: Keras 3 loads the file, every kernel there has at most K values, and Keras
   * predict equals both wclust's graph of that file and the SavedModel clustered with the same
   * settings. With BatchNorm folding (the default), Keras' own TFLite conversion of the file
   * ({@code from_keras_model}, which folds BN itself) keeps at most K values in every conv and
   * dense weight: the folded BN stays in the file as an exact shift.
   */
  @ParameterizedTest(name = "{0} fold={1}")
  @CsvSource({"convs,true", "bn_train,true", "bn_train,false", "merge_multi_io,true", "sequence,true",
      "attention,true"})
  void clusteredKerasFileLoadsInKerasWithTheSameOutputs(String name, boolean fold, @TempDir Path tmp)
      throws Exception {
    KerasFixtures.Case c = KerasFixtures.keras(name);
    Path keras = tmp.resolve("clustered.keras");
    Path savedModel = tmp.resolve("clustered");
    List<String> common = fold ? List.of("--clusters", String.valueOf(K))
        : List.of("--clusters", String.valueOf(K), "--no-fold-bn");
    List<String> toKeras = new ArrayList<>(List.of("cluster", c.file().toString(), "-o", keras.toString()));
    toKeras.addAll(common);
    List<String> toSavedModel = new ArrayList<>(List.of("cluster", c.file().toString(), "-o", savedModel.toString(),
        "--no-size"));
    toSavedModel.addAll(common);
    assertEquals(0, EndToEndFixturesTest.cli(toKeras.toArray(new String[0])));
    assertEquals(0, EndToEndFixturesTest.cli(toSavedModel.toArray(new String[0])));

    Map<String, HostTensor> inputs = KerasFixtures.tensors(KerasFixtures.record(c).getAsJsonObject("inputs"));
    Path in = tmp.resolve("in.json");
    Path result = tmp.resolve("keras.json");
    Path tflite = tmp.resolve("from_keras.tflite");
    Files.writeString(in, Fixtures.tensorsJson("inputs", inputs).toString());
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("keras_predict.py").toString(), keras.toString(),
        in.toString(), result.toString(), tflite.toString());
    JsonObject keras3 = JsonParser.parseString(Files.readString(result)).getAsJsonObject();
    assertFalse(keras3.getAsJsonObject("weights").isEmpty());
    keras3.getAsJsonObject("weights").entrySet().forEach(w ->
        assertTrue(w.getValue().getAsInt() <= K, w.getKey() + " has " + w.getValue() + " values in Keras"));
    Map<String, HostTensor> predicted = Fixtures.readTensorsJson(result, "outputs");

    for (Path model : List.of(keras, savedModel)) {
      Map<String, HostTensor> ours;
      try (ModelSession session = new ModelSession(ModelLoader.load(model, ModelLoader.DEFAULT_SIGNATURE))) {
        ours = session.run(inputs);
      }
      KerasParityTest.assertClose(predicted, ours, "wclust " + model.getFileName() + " vs Keras predict");
    }
    if (fold) {
      for (JsonElement e : Fixtures.python().runTool("weights", tflite.toString()).getAsJsonArray("weights")) {
        JsonObject w = e.getAsJsonObject();
        assertTrue(w.get("distinct").getAsInt() <= K, w.get("op").getAsString() + " "
            + w.get("tensor").getAsString() + " has " + w.get("distinct") + " values in Keras' own .tflite");
      }
    }
  }

  /**
   * {@code -o OUT.keras --data --no-fold-bn}: fine-tuned on the training-mode graph; Keras loads the file, its
   * kernels keep K values, BatchNorm's moving statistics in it have moved, and Keras predict
   * equals wclust's graph of the file.
   */
  @org.junit.jupiter.api.Test
  void fineTunedKerasFileLoadsInKeras(@TempDir Path tmp) throws Exception {
    KerasFixtures.Case c = KerasFixtures.keras("bn_train");
    Path keras = tmp.resolve("tuned.keras");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", c.file().toString(), "-o", keras.toString(),
        "--clusters", "4", "--data", KerasFixtures.DIR.resolve("bn_train_data.npz").toString(), "--epochs", "2",
        "--no-fold-bn")); // BatchNorm kept, so its moving statistics are trained, not folded away
    Map<String, HostTensor> inputs = KerasFixtures.tensors(KerasFixtures.record(c).getAsJsonObject("inputs"));
    Path in = tmp.resolve("in.json");
    Path result = tmp.resolve("keras.json");
    Files.writeString(in, Fixtures.tensorsJson("inputs", inputs).toString());
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("keras_predict.py").toString(), keras.toString(),
        in.toString(), result.toString());
    JsonObject keras3 = JsonParser.parseString(Files.readString(result)).getAsJsonObject();
    keras3.getAsJsonObject("weights").entrySet().forEach(w ->
        assertTrue(w.getValue().getAsInt() <= 4, w.getKey() + " has " + w.getValue() + " values in Keras"));
    FlatModel tuned = ModelLoader.load(keras, ModelLoader.DEFAULT_SIGNATURE);
    Map<String, HostTensor> ours;
    try (ModelSession session = new ModelSession(tuned)) {
      ours = session.run(inputs);
    }
    KerasParityTest.assertClose(Fixtures.readTensorsJson(result, "outputs"), ours, "fine-tuned .keras");
    FlatModel original = ModelLoader.load(c.file(), ModelLoader.DEFAULT_SIGNATURE);
    for (var v : original.variables().values()) {
      if (v.name().endsWith("moving_mean")) {
        float[] after = tuned.variables().values().stream().filter(t -> t.name().equals(v.name())).findFirst()
            .orElseThrow().value().toFloats();
        assertFalse(java.util.Arrays.equals(v.value().toFloats(), after), v.name() + " did not move");
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void clusterConvertAndRunInTflite(KerasFixtures.Case c, @TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("clustered");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", c.file().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--no-size"));
    Path tflite = tmp.resolve("model.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString()));

    Fixtures.assertFullyConnectedKeepAtMost(tflite, K);
    Fixtures.assertTfliteComputesSavedModel(tflite, out,
        KerasFixtures.tensors(KerasFixtures.record(c).getAsJsonObject("inputs")), tmp);
  }

  /**
   * A Keras model with two inputs ({@code merge_multi_io}: 'left' and 'right') fine-tunes from an .npz
   * with one array per input, named after it, against labels that depend on both: the exported model's
   * accuracy on head_a (output_0), computed here in TensorFlow with both inputs fed, is wclust's and well
   * above the original's and the clustered model's.
   */
  @org.junit.jupiter.api.Test
  void fineTunesAKerasModelWithTwoInputs(@TempDir Path tmp) throws Exception {
    KerasFixtures.Case c = KerasFixtures.keras("merge_multi_io");
    Path data = tmp.resolve("two_inputs.npz");
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_multi_input_data.py").toString(), data.toString(), "1000",
        "5");
    Path out = tmp.resolve("tuned");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", c.file().toString(), "-o", out.toString(), "--clusters",
        String.valueOf(K), "--data", data.toString(), "--output-key", "output_0", "--epochs", "5", "--batch-size", "32",
        "--learning-rate", "0.01", "--seed", "2", "--no-size"));
    Map<String, org.wclust.internal.data.NpyArray> arrays = FashionMnist.arrays(data);
    int[] labels = arrays.get("y").toInts();
    Map<String, HostTensor> inputs = Map.of(
        "left", HostTensor.ofFloats(new long[] {labels.length, 6}, arrays.get("left").toFloats()),
        "right", HostTensor.ofFloats(new long[] {labels.length, 6}, arrays.get("right").toFloats()));
    float[] scores;
    try (ModelSession session = new ModelSession(ModelLoader.load(out, ModelLoader.DEFAULT_SIGNATURE))) {
      scores = session.run(inputs).get("output_0").toFloats();
    }
    int right = 0;
    for (int i = 0; i < labels.length; i++) {
      int best = 0;
      for (int j = 1; j < 3; j++) {
        best = scores[i * 3 + j] > scores[i * 3 + best] ? j : best;
      }
      right += best == labels[i] ? 1 : 0;
    }
    double tuned = (double) right / labels.length;
    JsonObject accuracy = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json")))
        .getAsJsonObject().getAsJsonObject("accuracy");
    System.out.println("merge_multi_io fine-tuned on two inputs: " + accuracy);
    assertEquals(tuned, accuracy.get("fine_tuned").getAsDouble(), 1e-9);
    assertTrue(tuned > accuracy.get("original").getAsDouble() + 0.2 && tuned > accuracy.get("clustered").getAsDouble(),
        accuracy.toString());
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.wclust.bridge.HostTensor;
import org.wclust.graph.FlatModel;
import org.wclust.graph.ModelSession;
import org.wclust.load.ModelLoader;

/**
 * {@code wclust cluster model.keras --clusters 8}: the output converts to .tflite, every
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

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void clusterConvertAndRunInTflite(KerasFixtures.Case c, @TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("clustered");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", c.file().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--no-size"));
    Path tflite = tmp.resolve("model.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString()));

    JsonObject weights = Fixtures.python().runTool("weights", tflite.toString());
    int fullyConnected = 0;
    for (JsonElement e : weights.getAsJsonArray("weights")) {
      JsonObject w = e.getAsJsonObject();
      if (w.get("op").getAsString().equals("FULLY_CONNECTED")) {
        fullyConnected++;
        int distinct = w.get("distinct").getAsInt();
        assertTrue(distinct <= K, w.get("tensor").getAsString() + " has " + distinct + " distinct values");
      }
    }
    assertTrue(fullyConnected > 0, "expected a FULLY_CONNECTED op");

    Map<String, HostTensor> inputs = KerasFixtures.tensors(KerasFixtures.record(c).getAsJsonObject("inputs"));
    FlatModel exported = ModelLoader.load(out, ModelLoader.DEFAULT_SIGNATURE);
    Map<String, HostTensor> tf;
    try (ModelSession session = new ModelSession(exported)) {
      tf = session.run(inputs);
    }
    Path in = tmp.resolve("in.json");
    Path result = tmp.resolve("out.json");
    Files.writeString(in, KerasFixtures.inputsJson(inputs).toString());
    Fixtures.python().runTool("run", tflite.toString(), in.toString(), result.toString());
    Map<String, HostTensor> lite = Fixtures.readTensorsJson(result, "outputs");
    assertEquals(tf.keySet(), lite.keySet());
    for (String key : tf.keySet()) {
      double diff = Fixtures.maxAbsDiff(tf.get(key), lite.get(key));
      assertTrue(diff <= 1e-4, key + ": tflite vs SavedModel max abs diff " + diff);
    }
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.load.ModelLoader;

/**
 * TensorFlow.js layers models with quantized weights ({@code make_tfjs_quantized.py}: a Keras fixture's
 * weights written with the TF.js manifest's uint8 / uint16 / float16 quantization): wclust loads the
 * weights Keras holds after TF.js' dequantization (within 1e-5) and computes Keras' outputs on them;
 * a uint8 MobileNetV2 clusters at k = 16 and converts with at most 16 values per weight.
 */
class TfjsQuantizedTest {
  private static final double TOLERANCE = 1e-5;

  /** Makes (once) the quantized copies of {@code keras} under {@code target/tfjs-quantized/NAME}. */
  static synchronized Path quantized(String name, Path keras, String dtypes) throws IOException, InterruptedException {
    Path dir = KerasFixtures.DIR.getParent().resolve("tfjs-quantized").resolve(name);
    String last = dtypes.substring(dtypes.lastIndexOf(',') + 1);
    if (!Files.exists(dir.resolve(last + ".json"))) {
      Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_tfjs_quantized.py").toString(), keras.toString(),
          dir.toString(), dtypes);
    }
    return dir;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"uint8", "uint16", "float16"})
  void quantizedWeightsLoadAsKerasDequantizesThem(String dtype) throws Exception {
    Path dir = quantized("convs", KerasFixtures.keras("convs").file(), "uint8,uint16,float16");
    assertLoadsDequantizedWeightsAndKerasOutputs(dir, dtype);
  }

  @Test
  void uint8MobileNetV2LoadsClustersAtK16AndConverts(@TempDir Path tmp) throws Exception {
    Path keras = KerasMobileNetV2Test.model();
    Path dir = quantized("mobilenet_v2", keras, "uint8");
    assertLoadsDequantizedWeightsAndKerasOutputs(dir, "uint8");
    Path out = tmp.resolve("k16");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", dir.resolve("uint8/model.json").toString(), "-o",
        out.toString(), "--clusters", "16", "--no-size"));
    Path tflite = tmp.resolve("k16.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString()));
    // 52 conv/depthwise weights and one dense; the small folded kernels (stem, first blocks) per channel
    Fixtures.assertEveryWeightKeepsAtMostWhereReported(tflite, 16, 53, out);
  }

  /**
   * Every weight wclust reads equals, within 1e-5, the dequantized weight Python recorded (sum, sum of
   * squares, first values), and the model computes Keras' outputs with those weights.
   */
  private static void assertLoadsDequantizedWeightsAndKerasOutputs(Path dir, String dtype) throws Exception {
    JsonObject record = JsonParser.parseString(Files.readString(dir.resolve(dtype + ".json"))).getAsJsonObject();
    FlatModel model = ModelLoader.load(dir.resolve(dtype).resolve("model.json"), ModelLoader.DEFAULT_SIGNATURE);
    Map<String, HostTensor> loaded = new HashMap<>();
    for (ModelVariable v : model.variables().values()) {
      loaded.put(v.name(), v.value());
    }
    JsonObject expected = record.getAsJsonObject("weights");
    assertEquals(expected.keySet(), loaded.keySet(), "the weights wclust loads are the manifest's");
    for (Map.Entry<String, JsonElement> e : expected.entrySet()) {
      HostTensor value = loaded.get(e.getKey());
      assertNotNull(value, "wclust did not load " + e.getKey() + "; it has " + loaded.keySet());
      float[] values = value.toFloats();
      JsonObject fingerprint = e.getValue().getAsJsonObject();
      double sum = 0;
      double sumSq = 0;
      for (float f : values) {
        sum += f;
        sumSq += (double) f * f;
      }
      assertClose(fingerprint.get("sum").getAsDouble(), sum, values.length, e.getKey() + " sum");
      assertClose(fingerprint.get("sum_sq").getAsDouble(), sumSq, values.length, e.getKey() + " sum of squares");
      List<JsonElement> head = fingerprint.getAsJsonArray("head").asList();
      for (int i = 0; i < head.size(); i++) {
        assertEquals(head.get(i).getAsDouble(), values[i], TOLERANCE, e.getKey() + "[" + i + "]");
      }
    }
    Map<String, HostTensor> ours;
    try (ModelSession session = new ModelSession(model)) {
      ours = session.run(KerasFixtures.tensors(record.getAsJsonObject("inputs")));
    }
    KerasParityTest.assertClose(KerasFixtures.tensors(record.getAsJsonObject("outputs")), ours, "TF.js " + dtype);
  }

  /** A sum over n float32 values agrees within 1e-5 per value. */
  private static void assertClose(double expected, double actual, int n, String what) {
    assertTrue(Math.abs(expected - actual) <= TOLERANCE * Math.max(1, n), what + ": " + actual + " vs " + expected);
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoader;

/**
 * keras.applications.MobileNetV2 saved as .keras ({@code make_keras_mobilenet_v2.py}): wclust's graph
 * computes Keras' logits, and clustering it at k = 32 keeps at most 32 values in each of the 53
 * CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED weights of the .tflite.
 */
class KerasMobileNetV2Test {
  private static final int K = 32;
  private static Path model;
  private static JsonObject record;

  @BeforeAll
  static void make() throws IOException, InterruptedException {
    model = model();
    record = com.google.gson.JsonParser.parseString(
        Files.readString(model.resolveSibling("mobilenet_v2.json"))).getAsJsonObject();
  }

  /** The .keras file, made once per build by make_keras_mobilenet_v2.py. */
  static synchronized Path model() throws IOException, InterruptedException {
    Path dir = KerasFixtures.DIR.getParent().resolve("keras-mobilenet-v2");
    if (!Files.exists(dir.resolve("mobilenet_v2.json"))) {
      Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_keras_mobilenet_v2.py").toString(), dir.toString());
    }
    return dir.resolve("mobilenet_v2.keras");
  }

  @Test
  void graphMatchesKerasPredict() throws Exception {
    Map<String, HostTensor> ours;
    try (ModelSession session = new ModelSession(ModelLoader.load(model, ModelLoader.DEFAULT_SIGNATURE))) {
      ours = session.run(KerasFixtures.tensors(record.getAsJsonObject("inputs")));
    }
    KerasParityTest.assertClose(KerasFixtures.tensors(record.getAsJsonObject("outputs")), ours, "MobileNetV2");
  }

  @Test
  void clusteredAt32KeepsAtMost32ValuesPerWeightInTflite(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("k32");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", model.toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--no-size"));
    Path tflite = tmp.resolve("k32.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString()));
    // 52 conv/depthwise weights and one dense; the small folded kernels (stem, first blocks) per channel
    Fixtures.assertEveryWeightKeepsAtMostWhereReported(tflite, K, 53, out);
  }
}

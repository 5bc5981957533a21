package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Clusters that survive full int8 quantization: with --int8-aware --clusters 16 and
 * convert --quantize int8, every int8 weight tensor keeps at most 16 values per output channel.
 */
class Int8QuantizationTest {
  private static final int K = 16;

  @ParameterizedTest
  @ValueSource(strings = {"conv_bn_depthwise", "sequential_cnn", "functional_residual"})
  void int8WeightsKeepAtMostKValuesPerChannel(String name, @TempDir Path tmp) throws Exception {
    Fixtures.Fixture fixture = Fixtures.all().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
    Path data = tmp.resolve("representative.npz");
    String shape = "(32," + fixture.inputShape()[0] + "," + fixture.inputShape()[1] + "," + fixture.inputShape()[2] + ")";
    Fixtures.runPython("-c", "import numpy as np; np.savez('" + data + "', x=np.random.default_rng(0)"
        + ".standard_normal(" + shape + ").astype(np.float32))");

    Path out = tmp.resolve("out");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", fixture.path().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--int8-aware", "--no-size"));
    Path tflite = tmp.resolve("model.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString(),
        "--quantize", "int8", "--data", data.toString()));

    int int8Weights = 0;
    for (JsonElement e : Fixtures.python().runTool("weights", tflite.toString()).getAsJsonArray("weights")) {
      JsonObject w = e.getAsJsonObject();
      assertEquals("int8", w.get("dtype").getAsString(), w.toString());
      int8Weights++;
      int perChannel = w.get("distinct_per_channel_max").getAsInt();
      assertTrue(perChannel <= K, w.get("op") + " " + w.get("tensor") + ": " + perChannel + " values in a channel");
    }
    assertTrue(int8Weights >= 2, "expected int8 conv/dense weights");
  }
}

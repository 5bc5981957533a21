package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The clustering options end to end on a real Keras model: each method and granularity goes through
 * the CLI, the TFLite converter and the interpreter, and the codebook limits hold in the .tflite.
 */
class ClusteringOptionsTest {
  private static final int K = 4;

  private static Path sequentialCnn() {
    return Fixtures.all().stream().filter(f -> f.name().equals("sequential_cnn"))
        .findFirst().orElseThrow().path();
  }

  @ParameterizedTest
  @ValueSource(strings = {"knee", "optimal", "kmeans++", "linear", "density", "random"})
  void everyMethodKeepsAtMostKValuesPerTensor(String method, @TempDir Path tmp) throws Exception {
    JsonObject report = cluster(tmp, "--init", method);
    for (JsonElement layer : report.getAsJsonArray("layers")) {
      JsonObject l = layer.getAsJsonObject();
      assertTrue(l.get("distinct_values").getAsInt() <= K, l.toString());
      assertTrue(l.get("init").getAsString().startsWith(method), l.toString());
    }
    assertFullyConnectedLimit(tmp, false);
  }

  @ParameterizedTest
  @ValueSource(strings = {"channel", "group:4"})
  void perChannelCodebooksSurviveConversion(String granularity, @TempDir Path tmp) throws Exception {
    JsonObject report = cluster(tmp, "--granularity", granularity);
    for (JsonElement layer : report.getAsJsonArray("layers")) {
      JsonObject l = layer.getAsJsonObject();
      assertEquals(granularity, l.get("granularity").getAsString());
      assertTrue(l.get("codebooks").getAsInt() > 1, l.toString());
      assertTrue(l.get("max_distinct_per_codebook").getAsInt() <= K, l.toString());
    }
    assertFullyConnectedLimit(tmp, true);
  }

  private static JsonObject cluster(Path tmp, String... options) throws Exception {
    Path out = tmp.resolve("out");
    String[] args = new String[5 + options.length];
    args[0] = "cluster";
    args[1] = sequentialCnn().toString();
    args[2] = "-o";
    args[3] = out.toString();
    args[4] = "--clusters=" + K;
    System.arraycopy(options, 0, args, 5, options.length);
    assertEquals(0, EndToEndFixturesTest.cli(args));
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tmp.resolve("m.tflite").toString()));
    return JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
  }

  /** FULLY_CONNECTED weights are not folded by the converter, so their codebooks must be intact. */
  private static void assertFullyConnectedLimit(Path tmp, boolean perChannel) throws Exception {
    JsonObject weights = Fixtures.python().runTool("weights", tmp.resolve("m.tflite").toString());
    int checked = 0;
    for (JsonElement e : weights.getAsJsonArray("weights")) {
      JsonObject w = e.getAsJsonObject();
      if (w.get("op").getAsString().equals("FULLY_CONNECTED")) {
        int distinct = w.get(perChannel ? "distinct_per_channel_max" : "distinct").getAsInt();
        assertTrue(distinct <= K, w.toString());
        checked++;
      }
    }
    assertTrue(checked > 0);
  }
}

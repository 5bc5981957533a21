package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.fold.BatchNormFolder;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoader;

/** BatchNorm folding keeps the model's function and makes conv clusters survive TFLite conversion. */
class BatchNormFoldingTest {
  private static final int K = 8;
  private static final Set<String> WEIGHT_OPS = Set.of("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED");

  static List<Fixtures.Fixture> fixtures() {
    return Fixtures.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void foldedModelComputesTheSameOutputs(Fixtures.Fixture fixture) throws Exception {
    FlatModel original = ModelLoader.load(fixture.path(), "serving_default");
    BatchNormFolder.Result folded = BatchNormFolder.fold(original);
    if (fixture.name().equals("conv_bn_depthwise")) {
      assertEquals(2, folded.folds().size(), "both BatchNorms fold: " + folded.folds());
    }
    String key = original.signature().inputs().get(0).key();
    HostTensor input = Fixtures.randomInput(fixture.inputShape(), 3, 21);
    Map<String, HostTensor> before;
    Map<String, HostTensor> after;
    try (ModelSession s = new ModelSession(original)) {
      before = s.run(Map.of(key, input));
    }
    try (ModelSession s = new ModelSession(folded.model())) {
      after = s.run(Map.of(key, input));
    }
    for (String out : before.keySet()) {
      double diff = Fixtures.maxAbsDiff(before.get(out), after.get(out));
      assertTrue(diff <= 1e-5, out + ": max abs diff " + diff);
    }
  }

  @Test
  void withPlainFoldingEveryConvWeightInTheTfliteKeepsKValues(@TempDir Path tmp) throws Exception {
    for (JsonObject w : clusterAndListWeights(tmp.resolve("folded"), "--plain-fold")) {
      assertTrue(w.get("distinct").getAsInt() <= K, w.toString());
    }
  }

  /**
   * BatchNorm-safe codebooks at any factor spread ({@code --bn-safe-spread 1}; this fixture's factors
   * spread less than the default 10x): k values per channel everywhere, and per tensor unless the
   * report gave the kernel several codebooks (then at most k per codebook).
   */
  @Test
  void withSafeFoldingEveryConvWeightKeepsKValuesPerCodebook(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("safe");
    List<JsonObject> weights = clusterAndListWeights(out, "--bn-safe-spread", "1");
    JsonObject report = com.google.gson.JsonParser.parseString(
        java.nio.file.Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    int maxCodebooks = 1;
    for (JsonElement e : report.getAsJsonArray("layers")) {
      maxCodebooks = Math.max(maxCodebooks, e.getAsJsonObject().get("codebooks").getAsInt());
    }
    assertEquals(2, report.getAsJsonArray("batch_norm_codebooks").size(), report.toString());
    for (JsonObject w : weights) {
      assertTrue(w.get("distinct_per_channel_max").getAsInt() <= K, w.toString());
      assertTrue(w.get("distinct").getAsInt() <= K * maxCodebooks, w.toString());
    }
  }

  /** The tfmot situation, kept as a contrast: the converter's own folding scatters the clusters. */
  @Test
  void withoutFoldingTheConverterScattersConvClusters(@TempDir Path tmp) throws Exception {
    List<JsonObject> weights = clusterAndListWeights(tmp.resolve("unfolded"), "--no-fold-bn");
    assertFalse(weights.stream().filter(w -> w.get("op").getAsString().equals("CONV_2D"))
        .allMatch(w -> w.get("distinct").getAsInt() <= K), "expected the converter to break the clusters");
  }

  private static List<JsonObject> clusterAndListWeights(Path out, String... extra) throws Exception {
    Path model = Fixtures.all().stream().filter(f -> f.name().equals("conv_bn_depthwise"))
        .findFirst().orElseThrow().path();
    String[] args = new String[6 + extra.length];
    System.arraycopy(new String[] {"cluster", model.toString(), "-o", out.toString(), "--clusters", "" + K},
        0, args, 0, 6);
    System.arraycopy(extra, 0, args, 6, extra.length);
    assertEquals(0, EndToEndFixturesTest.cli(args));
    Path tflite = out.resolveSibling(out.getFileName() + ".tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString()));
    JsonObject listing = Fixtures.python().runTool("weights", tflite.toString());
    List<JsonObject> weights = new java.util.ArrayList<>();
    for (JsonElement e : listing.getAsJsonArray("weights")) {
      if (WEIGHT_OPS.contains(e.getAsJsonObject().get("op").getAsString())) {
        weights.add(e.getAsJsonObject());
      }
    }
    assertEquals(Set.of("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"),
        weights.stream().map(w -> w.get("op").getAsString()).collect(java.util.stream.Collectors.toSet()));
    return weights;
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --size-aware trades squared error for entropy: smaller coded and zipped models at the same k than
 * minimum squared error ({@code --init optimal}; the default, knee, is entropy-constrained itself).
 */
class SizeAwareTest {
  @Test
  void sizeAwareCodesSmallerAtTheSameK(@TempDir Path tmp) throws Exception {
    Path model = Fixtures.all().stream().filter(f -> f.name().equals("sequential_cnn"))
        .findFirst().orElseThrow().path();
    JsonObject plain = cluster(model, tmp.resolve("plain"), "--init", "optimal");
    JsonObject sized = cluster(model, tmp.resolve("sized"), "--init", "optimal", "--size-aware", "--size-weight", "0.05");
    assertCodesAndZipsSmaller(sized, plain);
    double plainSse = 0;
    double sizedSse = 0;
    for (var l : plain.getAsJsonArray("layers")) {
      plainSse += l.getAsJsonObject().get("sse").getAsDouble();
    }
    for (var l : sized.getAsJsonArray("layers")) {
      sizedSse += l.getAsJsonObject().get("sse").getAsDouble();
      assertTrue(l.getAsJsonObject().get("distinct_values").getAsInt() <= 16);
    }
    assertTrue(sizedSse >= plainSse, "optimal k-means has the least squared error");
  }

  /**
   * The knee codes and zips smaller than minimum squared error. This fixture's tensors are small, so
   * the default weight leaves them near minimum squared error; a large --rate-weight shows the trade.
   */
  @Test
  void kneeCodesSmallerThanOptimal(@TempDir Path tmp) throws Exception {
    Path model = Fixtures.all().stream().filter(f -> f.name().equals("sequential_cnn"))
        .findFirst().orElseThrow().path();
    JsonObject optimal = cluster(model, tmp.resolve("optimal"), "--init", "optimal");
    JsonObject knee = cluster(model, tmp.resolve("knee"), "--rate-weight", "2000");
    assertCodesAndZipsSmaller(knee, optimal);
    for (var l : knee.getAsJsonArray("layers")) {
      assertEquals("knee", l.getAsJsonObject().get("init").getAsString());
      assertTrue(l.getAsJsonObject().get("distinct_values").getAsInt() <= 16);
    }
  }

  /**
   * --target-size meets a zipped-size budget, predicting the size to 0.5 %; --budget meets it in the real
   * zipped .tflite by choosing k per layer.
   */
  @Test
  void sizeBudgetsAreMet(@TempDir Path tmp) throws Exception {
    Path model = Fixtures.all().stream().filter(f -> f.name().equals("sequential_cnn"))
        .findFirst().orElseThrow().path();
    JsonObject optimal = cluster(model, tmp.resolve("optimal"), "--init", "optimal");
    long target = Math.round(0.85 * optimal.getAsJsonObject("size").getAsJsonObject("clustered")
        .get("zipped_tflite_bytes").getAsLong());
    JsonObject sized = cluster(model, tmp.resolve("sized"), "--target-size", Long.toString(target));
    JsonObject rate = sized.getAsJsonObject("rate_control");
    long reached = sized.getAsJsonObject("size").getAsJsonObject("clustered").get("zipped_tflite_bytes").getAsLong();
    assertEquals(reached, rate.get("reached_zipped_bytes").getAsLong());
    assertEquals(target, rate.get("target_size").getAsDouble(), 0);
    assertTrue(rate.get("rate_weight").getAsDouble() > 0, rate.toString());
    // The search predicts the zipped size from the original .tflite with the clustered values written
    // over its weights, deflated whole: the real conversion lands where it predicted.
    double predicted = rate.get("predicted_zipped_bytes").getAsDouble();
    assertTrue(Math.abs(reached - predicted) <= 0.005 * reached, reached + " bytes, predicted " + predicted);
    // Never over the budget. Under it by the step between two clusterings the multiplier can choose:
    // on this 12 KB fixture that step is a few percent (measured: 3.1 % under), on the benchmark's CNN
    // a fraction of a percent.
    assertTrue(reached <= target && reached >= 0.95 * target, reached + " bytes for a budget of " + target);

    JsonObject allocated = cluster(model, tmp.resolve("allocated"), "--target-size", Long.toString(target), "--budget");
    JsonObject perLayer = allocated.getAsJsonObject("rate_control").getAsJsonObject("clusters_per_layer");
    for (var l : allocated.getAsJsonArray("layers")) {
      JsonObject layer = l.getAsJsonObject();
      assertEquals(perLayer.get(layer.get("name").getAsString()).getAsInt(), layer.get("clusters").getAsInt());
    }
    // The allocation is searched with the same whole-file prediction: the converted model's real zipped
    // .tflite is within the budget, where the allocation predicted it.
    double allocatedPrediction = allocated.getAsJsonObject("rate_control").get("predicted_zipped_bytes").getAsDouble();
    long allocatedReached = allocated.getAsJsonObject("size").getAsJsonObject("clustered")
        .get("zipped_tflite_bytes").getAsLong();
    assertTrue(allocatedPrediction <= target, allocatedPrediction + " predicted for a budget of " + target);
    assertTrue(allocatedReached <= target, allocatedReached + " bytes for a budget of " + target);
    assertTrue(Math.abs(allocatedReached - allocatedPrediction) <= 0.005 * allocatedReached,
        allocatedReached + " bytes, predicted " + allocatedPrediction);
  }

  /**
   * After fine-tuning, the per-layer allocation still meets a zipped-size budget within the issue's
   * 3 % (#10), though fine-tuning moves the size: it allocates again aiming off by what the first
   * fine-tuning moved and fine-tunes that clustering. 4,000 training images, one epoch at a learning
   * rate of 1e-3, so that the size moves by more than the retune tolerance (1.5 %).
   */
  @Test
  void aPerLayerBudgetIsMetAfterFineTuning(@TempDir Path tmp) throws Exception {
    Path slice = tmp.resolve("slice.npz");
    Fixtures.runPython("-c", "import numpy as np; d = np.load('" + FashionMnist.train() + "'); "
        + "np.savez('" + slice + "', x=d['x'][:4000], y=d['y'][:4000])");
    // Between the default's file (about 54 KB) and minimum squared error's (about 122 KB) at k = 8.
    long target = 70_000;
    assertEquals(0, EndToEndFixturesTest.cli("cluster", FashionMnist.model().toString(), "-o",
        tmp.resolve("out").toString(), "--clusters", "8", "--target-size", Long.toString(target), "--budget", "--data",
        slice.toString(), "--scale", Double.toString(FashionMnist.SCALE), "--epochs", "1", "--learning-rate", "1e-3"));
    JsonObject report = JsonParser.parseString(Files.readString(tmp.resolve("out").resolve("wclust-report.json")))
        .getAsJsonObject();
    JsonObject rate = report.getAsJsonObject("rate_control");
    assertTrue(rate.has("clusters_per_layer"), rate.toString());
    // The first fine-tuning missed the budget by more than the retune tolerance, so it aimed off by that;
    // each further fine-tuning aimed off by the move of the one before, the third only when the second
    // landed under the budget by more than the tolerance (the report lists every aim and landing).
    double first = rate.get("first_fine_tuning_reached").getAsDouble();
    assertTrue(Math.abs(first / target - 1) > 0.015, rate.toString());
    JsonArray tunings = report.getAsJsonArray("budget_fine_tunings");
    assertTrue(tunings.size() == 2 || tunings.size() == 3, String.valueOf(tunings));
    assertEquals(target, tunings.get(0).getAsJsonObject().get("aimed_at").getAsDouble(), 1e-6);
    assertEquals(first, tunings.get(0).getAsJsonObject().get("reached").getAsDouble(), 1e-6);
    for (int i = 1; i < tunings.size(); i++) {
      JsonObject before = tunings.get(i - 1).getAsJsonObject();
      assertEquals(before.get("aimed_at").getAsDouble() * target / before.get("reached").getAsDouble(),
          tunings.get(i).getAsJsonObject().get("aimed_at").getAsDouble(), 1.0, String.valueOf(tunings));
    }
    if (tunings.size() == 3) {
      assertTrue(tunings.get(1).getAsJsonObject().get("reached").getAsDouble() < 0.985 * target,
          String.valueOf(tunings));
    }
    assertEquals(tunings.get(tunings.size() - 1).getAsJsonObject().get("aimed_at").getAsDouble(),
        rate.get("aimed_at").getAsDouble(), 1.0, rate.toString());
    long reached = report.getAsJsonObject("size").getAsJsonObject("clustered").get("zipped_tflite_bytes").getAsLong();
    assertEquals(reached, rate.get("reached_zipped_bytes").getAsLong());
    assertTrue(reached <= target && reached >= 0.97 * target, reached + " bytes for a budget of " + target
        + " (first fine-tuning: " + first + ")");
    if (report.has("budget_trim")) {
      // Fine-tuning overshot and the indices were trimmed into the budget: the report says from where.
      JsonObject trim = report.getAsJsonObject("budget_trim");
      assertTrue(trim.get("fine_tuned").getAsDouble() > target, trim.toString());
      assertEquals(reached, trim.get("trimmed").getAsDouble(), 0.01 * target, trim.toString());
    }
  }

  /** {@code smaller}'s Huffman-coded weights and zipped .tflite are smaller than {@code larger}'s. */
  private static void assertCodesAndZipsSmaller(JsonObject smaller, JsonObject larger) {
    JsonObject s = smaller.getAsJsonObject("size");
    JsonObject l = larger.getAsJsonObject("size");
    assertTrue(s.get("huffman_bytes").getAsLong() < l.get("huffman_bytes").getAsLong(), s + " vs " + l);
    assertTrue(s.getAsJsonObject("clustered").get("zipped_tflite_bytes").getAsLong()
        < l.getAsJsonObject("clustered").get("zipped_tflite_bytes").getAsLong(), s + " vs " + l);
  }

  private static JsonObject cluster(Path model, Path out, String... extra) throws Exception {
    String[] args = new String[6 + extra.length];
    System.arraycopy(new String[] {"cluster", model.toString(), "-o", out.toString(), "--clusters", "16"}, 0, args, 0, 6);
    System.arraycopy(extra, 0, args, 6, extra.length);
    assertEquals(0, EndToEndFixturesTest.cli(args));
    return JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
  }
}

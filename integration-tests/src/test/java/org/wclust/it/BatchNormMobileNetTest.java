package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.load.ModelLoader;

/**
 * The BatchNorm-heavy fixture: MobileNetV2 (alpha 0.35) trained on real Fashion-MNIST by
 * {@code make_bn_mobilenet.py} (in CI on 4,000 images for 2 epochs, to bound its cost; the README's
 * table comes from {@code scripts/bench-bn-calibration.sh} on the full fixture), clustered without
 * fine-tuning.
 */
class BatchNormMobileNetTest {
  private static final Path DIR = Paths.get("target/fixtures/bn_mobilenet").toAbsolutePath();
  private static final String SCALE = "0.00392156862745098";

  @BeforeAll
  static void makeFixture() throws Exception {
    if (!Files.exists(DIR.resolve("manifest.json"))) {
      Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_bn_mobilenet.py").toString(), DIR.toString(),
          "--train", "4000", "--epochs", "2");
    }
  }

  private static JsonObject cluster(Path out, String... extra) throws Exception {
    String[] base = {"cluster", DIR.resolve("model").toString(), "-o", out.toString(), "--val",
        DIR.resolve("test.npz").toString(), "--scale", SCALE, "--no-size"};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    assertEquals(0, EndToEndFixturesTest.cli(args));
    return JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
  }

  /**
   * The default at k = 16: every folded kernel's choice is in the report with its reason, the small ones
   * (at most 1,024 weights: the stem and the first blocks) one codebook per channel, and every conv /
   * depthwise / dense weight of the .tflite holds at most 16 values — per tensor, except at most one
   * tensor per kernel the report gives several codebooks, which holds 16 per channel. The outputs move no
   * more than with {@code --no-fold-bn}. {@code --depthwise-per-channel} gives every depthwise kernel one
   * codebook per channel; data-free {@code --correct-bias} corrects every folded bias whose layer's input
   * has a BatchNorm expectation (all but the stem's) and leaves the clusters as they are.
   */
  @Test
  void defaultKeepsKValuesPerChannelWhereTheReportSaysSoAndMovesOutputsLessThanNotFolding(@TempDir Path tmp)
      throws Exception {
    Path out = tmp.resolve("out");
    Path tflite = tmp.resolve("out.tflite");
    JsonObject report = cluster(out, "-k", "16", "--tflite", tflite.toString());
    Set<String> small = new HashSet<>();
    for (JsonElement e : report.getAsJsonArray("layers")) {
      if (e.getAsJsonObject().get("params").getAsLong() <= 1024) {
        small.add(e.getAsJsonObject().get("name").getAsString());
      }
    }
    assertEquals(15, small.size(), "MobileNetV2 0.35's kernels of at most 1,024 weights");
    int severalCodebooks = 0;
    for (JsonElement e : report.getAsJsonArray("batch_norm_codebooks")) {
      JsonObject choice = e.getAsJsonObject();
      assertFalse(choice.get("reason").getAsString().isEmpty(), choice.toString());
      if (small.contains(choice.get("kernel").getAsString())) {
        assertEquals("channel", choice.get("codebooks").getAsString(), choice.toString());
      }
      if (!choice.get("codebooks").getAsString().equals("tensor")) {
        severalCodebooks++;
      }
    }
    assertEquals(report.getAsJsonArray("batch_norm_folded_into").size(),
        report.getAsJsonArray("batch_norm_codebooks").size(), "one choice per folded kernel");
    int moreThanK = 0;
    int weights = 0;
    for (JsonElement e : Fixtures.python().runTool("weights", tflite.toString()).getAsJsonArray("weights")) {
      JsonObject w = e.getAsJsonObject();
      weights++;
      assertTrue(w.get("distinct_per_channel_max").getAsInt() <= 16, w.toString());
      if (w.get("distinct").getAsInt() > 16) {
        moreThanK++;
      }
    }
    assertEquals(53, weights, "52 convs and the classifier");
    assertTrue(moreThanK <= severalCodebooks, moreThanK + " tensors hold more than 16 values, the report gives "
        + severalCodebooks + " kernels several codebooks");
    JsonObject agreement = report.getAsJsonObject("output_agreement");
    assertEquals(10000, agreement.get("examples").getAsInt());

    // Issue 11's line: the default moves the outputs no more than not folding does.
    double notFolded = cluster(tmp.resolve("no-fold"), "-k", "16", "--no-fold-bn")
        .getAsJsonObject("output_agreement").get("mean_relative_change").getAsDouble();
    double change = agreement.get("mean_relative_change").getAsDouble();
    assertTrue(change <= notFolded, "mean relative change " + change + ", without folding " + notFolded);

    JsonObject depthwise = cluster(tmp.resolve("dw"), "-k", "16", "--depthwise-per-channel");
    int perChannelDepthwise = 0;
    for (JsonElement e : depthwise.getAsJsonArray("batch_norm_codebooks")) {
      if (e.getAsJsonObject().get("reason").getAsString().startsWith("depthwise")) {
        assertEquals("channel", e.getAsJsonObject().get("codebooks").getAsString(), e.toString());
        perChannelDepthwise++;
      }
    }
    assertEquals(17, perChannelDepthwise, "MobileNetV2's depthwise kernels");

    JsonObject dataFree = cluster(tmp.resolve("data-free"), "-k", "16", "--correct-bias");
    assertEquals(51, dataFree.getAsJsonArray("bias_correction_data_free").size(), "every folded layer but the stem");
    for (int i = 0; i < 53; i++) {
      assertEquals(report.getAsJsonArray("layers").get(i).getAsJsonObject().get("sse").getAsDouble(),
          dataFree.getAsJsonArray("layers").get(i).getAsJsonObject().get("sse").getAsDouble(), 0.0, "layer " + i);
    }
  }

  /**
   * At k = 8, weighting by the Fisher of 500 unlabelled images keeps more of the original's answers, and
   * {@code --calibration} also corrects the folded biases on them ({@code --no-correct-bias} turns that
   * off), which moves the outputs less again and changes nothing but those biases.
   */
  @Test
  void calibrationKeepsMoreOfTheOriginalsAnswers(@TempDir Path tmp) throws Exception {
    JsonObject plain = cluster(tmp.resolve("plain"), "-k", "8");
    String calibration = DIR.resolve("calibration.npz").toString();
    JsonObject calibrated = cluster(tmp.resolve("calibrated"), "-k", "8", "--calibration", calibration,
        "--no-correct-bias");
    assertFalse(calibrated.has("bias_correction"), "--no-correct-bias corrected the biases");
    double before = plain.getAsJsonObject("output_agreement").get("top1_agreement").getAsDouble();
    double after = calibrated.getAsJsonObject("output_agreement").get("top1_agreement").getAsDouble();
    assertTrue(after > before, "top-1 agreement with calibration " + after + ", without " + before);
    assertTrue(calibrated.getAsJsonObject("accuracy").get("clustered").getAsDouble()
        > plain.getAsJsonObject("accuracy").get("clustered").getAsDouble(), "test accuracy did not improve");
    JsonObject c = calibrated.getAsJsonObject("calibration");
    assertEquals(500, c.get("examples").getAsInt());
    assertEquals(53, c.getAsJsonArray("layers").size());

    // --calibration alone corrects the folded biases: the same clusters (same squared error per layer), each
    // of the 52 folded biases corrected, and the outputs closer to the original's than without it.
    JsonObject corrected = cluster(tmp.resolve("corrected"), "-k", "8", "--calibration", calibration);
    assertEquals(52, corrected.getAsJsonArray("bias_correction").size());
    for (int i = 0; i < 53; i++) {
      assertEquals(calibrated.getAsJsonArray("layers").get(i).getAsJsonObject().get("sse").getAsDouble(),
          corrected.getAsJsonArray("layers").get(i).getAsJsonObject().get("sse").getAsDouble(), 0.0, "layer " + i);
    }
    double uncorrectedChange = calibrated.getAsJsonObject("output_agreement").get("mean_relative_change")
        .getAsDouble();
    double correctedChange = corrected.getAsJsonObject("output_agreement").get("mean_relative_change").getAsDouble();
    assertTrue(correctedChange < uncorrectedChange,
        "mean relative change with the bias correction " + correctedChange + ", without " + uncorrectedChange);

    // The exported models differ in the folded biases only: every other constant (clustered kernels, the
    // classifier's bias, paddings) is the same, and exactly the 52 corrected biases changed.
    Map<String, float[]> without = floatConstants(tmp.resolve("calibrated"));
    Map<String, float[]> with = floatConstants(tmp.resolve("corrected"));
    assertEquals(without.keySet(), with.keySet(), "the exported graphs differ");
    int changed = 0;
    for (Map.Entry<String, float[]> e : without.entrySet()) {
      if (!Arrays.equals(e.getValue(), with.get(e.getKey()))) {
        assertTrue(e.getKey().contains("wclust_folded/") && e.getKey().contains("/read_bias"),
            e.getKey() + " changed, and it is not a folded bias");
        changed++;
      }
    }
    assertEquals(52, changed, "folded biases changed by the correction");
  }

  /** The float constants of an exported SavedModel by node name. */
  private static Map<String, float[]> floatConstants(Path savedModel) throws Exception {
    Map<String, float[]> constants = new TreeMap<>();
    for (NodeDef n : ModelLoader.load(savedModel, "serving_default").graph().getNodeList()) {
      if (n.getOp().equals("Const") && n.getAttrOrThrow("dtype").getType() == DataType.DT_FLOAT) {
        constants.put(n.getName(), HostTensor.fromProto(n.getAttrOrThrow("value").getTensor()).toFloats());
      }
    }
    return constants;
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.calibrate.Calibration;
import org.wclust.internal.data.DataSpec;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.DatasetLoader;
import org.wclust.internal.data.NpyArray;
import org.tensorflow.proto.DataType;
import org.wclust.internal.data.NpzReader;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.graph.WeightTensor;
import org.wclust.internal.load.ModelLoader;

/**
 * {@code --calibration}: the importance (diagonal Fisher) against a direct computation in Python
 * TensorFlow ({@code make_fisher_reference.py}), and a calibrated clustering that changes the
 * clustered kernels and nothing else.
 */
class CalibrationTest {
  private static final Path DIR = Paths.get("target/fixtures/fisher").toAbsolutePath();

  @BeforeAll
  static void makeReference() throws Exception {
    if (!Files.exists(DIR.resolve("fisher.npz"))) {
      Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_fisher_reference.py").toString(), DIR.toString());
    }
  }

  @Test
  void fisherMatchesTensorFlowsPerExampleGradients() throws Exception {
    FlatModel model = ModelLoader.load(DIR.resolve("model.keras"), "serving_default");
    List<WeightTensor> kernels = WeightDiscovery.discover(model).stream().filter(WeightTensor::clusterable).toList();
    Dataset inputs = DatasetLoader.load(DIR.resolve("inputs.npz"), DataSpec.defaults().withoutLabels());
    Map<String, float[]> fisher = Calibration.fisher(model, kernels, inputs, null);
    Map<String, NpyArray> expected = NpzReader.readAll(DIR.resolve("fisher.npz"));
    assertEquals(Set.of("conv/kernel", "dense/kernel"), fisher.keySet());
    for (Map.Entry<String, float[]> e : fisher.entrySet()) {
      double[] want = expected.get(e.getKey()).toDoubles();
      float[] got = e.getValue();
      assertEquals(want.length, got.length, e.getKey());
      double max = 0;
      for (double w : want) {
        max = Math.max(max, w);
      }
      assertTrue(max > 0, e.getKey() + ": the reference Fisher is all zero");
      for (int i = 0; i < want.length; i++) {
        assertEquals(want[i], got[i], 1e-4 * max + 1e-3 * Math.abs(want[i]), e.getKey() + "[" + i + "]");
      }
    }
  }

  @Test
  void calibratedClusteringChangesOnlyTheClusteredKernels(@TempDir Path tmp) throws Exception {
    Path input = DIR.resolve("model.keras");
    String before = digest(input);
    Path out = tmp.resolve("out");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", input.toString(), "-o", out.toString(), "--clusters", "4",
        "--calibration", DIR.resolve("inputs.npz").toString(), "--no-size"));
    assertEquals(before, digest(input), "the input model changed");

    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    JsonObject calibration = report.getAsJsonObject("calibration");
    assertEquals(40, calibration.get("examples").getAsInt());
    JsonObject agreement = calibration.getAsJsonObject("output_agreement");
    double top1 = agreement.get("top1_agreement").getAsDouble();
    assertTrue(top1 >= 0 && top1 <= 1, agreement.toString());
    assertTrue(agreement.get("mean_kl").getAsDouble() >= 0, agreement.toString());
    assertEquals(2, calibration.getAsJsonArray("layers").size());
    // No BatchNorm, so no folded bias for --calibration's bias correction to change.
    assertEquals(0, report.getAsJsonArray("batch_norm_folded_into").size(), report.toString());
    assertTrue(!report.has("bias_correction"), "biases corrected in a model without BatchNorm");

    // The export holds constants only: each original bias is among them unchanged, and each kernel
    // became a constant of its shape with at most 4 values.
    FlatModel original = ModelLoader.load(input, "serving_default");
    FlatModel exported = ModelLoader.load(out, "serving_default");
    List<HostTensor> constants = exported.graph().getNodeList().stream()
        .filter(n -> n.getOp().equals("Const") && n.getAttrOrThrow("dtype").getType() == DataType.DT_FLOAT)
        .map(n -> HostTensor.fromProto(n.getAttrOrThrow("value").getTensor())).toList();
    for (WeightTensor w : WeightDiscovery.discover(original)) {
      float[] value = original.variables().get(w.handleNode()).value().toFloats();
      if (w.clusterable()) {
        assertTrue(constants.stream().anyMatch(c -> java.util.Arrays.equals(c.shape(), w.shape())
            && distinct(c.toFloats()) <= 4), w.name() + ": no 4-value constant of its shape");
        assertTrue(distinct(value) > 4, w.name());
      } else {
        assertTrue(constants.stream().anyMatch(c -> java.util.Arrays.equals(c.toFloats(), value)),
            w.name() + " changed");
      }
    }
  }

  /**
   * The importance weights reach every codebook layout and the size-budget modes: with each of these
   * flags the calibrated clustering succeeds, reports its output agreement, keeps at most k values per
   * codebook, and clusters differently from the same flags without calibration. A size budget's search
   * clusters as the written model is clustered: the bits per weight it predicted are those reached.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"--granularity channel", "--granularity group:4", "--preserve-sparsity",
      "--target-bits 2", "--target-bits 2 --budget"})
  void calibrationWorksWithEveryGranularitySparsityAndBudget(String flags, @TempDir Path tmp) throws Exception {
    Map<String, JsonObject> calibrated = layers(cluster(tmp.resolve("calibrated"), flags, true));
    Map<String, JsonObject> plain = layers(cluster(tmp.resolve("plain"), flags, false));
    assertEquals(plain.keySet(), calibrated.keySet());
    boolean anyDifferent = false;
    for (Map.Entry<String, JsonObject> e : calibrated.entrySet()) {
      JsonObject layer = e.getValue();
      assertTrue(layer.get("max_distinct_per_codebook").getAsInt() <= layer.get("clusters").getAsInt(),
          layer.toString());
      anyDifferent |= layer.get("sse").getAsDouble() != plain.get(e.getKey()).get("sse").getAsDouble();
    }
    assertTrue(anyDifferent, flags + ": the calibrated clustering is the uncalibrated one");
  }

  private static JsonObject cluster(Path out, String flags, boolean calibrated) throws Exception {
    List<String> args = new ArrayList<>(List.of("cluster", DIR.resolve("model.keras").toString(),
        "-o", out.toString(), "--clusters", "4", "--no-size"));
    args.addAll(List.of(flags.split(" ")));
    if (calibrated) {
      args.addAll(List.of("--calibration", DIR.resolve("inputs.npz").toString()));
    }
    assertEquals(0, EndToEndFixturesTest.cli(args.toArray(new String[0])), String.join(" ", args));
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    assertEquals(calibrated, report.has("calibration"), report.keySet().toString());
    if (report.has("rate_control")) {
      JsonObject rate = report.getAsJsonObject("rate_control");
      double reached = rate.get("reached_bits_per_weight").getAsDouble();
      assertEquals(rate.get("bits_per_weight").getAsDouble(), reached, 1e-9, rate.toString());
      assertTrue(reached <= rate.get("target_bits").getAsDouble(), rate.toString());
    }
    if (calibrated) {
      JsonObject agreement = report.getAsJsonObject("calibration").getAsJsonObject("output_agreement");
      assertEquals(40, agreement.get("examples").getAsInt());
    }
    return report;
  }

  private static Map<String, JsonObject> layers(JsonObject report) {
    Map<String, JsonObject> byName = new TreeMap<>();
    for (JsonElement e : report.getAsJsonArray("layers")) {
      byName.put(e.getAsJsonObject().get("name").getAsString(), e.getAsJsonObject());
    }
    assertEquals(2, byName.size(), byName.keySet().toString());
    return byName;
  }

  private static int distinct(float[] values) {
    Set<Float> set = new HashSet<>();
    for (float v : values) {
      set.add(v);
    }
    return set.size();
  }

  private static String digest(Path path) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (Stream<Path> files = Files.isDirectory(path) ? Files.walk(path).sorted() : Stream.of(path)) {
      for (Path p : files.filter(Files::isRegularFile).toList()) {
        md.update(p.toString().getBytes());
        md.update(Files.readAllBytes(p));
      }
    }
    return java.util.HexFormat.of().formatHex(md.digest());
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TFLM lookup-table compression end to end, checked by the real TFLM interpreter (PyPI
 * tflite-micro) and an independent decoder ({@code check_tflm_compression.py}, which shares no code
 * with wclust's compressor): every fixture model clustered at k = 16 and written with
 * {@code cluster --tflite --compress}, float and int8. Also the bad inputs: nothing to compress, a
 * corrupted compressed model, tflite-micro missing.
 */
class TflmCompressionTest {
  private static final int K = 16;

  /**
   * Each fixture model once (sequential_cnn_tfsave is sequential_cnn saved another way, the same
   * .tflite), float and int8; int8-per-tensor on sequential_cnn.
   */
  static Stream<Arguments> fixturesFloatAndInt8() {
    return Stream.concat(Fixtures.all().stream().filter(f -> !f.name().equals("sequential_cnn_tfsave"))
        .flatMap(f -> Stream.of(Arguments.of(f, "none"), Arguments.of(f, "int8"))),
        Stream.of(Arguments.of(fixture("sequential_cnn"), "int8-per-tensor")));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("fixturesFloatAndInt8")
  void clusteredFixtureCompressesAndRunsInTflm(Fixtures.Fixture fixture, String quantize, @TempDir Path tmp)
      throws Exception {
    Path data = quantize.equals("none") ? null : representativeData(fixture.inputShape(), tmp);
    JsonObject compression = clusterAndCheck(fixture.path(), quantize, data, tmp);
    // The tiny fixtures' int8 weights are smaller than their tables plus a DECODE operator, except the
    // 400 x 32 Dense of sequential_cnn; every float fixture has a conv or dense weight that shrinks.
    if (quantize.equals("none") || fixture.name().equals("sequential_cnn")) {
      assertTrue(compression.get("compressed_tensors").getAsInt() >= 1, compression.toString());
    }
  }

  /**
   * Keras MobileNetV2 (224, alpha 1): its large conv/dense weights compress, float and int8 (about a
   * minute each; int8-per-tensor is measured by scripts/bench-compression.sh instead, and tested here
   * on sequential_cnn).
   */
  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"none", "int8"})
  void kerasMobileNetV2CompressesAndRunsInTflm(String quantize, @TempDir Path tmp) throws Exception {
    Path model = KerasMobileNetV2Test.model();
    Path data = quantize.equals("none") ? null : representativeData(new long[] {224, 224, 3}, tmp);
    // A float .tflite decodes one TFLM table per tensor, so the float case keeps one codebook per folded
    // tensor (--plain-fold): with its random weights and BatchNorm statistics the default gives this network's
    // large kernels 8-32 codebooks over factor groups (FoldedCodebooks.againstUnfolded), up to 512 values per
    // tensor, more than a table holds. int8 decodes per channel, where every codebook choice keeps 16 values.
    JsonObject compression = quantize.equals("none")
        ? clusterAndCheck(model, quantize, data, tmp, "--plain-fold")
        : clusterAndCheck(model, quantize, data, tmp);
    double ratio = compression.get("ratio").getAsDouble();
    // 53 conv/depthwise/dense weights, each with 16 values per tensor (float) or per channel (int8,
    // where the 3x3 depthwise weights, 9 values per channel, stay smaller than their tables).
    if (quantize.equals("none")) {
      assertFalse(json(tmp.resolve("out").resolve("wclust-report.json")).has("batch_norm_codebooks"),
          "--plain-fold chooses no codebooks: one per folded tensor");
    }
    int compressed = compression.get("compressed_tensors").getAsInt();
    assertTrue(quantize.equals("int8") ? compressed >= 25 : compressed >= 50, compression.toString());
    assertTrue(ratio <= (quantize.equals("none") ? 0.15 : 0.70), quantize + ": ratio " + ratio);
  }

  /**
   * Clusters {@code model} at k = 16 into OUT with {@code --tflite lut.tflite --compress}, converts OUT
   * again without compression, and checks the compressed model independently; returns the report's
   * {@code compression} section.
   */
  private static JsonObject clusterAndCheck(Path model, String quantize, Path data, Path tmp, String... extra)
      throws Exception {
    boolean int8 = !quantize.equals("none");
    Path out = tmp.resolve("out");
    Path lut = tmp.resolve("lut.tflite");
    List<String> args = new ArrayList<>(List.of("cluster", model.toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--no-size", "--tflite", lut.toString(), "--compress",
        "--allow-uncompressed"));
    args.addAll(List.of(extra));
    if (int8) {
      args.addAll(List.of("--quantize", quantize, "--representative", data.toString()));
    }
    assertEquals(0, EndToEndFixturesTest.cli(args.toArray(new String[0])));
    JsonObject report = json(lut.resolveSibling("lut.tflite.json"));
    JsonObject compression = report.getAsJsonObject("compression");
    assertEquals(Files.size(lut), report.get("tflite_bytes").getAsLong());
    assertEquals(Files.size(lut), compression.get("compressed_tflite_bytes").getAsLong());
    JsonObject inReport = json(out.resolve("wclust-report.json")).getAsJsonObject("size")
        .getAsJsonObject("tflite_output");
    assertEquals(lut.toString(), inReport.remove("file").getAsString());
    assertEquals(report, inReport, "the cluster report's size.tflite_output is FILE.tflite.json");

    // The same model converted without compression: what the compressed one must compute.
    Path plain = tmp.resolve("plain.tflite");
    List<String> convert = new ArrayList<>(List.of("convert", out.toString(), "-o", plain.toString()));
    if (int8) {
      convert.addAll(List.of("--quantize", quantize, "--data", data.toString()));
    }
    assertEquals(0, EndToEndFixturesTest.cli(convert.toArray(new String[0])));
    assertEquals(Files.size(plain), compression.get("uncompressed_tflite_bytes").getAsLong(),
        "the uncompressed size in the report is that of a plain conversion");

    int compressed = compression.get("compressed_tensors").getAsInt();
    long saved = 0;
    for (JsonElement e : compression.getAsJsonArray("tensors")) {
      JsonObject t = e.getAsJsonObject();
      if (t.get("mode").getAsString().equals("none")) {
        assertTrue(t.has("note"), t.toString());
      } else {
        assertEquals(int8 ? "int8" : "float32", t.get("dtype").getAsString());
        assertTrue(t.get("bits").getAsInt() <= 4, "k = 16 needs at most 4 bits: " + t);
        assertTrue(t.get("table_length").getAsInt() <= K, t.toString());
        saved += t.get("saved_bytes").getAsLong();
      }
    }
    if (compressed == 0) {
      // Nothing paid: --allow-uncompressed wrote the plain model.
      assertArrayEquals(Files.readAllBytes(plain), Files.readAllBytes(lut));
      return compression;
    }
    long actual = Files.size(plain) - Files.size(lut);
    assertTrue(Math.abs(actual - saved) <= 128L * compressed,
        "estimated saving " + saved + " bytes, actual " + actual);
    Path summary = tmp.resolve("check.json");
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("check_tflm_compression.py").toString(), plain.toString(),
        lut.toString(), out.toString(), String.valueOf(K), summary.toString());
    assertEquals(compressed, json(summary).get("decoded").getAsInt(), "tensors TFLM decodes");
    return compression;
  }

  /** A corrupted index stream: the verification names the weight whose decoded values changed. */
  @Test
  void corruptedIndicesAreCaughtNamingTheWeight(@TempDir Path tmp) throws Exception {
    Fixtures.Fixture fixture = fixture("sequential_cnn");
    Path out = tmp.resolve("out");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", fixture.path().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--no-size"));
    Path plain = tmp.resolve("plain.tflite");
    Path lut = tmp.resolve("lut.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", plain.toString()));
    assertEquals(0, EndToEndFixturesTest.cli("convert", plain.toString(), "-o", lut.toString(), "--compress"));
    Path bad = tmp.resolve("bad.tflite");
    String corrupted = runPythonOutput(Fixtures.PYTHON_DIR.resolve("corrupt_lut_indices.py").toString(),
        lut.toString(), bad.toString()).strip();
    IOException e = assertThrows(IOException.class,
        () -> Fixtures.python().runTool("verify-tflm", plain.toString(), bad.toString()));
    assertTrue(e.getMessage().contains("TFLM decodes weight '" + corrupted + "'"), e.getMessage());
  }

  /** Nothing worth compressing: one clear error and no file, or with --allow-uncompressed the plain model. */
  @Test
  void nothingToCompressIsAnErrorUnlessAllowed(@TempDir Path tmp) throws Exception {
    // Unclustered: every conv/dense weight has more values than a table holds, or is tiny.
    Path plain = tmp.resolve("plain.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", fixture("functional_residual").path().toString(),
        "-o", plain.toString()));
    Path lut = tmp.resolve("lut.tflite");
    CliResult refused = run("convert", plain.toString(), "-o", lut.toString(), "--compress");
    assertEquals(2, refused.code());
    assertTrue(refused.err().startsWith("wclust: error: TFLM compression: nothing to compress in "), refused.err());
    assertTrue(refused.err().contains("--allow-uncompressed"), refused.err());
    assertEquals(1, refused.err().strip().lines().count(), refused.err());
    assertFalse(Files.exists(lut));
    assertFalse(Files.exists(lut.resolveSibling("lut.tflite.json")));
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of("plain.tflite", "plain.tflite.json"), left.map(p -> p.getFileName().toString()).sorted()
          .toList(), "no partial files left");
    }

    assertEquals(0, EndToEndFixturesTest.cli("convert", plain.toString(), "-o", lut.toString(), "--compress",
        "--allow-uncompressed"));
    assertArrayEquals(Files.readAllBytes(plain), Files.readAllBytes(lut));
    JsonObject compression = json(lut.resolveSibling("lut.tflite.json")).getAsJsonObject("compression");
    assertEquals(0, compression.get("compressed_tensors").getAsInt());
  }

  /** A Python with TensorFlow but without tflite-micro: the error names the install command. */
  @Test
  void missingTfliteMicroNamesTheInstallCommand(@TempDir Path tmp) throws Exception {
    Path plain = tmp.resolve("plain.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", fixture("sequential_cnn").path().toString(),
        "-o", plain.toString()));
    Path python = pythonWithoutTfliteMicro(tmp.resolve("venv"));
    Path lut = tmp.resolve("lut.tflite");
    CliResult result = runProcess(python, "convert", plain.toString(), "-o", lut.toString(), "--compress");
    assertEquals(2, result.code(), result.err());
    String last = result.err().strip().lines().reduce((a, b) -> b).orElse("");
    assertEquals("wclust: error: TFLM compression: Python package 'tflite-micro' not found; install it with: "
        + "scripts/setup-python.sh (pip install tflite-micro==0.dev20261023182759 into .venv)", last);
    assertFalse(Files.exists(lut));
  }

  private static Fixtures.Fixture fixture(String name) {
    return Fixtures.all().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
  }

  static Path representativeData(long[] inputShape, Path tmp) throws Exception {
    Path data = tmp.resolve("representative.npz");
    StringBuilder shape = new StringBuilder("(8");
    for (long d : inputShape) {
      shape.append(',').append(d);
    }
    shape.append(')');
    Fixtures.runPython("-c", "import numpy as np; np.savez('" + data + "', x=np.random.default_rng(0)"
        + ".random(" + shape + ").astype(np.float32))");
    return data;
  }

  private static JsonObject json(Path file) throws IOException {
    return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
  }

  private static String runPythonOutput(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Fixtures.python().python().toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), String.join(" ", args));
    return out;
  }

  private record CliResult(int code, String err) {}

  /** wclust in this JVM, with its stderr. */
  private static CliResult run(String... args) {
    picocli.CommandLine cli = org.wclust.cli.WclustCommand.commandLine(new org.wclust.models.DemoCommand());
    java.io.StringWriter err = new java.io.StringWriter();
    cli.setErr(new java.io.PrintWriter(err));
    cli.setOut(new java.io.PrintWriter(new java.io.StringWriter()));
    return new CliResult(cli.execute(args), err.toString());
  }

  /** wclust in a new JVM whose Python is {@code python} (WCLUST_PYTHON). */
  private static CliResult runProcess(Path python, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "org.wclust.models.WclustMain"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("WCLUST_PYTHON", python.toString());
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
    Process p = pb.start();
    String err = new String(p.getErrorStream().readAllBytes());
    return new CliResult(p.waitFor(), err);
  }

  /**
   * A virtualenv whose Python sees every package of the project's .venv except tflite-micro: its
   * site-packages entries linked one by one into a directory that a .pth file adds to the path.
   */
  private static Path pythonWithoutTfliteMicro(Path dir) throws Exception {
    Fixtures.runPython("-m", "venv", "--without-pip", dir.toString());
    Path python = dir.resolve("bin/python");
    Path shared = Path.of(runPythonOutput("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip());
    Path filtered = Files.createDirectories(dir.resolve("site-packages-without-tflite-micro"));
    try (Stream<Path> entries = Files.list(shared)) {
      for (Path entry : entries.toList()) {
        if (!entry.getFileName().toString().toLowerCase(java.util.Locale.ROOT).startsWith("tflite_micro")) {
          Files.createSymbolicLink(filtered.resolve(entry.getFileName()), entry);
        }
      }
    }
    Process p = new ProcessBuilder(python.toString(), "-c",
        "import sysconfig; print(sysconfig.get_paths()['purelib'])").start();
    Path own = Path.of(new String(p.getInputStream().readAllBytes()).strip());
    assertEquals(0, p.waitFor());
    Files.writeString(own.resolve("wclust-test.pth"), "import site; site.addsitedir('" + filtered + "')\n");
    return python;
  }
}

package org.wclust.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.TfJavaModels;
import org.wclust.internal.data.TestFiles;
import picocli.CommandLine;

/**
 * Bad input to {@code wclust cluster}: exit status 2, exactly one stderr line
 * {@code wclust: error: ...} naming the problem, and no OUT (nor a staging directory) left behind.
 */
class BadInputTest {
  @TempDir static Path shared;
  static Path model;

  @TempDir Path tmp;
  Path out;

  @BeforeAll
  static void exportModel() throws IOException {
    model = TfJavaModels.exportDense(shared.resolve("model"));
  }

  @BeforeEach
  void setUp() {
    assumeTrue(System.getenv("WCLUST_DEBUG") == null, "WCLUST_DEBUG adds a stack trace to stderr");
    out = tmp.resolve("out");
  }

  /** Runs {@code wclust cluster ARGS}; asserts the failure contract; returns the error message. */
  private String fails(String... args) throws IOException {
    StringWriter err = new StringWriter();
    StringWriter stdout = new StringWriter();
    CommandLine cli = WclustCommand.commandLine();
    cli.setOut(new PrintWriter(stdout, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> argv = new ArrayList<>(List.of("cluster"));
    argv.addAll(List.of(args));
    int code = cli.execute(argv.toArray(new String[0]));

    List<String> lines = err.toString().lines().toList();
    assertEquals(2, code, "exit code; stderr: " + err);
    assertEquals(1, lines.size(), "one stderr line: " + err);
    assertTrue(lines.get(0).startsWith("wclust: error: "), lines.get(0));
    assertEquals("", stdout.toString());
    try (Stream<Path> siblings = Files.list(out.toAbsolutePath().getParent())) {
      List<String> partial = siblings.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("." + out.getFileName() + ".partial-")).toList();
      assertEquals(List.of(), partial, "staging directories left behind");
    }
    return lines.get(0).substring("wclust: error: ".length());
  }

  private void assertNoOut() {
    assertFalse(Files.exists(out), "OUT must not be created");
  }

  @Test
  void missingModelPath() throws IOException {
    Path missing = tmp.resolve("nope");
    assertEquals("no such file or directory: " + missing,
        fails(missing.toString(), "-o", out.toString(), "--clusters", "4"));
    assertNoOut();
  }

  @Test
  void directoryWithoutSavedModelPb() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("empty"));
    String msg = fails(dir.toString(), "-o", out.toString(), "--clusters", "4");
    assertTrue(msg.startsWith("not a SavedModel: ") && msg.contains("saved_model.pb"), msg);
    assertNoOut();
  }

  @Test
  void corruptSavedModelPb() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("corrupt"));
    byte[] junk = new byte[4096];
    new Random(42).nextBytes(junk);
    Files.write(dir.resolve("saved_model.pb"), junk);
    String msg = fails(dir.toString(), "-o", out.toString(), "--clusters", "4");
    assertTrue(msg.startsWith("truncated or corrupt SavedModel: cannot parse " + dir.resolve("saved_model.pb")), msg);
    assertNoOut();
  }

  @Test
  void oneCluster() throws IOException {
    String msg = fails(model.toString(), "-o", out.toString(), "--clusters", "1");
    assertTrue(msg.contains("--clusters") && msg.contains("at least 2"), msg);
    assertNoOut();
  }

  @Test
  void layersRegexMatchingNothing() throws IOException {
    String msg = fails(model.toString(), "-o", out.toString(), "--clusters", "2", "--layers", "nomatch");
    assertTrue(msg.contains("'nomatch'") && msg.contains("matches no clusterable layer")
        && msg.contains("dense/kernel"), msg);
    assertNoOut();
  }

  @Test
  void outputAlreadyExists() throws IOException {
    Files.createDirectories(out);
    Path marker = Files.writeString(out.resolve("keep.txt"), "mine");
    String msg = fails(model.toString(), "-o", out.toString(), "--clusters", "2");
    assertEquals("output already exists: " + out, msg);
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(List.of(marker), files.toList(), "existing OUT untouched");
    }
  }

  @Test
  void corruptKerasFile() throws IOException {
    Path keras = Files.writeString(tmp.resolve("model.keras"), "PK");
    String msg = fails(keras.toString(), "-o", out.toString(), "--clusters", "2");
    assertEquals("not a Keras 3 file: " + keras + " is not a zip archive", msg);
    assertNoOut();
  }

  @Test
  void configEntryMatchingNothing() throws IOException {
    Path config = Files.writeString(tmp.resolve("c.json"), "{\"nomatch\": 4}");
    String msg = fails(model.toString(), "-o", out.toString(), "--config", config.toString());
    assertTrue(msg.contains("config entry 'nomatch'") && msg.contains("matches no clusterable layer"), msg);
    assertNoOut();
  }

  @Test
  void configEntryWithOneCluster() throws IOException {
    Path config = Files.writeString(tmp.resolve("c.json"), "{\"dense\": 1}");
    String msg = fails(model.toString(), "-o", out.toString(), "--config", config.toString());
    assertTrue(msg.contains("config entry 'dense'") && msg.contains("at least 2"), msg);
    assertNoOut();
  }

  @Test
  void unknownInitMethodNamesTheValidOnes() throws IOException {
    String message = fails(model.toString(), "-o", out.toString(), "--clusters", "4", "--init", "bogus");
    assertTrue(message.contains("bogus") && message.contains("optimal") && message.contains("kmeans++"), message);
    assertNoOut();
  }

  @Test
  void badGranularity() throws IOException {
    String message = fails(model.toString(), "-o", out.toString(), "--clusters", "4", "--granularity", "diagonal");
    assertTrue(message.contains("diagonal") && message.contains("group:G"), message);
    assertNoOut();
  }

  @Test
  void groupSizeBelowOne() throws IOException {
    String message = fails(model.toString(), "-o", out.toString(), "--clusters", "4", "--granularity", "group:0");
    assertTrue(message.contains("group:0"), message);
    assertNoOut();
  }

  @Test
  void unknownOptionIsOneLineToo() throws IOException {
    String message = fails(model.toString(), "-o", out.toString(), "--clusters", "4", "--frobnicate");
    assertTrue(message.contains("--frobnicate"), message);
    assertNoOut();
  }

  /** Four float inputs per example (the model's [-1, 4]), with integer labels unless {@code labels} is false. */
  private Path data(String name, int width, boolean labels) throws IOException {
    float[] x = new float[3 * width];
    byte[] inputs = TestFiles.npy(1, "<f4", false, new long[] {3, width}, TestFiles.f4(x));
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("x.npy", inputs);
    if (labels) {
      entries.put("y.npy", TestFiles.npy(1, "<i8", false, new long[] {3}, TestFiles.i8(0, 1, 2)));
    }
    return TestFiles.zip(tmp.resolve(name), false, entries);
  }

  @Test
  void missingTrainingData() throws IOException {
    Path missing = tmp.resolve("train.npz");
    assertEquals("no such file: " + missing,
        fails(model.toString(), "-o", out.toString(), "--clusters", "2", "--data", missing.toString()));
    assertNoOut();
  }

  @Test
  void trainingDataWithoutLabelsNeedsDistill() throws IOException {
    String msg = fails(model.toString(), "-o", out.toString(), "--clusters", "2",
        "--data", data("images.npz", 4, false).toString());
    assertTrue(msg.contains("no labels") && msg.contains("--distill"), msg);
    assertNoOut();
  }

  @Test
  void trainingDataOfTheWrongShape() throws IOException {
    String msg = fails(model.toString(), "-o", out.toString(), "--clusters", "2",
        "--data", data("wide.npz", 5, true).toString());
    assertTrue(msg.contains("[5]") && msg.contains("[4]"), msg);
    assertNoOut();
  }

  @Test
  void compressionOptionsNeedTflite() throws IOException {
    assertEquals("--quantize, --representative and --compress need --tflite FILE.tflite",
        fails(model.toString(), "-o", out.toString(), "--clusters", "2", "--compress"));
    assertNoOut();
  }

  @Test
  void int8TfliteNeedsRepresentativeInputs() throws IOException {
    String msg = fails(model.toString(), "-o", out.toString(), "--clusters", "2",
        "--tflite", tmp.resolve("m.tflite").toString(), "--quantize", "int8");
    assertTrue(msg.contains("--quantize int8") && msg.contains("--representative FILE.npz"), msg);
    assertNoOut();
  }

  @Test
  void tfliteOutputMustBeATfliteFile() throws IOException {
    Path bad = tmp.resolve("m.bin");
    assertEquals("--tflite must name a .tflite file: " + bad,
        fails(model.toString(), "-o", out.toString(), "--clusters", "2", "--tflite", bad.toString()));
    String msg = fails(model.toString(), "-o", out.toString(), "--clusters", "2",
        "--tflite", tmp.resolve("m.tflite").toString(), "--quantize", "fp16");
    assertTrue(msg.contains("'fp16'") && msg.contains("none, int8, int8-per-tensor"), msg);
    assertFalse(Files.exists(tmp.resolve("m.tflite")));
    assertNoOut();
  }

  @Test
  void zeroEpochs() throws IOException {
    String msg = fails(model.toString(), "-o", out.toString(), "--clusters", "2",
        "--data", data("train.npz", 4, true).toString(), "--epochs", "0");
    assertEquals("epochs must be at least 1, got 0", msg);
    assertNoOut();
  }

  @Test
  void unknownOptimizerNamesTheValidOnes() throws IOException {
    String msg = fails(model.toString(), "-o", out.toString(), "--clusters", "2",
        "--data", data("train.npz", 4, true).toString(), "--optimizer", "rmsprop");
    assertTrue(msg.contains("'rmsprop'") && msg.contains("adam") && msg.contains("sgd"), msg);
    assertNoOut();
  }
}

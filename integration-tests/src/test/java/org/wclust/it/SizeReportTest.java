package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.api.Wclust;
import org.wclust.internal.bridge.SavedModelWriter;
import org.wclust.internal.bridge.ZipSize;
import org.wclust.cli.WclustCommand;
import org.wclust.internal.fold.BatchNormFolder;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.load.ModelLoader;
import org.wclust.internal.strip.ClusterStripper;
import picocli.CommandLine;

/**
 * The size report: the {@code size} section of {@code wclust cluster}, the sizes file of
 * {@code wclust convert}, and {@code wclust report}, on the Keras {@code sequential_cnn} fixture with
 * the real TFLite converter.
 */
class SizeReportTest {
  private static final int K = 8;
  @TempDir static Path shared;
  static Path fixture;
  static Path clustered;
  static JsonObject size;

  @BeforeAll
  static void clusterTheFixture() throws Exception {
    Fixtures.python();
    fixture = Fixtures.all().stream().filter(f -> f.name().equals("sequential_cnn")).findFirst()
        .orElseThrow().path();
    clustered = shared.resolve("clustered");
    assertEquals(0, run(new StringWriter(), "cluster", fixture.toString(), "-o", clustered.toString(),
        "--clusters", String.valueOf(K)));
    size = report(clustered).getAsJsonObject("size");
  }

  @Test
  void clusterReportsTfliteSizesAndClusteredZipsSmaller() {
    long originalZipped = size.getAsJsonObject("original").get("zipped_tflite_bytes").getAsLong();
    long clusteredZipped = size.getAsJsonObject("clustered").get("zipped_tflite_bytes").getAsLong();
    assertTrue(clusteredZipped < originalZipped, clusteredZipped + " >= " + originalZipped);
    assertEquals((double) originalZipped / clusteredZipped, size.get("ratio").getAsDouble(), 1e-12);
    assertTrue(size.get("ratio").getAsDouble() > 2, "ratio " + size.get("ratio"));
    assertFalse(size.has("tflite"), "no note when measured: " + size);
    // Codebook formats are smaller still than deflate of the .tflite, and Huffman beats packing.
    long packed = size.get("packed_bytes").getAsLong();
    long huffman = size.get("huffman_bytes").getAsLong();
    assertTrue(huffman <= packed, huffman + " > " + packed);
    assertTrue(packed < size.get("float32_weight_bytes").getAsLong() / 8, "packed " + packed);
  }

  @Test
  void outStaysASavedModelWithoutTfliteFiles() throws Exception {
    try (Stream<Path> files = Files.walk(clustered)) {
      assertTrue(files.noneMatch(p -> p.toString().endsWith(".tflite")));
    }
  }

  /** The clustered figures are those of OUT converted by {@code wclust convert}. */
  @Test
  void clusteredSizesEqualAnIndependentConversion(@TempDir Path tmp) throws Exception {
    Path tflite = tmp.resolve("model.tflite");
    assertEquals(0, run(new StringWriter(), "convert", clustered.toString(), "-o", tflite.toString()));
    JsonObject sizes = JsonParser.parseString(Files.readString(tmp.resolve("model.tflite.json"))).getAsJsonObject();
    assertEquals(Files.size(tflite), sizes.get("tflite_bytes").getAsLong());
    assertEquals(ZipSize.of(tflite), sizes.get("zipped_tflite_bytes").getAsLong());
    assertEquals(size.get("clustered"), sizes);
  }

  /**
   * The original figures are those of the unclustered model exported the way wclust exports (loaded,
   * BatchNorm folded, frozen into constants) and converted.
   */
  @Test
  void originalSizesEqualAnIndependentExportAndConversion(@TempDir Path tmp) throws Exception {
    FlatModel model = BatchNormFolder.fold(ModelLoader.load(fixture, ModelLoader.DEFAULT_SIGNATURE)).model();
    Path savedModel = tmp.resolve("original");
    SavedModelWriter.write(savedModel, ClusterStripper.strip(model, List.of()).graph(), model.signature());
    Path tflite = tmp.resolve("tflite").resolve("model.tflite");
    assertEquals(0, run(new StringWriter(), "convert", savedModel.toString(), "-o", tflite.toString()));
    JsonObject sizes = JsonParser.parseString(Files.readString(tflite.resolveSibling("model.tflite.json")))
        .getAsJsonObject();
    assertEquals(size.get("original"), sizes);
  }

  @Test
  void reportPrintsBothSizes() throws Exception {
    StringWriter out = new StringWriter();
    assertEquals(0, run(out, "report", fixture.toString(), clustered.toString()));
    String text = out.toString();
    List<String> lines = text.lines().toList();
    String tfliteRow = lines.stream().filter(l -> l.startsWith(".tflite bytes")).findFirst().orElseThrow();
    String zippedRow = lines.stream().filter(l -> l.startsWith("zipped .tflite bytes")).findFirst().orElseThrow();
    String[] tflite = tfliteRow.substring(".tflite bytes".length()).trim().split("\\s+");
    String[] zipped = zippedRow.substring("zipped .tflite bytes".length()).trim().split("\\s+");
    assertEquals(2, tflite.length, tfliteRow);
    assertEquals(2, zipped.length, zippedRow);
    JsonObject c = size.getAsJsonObject("clustered");
    assertEquals(c.get("tflite_bytes").getAsString(), tflite[1]);
    assertEquals(c.get("zipped_tflite_bytes").getAsString(), zipped[1]);
    assertTrue(Long.parseLong(zipped[1]) < Long.parseLong(zipped[0]), zippedRow);
    String distinctRow = lines.stream().filter(l -> l.startsWith("max distinct per tensor")).findFirst()
        .orElseThrow();
    String[] distinct = distinctRow.substring("max distinct per tensor".length()).trim().split("\\s+");
    assertTrue(Integer.parseInt(distinct[0]) > K, distinctRow);
    assertTrue(Integer.parseInt(distinct[1]) <= K, distinctRow);
    assertTrue(text.contains("packed " + size.get("packed_bytes").getAsLong() + " bytes"), text);
    assertTrue(text.contains("Huffman-coded " + size.get("huffman_bytes").getAsLong() + " bytes"), text);
  }

  @Test
  void reportJson() throws Exception {
    StringWriter out = new StringWriter();
    assertEquals(0, run(out, "report", fixture.toString(), clustered.toString(), "--json"));
    JsonObject json = JsonParser.parseString(out.toString()).getAsJsonObject();
    JsonObject original = json.getAsJsonObject("original");
    JsonObject clusteredSide = json.getAsJsonObject("clustered");
    assertEquals(size.getAsJsonObject("clustered").get("tflite_bytes"), clusteredSide.get("tflite_bytes"));
    assertEquals(size.getAsJsonObject("clustered").get("zipped_tflite_bytes"),
        clusteredSide.get("zipped_tflite_bytes"));
    assertEquals(original.get("weight_tensors"), clusteredSide.get("weight_tensors"));
    assertTrue(original.get("weight_tensors").getAsInt() >= 2);
    assertTrue(clusteredSide.get("max_distinct_per_weight_tensor").getAsInt() <= K);
    assertTrue(original.get("max_distinct_per_weight_tensor").getAsInt() > K);
    assertEquals(original.get("zipped_tflite_bytes").getAsDouble()
        / clusteredSide.get("zipped_tflite_bytes").getAsDouble(), json.get("ratio").getAsDouble(), 1e-12);
    assertEquals(size.get("packed_bytes"), json.getAsJsonObject("clustered_weights").get("packed_bytes"));
    assertEquals(size.get("huffman_bytes"), json.getAsJsonObject("clustered_weights").get("huffman_bytes"));
  }

  @Test
  void noSizeWritesNoTfliteFigures(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    assertEquals(0, run(new StringWriter(), "cluster", fixture.toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--no-size"));
    JsonObject noSize = report(out).getAsJsonObject("size");
    for (String key : List.of("original", "clustered", "ratio")) {
      assertFalse(noSize.has(key), key + " in " + noSize);
    }
    assertFalse(noSize.toString().contains("tflite_bytes"), noSize.toString());
    assertEquals(Wclust.SIZE_SKIPPED, noSize.get("tflite").getAsString());
    // Same clustering, so the same codebook figures.
    assertEquals(size.get("packed_bytes"), noSize.get("packed_bytes"));
    assertEquals(size.get("huffman_bytes"), noSize.get("huffman_bytes"));
  }

  private static JsonObject report(Path out) throws Exception {
    return JsonParser.parseString(Files.readString(out.resolve(Wclust.REPORT_FILE))).getAsJsonObject();
  }

  private static int run(StringWriter out, String... args) {
    CommandLine cli = WclustCommand.commandLine();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    if (code != 0) {
      System.err.println("wclust " + String.join(" ", args) + " -> " + code + ": " + err);
    }
    return code;
  }
}

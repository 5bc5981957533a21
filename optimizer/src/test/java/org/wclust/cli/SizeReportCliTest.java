package org.wclust.cli;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.TfJavaModels;
import org.wclust.api.Wclust;
import picocli.CommandLine;

/** The size section of {@code wclust cluster --no-size} and bad input to {@code convert} / {@code report}. */
class SizeReportCliTest {
  @TempDir Path tmp;

  private int run(StringWriter err, String... args) {
    CommandLine cli = WclustCommand.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void noSizeReportsPackedAndHuffmanSizesButNoTfliteFigures() throws Exception {
    Path model = TfJavaModels.exportDense(tmp.resolve("model"));
    Path out = tmp.resolve("out");
    StringWriter err = new StringWriter();
    assertEquals(0, run(err, "cluster", model.toString(), "-o", out.toString(), "--clusters", "2", "--no-size"),
        err.toString());
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve(Wclust.REPORT_FILE)))
        .getAsJsonObject();
    JsonObject size = report.getAsJsonObject("size");
    for (String key : List.of("original", "clustered", "ratio")) {
      assertFalse(size.has(key), key + " in " + size);
    }
    assertEquals(Wclust.SIZE_SKIPPED, size.get("tflite").getAsString());
    // The 4x3 kernel at k = 2: 12 x 1 index bits + 2 x 32 centroid bits = 76 bits -> 10 bytes.
    long params = TfJavaModels.KERNEL.length * TfJavaModels.KERNEL[0].length;
    assertEquals((params + 64 + 7) / 8, size.get("packed_bytes").getAsLong());
    assertTrue(size.get("huffman_bytes").getAsLong() <= size.get("packed_bytes").getAsLong());
    assertEquals(4 * params, size.get("float32_weight_bytes").getAsLong());
    assertTrue(report.getAsJsonArray("layers").get(0).getAsJsonObject().has("huffman_bits"));
  }

  @Test
  void convertRefusesToWriteIntoTheInputDirectory() throws Exception {
    Path model = TfJavaModels.exportDense(tmp.resolve("model"));
    StringWriter err = new StringWriter();
    assertEquals(2, run(err, "convert", model.toString(), "-o", model.resolve("m.tflite").toString()));
    assertTrue(err.toString().contains("is inside SAVEDMODEL"), err.toString());
    assertFalse(Files.exists(model.resolve("m.tflite")));
    assertFalse(Files.exists(model.resolve("m.tflite.json")));
  }

  @Test
  void reportNeedsTwoSavedModels() throws Exception {
    Path model = TfJavaModels.exportDense(tmp.resolve("model"));
    StringWriter err = new StringWriter();
    assertEquals(2, run(err, "report", model.toString(), tmp.resolve("missing").toString()));
    assertEquals(1, err.toString().lines().count(), err.toString());
    assertTrue(err.toString().startsWith("wclust: error: no such file or directory: "), err.toString());
  }
}

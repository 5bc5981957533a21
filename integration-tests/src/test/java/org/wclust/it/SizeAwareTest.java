package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --size-aware trades squared error for entropy: smaller coded and zipped models at the same k. */
class SizeAwareTest {
  @Test
  void sizeAwareCodesSmallerAtTheSameK(@TempDir Path tmp) throws Exception {
    Path model = Fixtures.all().stream().filter(f -> f.name().equals("sequential_cnn"))
        .findFirst().orElseThrow().path();
    JsonObject plain = cluster(model, tmp.resolve("plain"));
    JsonObject sized = cluster(model, tmp.resolve("sized"), "--size-aware", "--size-weight", "0.05");
    JsonObject plainSize = plain.getAsJsonObject("size");
    JsonObject sizedSize = sized.getAsJsonObject("size");
    assertTrue(sizedSize.get("huffman_bytes").getAsLong() < plainSize.get("huffman_bytes").getAsLong(),
        sizedSize + " vs " + plainSize);
    assertTrue(sizedSize.getAsJsonObject("clustered").get("zipped_tflite_bytes").getAsLong()
        < plainSize.getAsJsonObject("clustered").get("zipped_tflite_bytes").getAsLong(), sizedSize + " vs " + plainSize);
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

  private static JsonObject cluster(Path model, Path out, String... extra) throws Exception {
    String[] args = new String[6 + extra.length];
    System.arraycopy(new String[] {"cluster", model.toString(), "-o", out.toString(), "--clusters", "16"}, 0, args, 0, 6);
    System.arraycopy(extra, 0, args, 6, extra.length);
    assertEquals(0, EndToEndFixturesTest.cli(args));
    return JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
  }
}

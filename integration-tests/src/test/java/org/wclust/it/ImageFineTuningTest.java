package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning on image files gives what fine-tuning on the same pixels in an .npz gives: the
 * Fashion-MNIST CNN clustered at k = 8 and fine-tuned for one epoch on 6,000 training images, read
 * from the .npz, from PNG class folders and from a TFRecord of PNGs (the same examples in the same
 * order, so the same seed visits them in the same batches). The test accuracies, measured by Python
 * TensorFlow on the 10,000 test images, agree within 0.3 point. Also: a bad image file fails the run
 * with one line and no output.
 */
class ImageFineTuningTest {
  private static final double SAME = 0.003;
  @TempDir Path tmp;

  private double fineTuneAndMeasure(String name, String... data) throws Exception {
    Path out = tmp.resolve(name);
    List<String> args = new ArrayList<>(List.of("cluster", FashionMnist.model().toString(), "-o", out.toString(),
        "--clusters", "8", "--val", FashionMnist.test().toString(), "--scale", Double.toString(FashionMnist.SCALE),
        "--no-size", "--epochs", "1", "--seed", "7"));
    args.addAll(Arrays.asList(data));
    assertEquals(0, EndToEndFixturesTest.cli(args.toArray(new String[0])));
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    for (JsonElement e : report.getAsJsonArray("layers")) {
      assertTrue(e.getAsJsonObject().get("distinct_values").getAsInt() <= 8, e.toString());
    }
    return FashionMnist.accuracy(out, FashionMnist.test(), FashionMnist.SCALE);
  }

  @Test
  void pngFolderAndTfrecordOfPngsFineTuneAsTheNpzDoes() throws Exception {
    double npz = fineTuneAndMeasure("npz", "--data", ImageData.sortedNpz().toString());
    double png = fineTuneAndMeasure("png", "--data", ImageData.pngFolder().toString());
    double tfrecord = fineTuneAndMeasure("tfrecord", "--data", ImageData.tfrecord().toString(),
        "--features", "image:image,label:label");
    assertEquals(npz, png, SAME, "PNG folder vs .npz");
    assertEquals(npz, tfrecord, SAME, "TFRecord of PNGs vs .npz");
    // and the fine-tuning did its job (the original scores about 91 %)
    assertTrue(npz > FashionMnist.kerasAccuracy() - 0.02, "k=8 on 6,000 images: " + npz);
  }

  @Test
  void aCorruptImageFailsTheRunWithOneLineAndNoOutput() throws Exception {
    Path data = tmp.resolve("data");
    for (String c : List.of("0", "1")) {
      Files.createDirectories(data.resolve(c));
      try (var files = Files.list(ImageData.pngFolder().resolve(c))) {
        for (Path f : files.sorted().limit(40).toList()) {
          Files.copy(f, data.resolve(c).resolve(f.getFileName()));
        }
      }
    }
    Path victim = data.resolve("1/broken.png");
    byte[] png = Files.readAllBytes(ImageData.pngFolder().resolve("0").resolve(
        Files.list(ImageData.pngFolder().resolve("0")).sorted().findFirst().orElseThrow().getFileName()));
    Files.write(victim, Arrays.copyOf(png, 30)); // a PNG signature, then nothing decodable
    Path out = tmp.resolve("out");
    WclustProcess.Result r = WclustProcess.run(tmp, 600, "cluster", FashionMnist.model().toString(), "-o",
        out.toString(), "--clusters", "8", "--scale", Double.toString(FashionMnist.SCALE), "--no-size",
        "--data", data.toString());
    assertEquals(2, r.exit(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("wclust: error: cannot decode image " + victim), r.err());
    assertFalse(Files.exists(out));

    Files.writeString(data.resolve("0/readme.txt"), "not an image");
    WclustProcess.Result strict = WclustProcess.run(tmp, 600, "cluster", FashionMnist.model().toString(), "-o",
        out.toString(), "--clusters", "8", "--no-size", "--data", data.toString(), "--strict");
    assertEquals(2, strict.exit(), strict.err());
    assertEquals(1, strict.err().strip().lines().count(), strict.err());
    assertTrue(strict.err().contains("readme.txt"), strict.err());
    assertFalse(Files.exists(out));
  }
}

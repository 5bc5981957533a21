package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MobileNetV2 (Conv2D+BN+ReLU6, DepthwiseConv2D+BN, residual Adds) clustered at k = 16 with BatchNorm
 * folding: every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED weight of the float .tflite keeps at
 * most 16 distinct values, counted from the interpreter's tensors — per channel for the kernels the
 * report gives one codebook per channel or per group of channels, per tensor for the others. With its
 * random weights and BatchNorm statistics, the default moves the outputs no more than {@code --no-fold-bn}
 * does (issue 11's line for this fixture), on 16 random images.
 */
class MobileNetV2Test {
  private static final int K = 16;

  @Test
  void everyConvDepthwiseAndDenseWeightKeeps16ValuesAndMovesOutputsNoMoreThanNotFolding(@TempDir Path tmp)
      throws Exception {
    Path model = Fixtures.mobileNetV2();
    String images = model.resolveSibling("random16.npz").toString();
    Path out = tmp.resolve("mobilenet_v2_k16");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", model.toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--val", images, "--no-size"));
    Path tflite = tmp.resolve("mobilenet_v2_k16.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString()));

    // 52 conv/depthwise weights and one dense; the small folded kernels (stem, first blocks) per channel
    Fixtures.assertEveryWeightKeepsAtMostWhereReported(tflite, K, 53, out);

    Path notFolded = tmp.resolve("no-fold");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", model.toString(), "-o", notFolded.toString(),
        "--clusters", String.valueOf(K), "--val", images, "--no-size", "--no-fold-bn"));
    double change = meanRelativeChange(out);
    double without = meanRelativeChange(notFolded);
    assertTrue(change <= without, "mean relative change " + change + ", with --no-fold-bn " + without);
  }

  private static double meanRelativeChange(Path out) throws Exception {
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    JsonObject agreement = report.getAsJsonObject("output_agreement");
    assertEquals(16, agreement.get("examples").getAsInt());
    return agreement.get("mean_relative_change").getAsDouble();
  }
}

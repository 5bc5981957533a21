package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MobileNetV2 (Conv2D+BN+ReLU6, DepthwiseConv2D+BN, residual Adds) clustered at k = 32 with BatchNorm
 * folding: every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED weight of the float .tflite keeps at
 * most 32 distinct values, counted from the interpreter's tensors — per channel for the kernels the
 * report gives one codebook per channel (the small folded ones), per tensor for the others.
 */
class MobileNetV2Test {
  private static final int K = 32;

  @Test
  void everyConvDepthwiseAndDenseWeightKeeps32Values(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("mobilenet_v2_k32");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", Fixtures.mobileNetV2().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K)));
    Path tflite = tmp.resolve("mobilenet_v2_k32.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString()));

    // 52 conv/depthwise weights and one dense; the small folded kernels (stem, first blocks) per channel
    Fixtures.assertEveryWeightKeepsAtMostWhereReported(tflite, K, 53, out);
  }
}

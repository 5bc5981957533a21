package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MobileNetV2 (Conv2D+BN+ReLU6, DepthwiseConv2D+BN, residual Adds) clustered at k = 32 with BatchNorm
 * folding: every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED weight of the float .tflite keeps at
 * most 32 distinct values, counted from the interpreter's tensors.
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

    List<String> tooMany = new ArrayList<>();
    int counted = 0;
    for (JsonElement e : Fixtures.python().runTool("weights", tflite.toString()).getAsJsonArray("weights")) {
      JsonObject w = e.getAsJsonObject();
      counted++;
      if (w.get("distinct").getAsInt() > K) {
        tooMany.add(w.get("op").getAsString() + " " + w.get("tensor").getAsString() + ": " + w.get("distinct"));
      }
    }
    assertEquals(53, counted, "MobileNetV2 has 52 conv/depthwise weights and one dense");
    assertTrue(tooMany.isEmpty(), "weights with more than " + K + " values: " + tooMany);
  }
}

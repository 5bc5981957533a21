package org.wclust.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wclust.internal.data.TestFiles.f4;
import static org.wclust.internal.data.TestFiles.npy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.wclust.TfJavaModels;
import org.wclust.api.Wclust;
import org.wclust.internal.data.TestFiles;

/**
 * After fine-tuning, a dead unit's weights go onto one centroid: here hidden unit 4 of a ReLU perceptron,
 * whose bias of −100 keeps it off on every training input. The outputs on the training inputs stay those
 * of the same run with {@code --no-squeeze}; on inputs large enough to make the unit fire they differ, so
 * its weights did move.
 */
class SqueezeTest {
  private static final int N = 256;
  private static final float[][] HIDDEN_KERNEL = {
      {-1f, 0.5f, 1f, -0.5f, -1.2f}, {1f, -1f, 0.5f, 0.5f, 0.9f}, {-0.5f, 1f, -1f, 1f, -0.3f},
      {0.5f, -0.5f, -0.5f, -1f, 1.4f}};
  private static final float[] HIDDEN_BIAS = {0.1f, -0.1f, 0.2f, 0f, -100f};
  private static final float[][] OUT_KERNEL = {
      {1f, -1f, 0.5f}, {-0.5f, 1f, 1f}, {1f, 0.5f, -1f}, {-1f, -0.5f, 0.5f}, {0.5f, 1f, -0.5f}};
  private static final float[] OUT_BIAS = {0.1f, 0f, -0.1f};

  @TempDir Path tmp;

  @Test
  void aDeadUnitsWeightsGoOntoOneCentroidAndTheTrainingOutputsStay() throws IOException {
    Path model = TfJavaModels.exportMlp(tmp.resolve("model"), HIDDEN_KERNEL, HIDDEN_BIAS, OUT_KERNEL, OUT_BIAS);
    Random random = new Random(7);
    float[] x = new float[N * 4];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    // Targets: the model's own outputs, a little shifted, so that fine-tuning has something to do.
    float[] y = outputs(model, x);
    for (int i = 0; i < y.length; i++) {
      y[i] += 0.1f;
    }
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("x.npy", npy(1, "<f4", false, new long[] {N, 4}, f4(x)));
    entries.put("y.npy", npy(1, "<f4", false, new long[] {N, 3}, f4(y)));
    Path data = TestFiles.zip(tmp.resolve("data.npz"), false, entries);

    Path squeezed = cluster(model, data, tmp.resolve("squeezed"));
    Path kept = cluster(model, data, tmp.resolve("kept"), "--no-squeeze");
    JsonObject report = JsonParser.parseString(Files.readString(squeezed.resolve(Wclust.REPORT_FILE)))
        .getAsJsonObject();
    JsonObject squeeze = report.getAsJsonObject("squeeze");
    assertEquals(1, squeeze.get("dead_units").getAsInt(), squeeze.toString());
    assertEquals(1, squeeze.get("collapsed_units").getAsInt(), squeeze.toString());
    long moved = squeeze.get("weights_moved").getAsLong();
    assertTrue(moved >= 1 && moved <= 4, "only unit 4's 4 incoming weights may move: " + squeeze);
    assertEquals(4 * 5 + 5 * 3, squeeze.get("clustered_weights").getAsLong());
    assertFalse(JsonParser.parseString(Files.readString(kept.resolve(Wclust.REPORT_FILE))).getAsJsonObject()
        .has("squeeze"));

    // Same fine-tuning (same seed): on the training inputs both models compute the same outputs ...
    assertArrayEquals(outputs(kept, x), outputs(squeezed, x), 1e-6f);
    // ... and where unit 4 fires they do not: its weights moved.
    float[] probe = new float[N * 4];
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < 4; j++) {
        probe[i * 4 + j] = (float) Math.signum(HIDDEN_KERNEL[j][4]) * 100f * (1 + i % 3);
      }
    }
    float[] a = outputs(kept, probe);
    float[] b = outputs(squeezed, probe);
    double difference = 0;
    for (int i = 0; i < a.length; i++) {
      difference = Math.max(difference, Math.abs(a[i] - b[i]));
    }
    assertTrue(difference > 1e-3, "unit 4's weights did not change: " + difference);
  }

  private static Path cluster(Path model, Path data, Path out, String... more) {
    List<String> args = new ArrayList<>(List.of("cluster", model.toString(), "-o", out.toString(), "--clusters", "4",
        "--init", "optimal", "--data", data.toString(), "--loss", "mse", "--epochs", "2", "--batch-size", "32",
        "--learning-rate", "0.01", "--seed", "3", "--no-size"));
    args.addAll(List.of(more));
    CliRuns.succeed(args);
    return out;
  }

  /** The SavedModel's outputs on {@code x} ([N, 4]), run by TF Java. */
  private static float[] outputs(Path dir, float[] x) {
    try (SavedModelBundle bundle = SavedModelBundle.load(dir.toString(), "serve");
        TFloat32 in = TFloat32.tensorOf(Shape.of(N, 4), DataBuffers.of(x, true, false));
        Result result = bundle.function("serving_default").call(Map.of("x", in))) {
      float[] y = new float[N * 3];
      ((TFloat32) result.get("y").orElseThrow()).copyTo(DataBuffers.of(y, false, false));
      return y;
    }
  }
}

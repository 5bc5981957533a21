package org.wclust.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wclust.internal.data.TestFiles.i8;
import static org.wclust.internal.data.TestFiles.npy;
import static org.wclust.internal.data.TestFiles.u1;

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
import org.tensorflow.types.TUint8;
import org.wclust.TfJavaModels;
import org.wclust.api.Wclust;
import org.wclust.internal.data.TestFiles;

/**
 * A model that takes raw uint8 pixels gets what measures the diagonal Fisher: a per-layer size budget with
 * fine-tuning data (which weighs the allocation by the Fisher of training examples) and calibration data.
 * Both used to fail with "Expects arg[0] to be uint8 but float is provided".
 */
class Uint8InputFisherTest {
  private static final int N = 256;

  @TempDir Path tmp;

  @Test
  void aBudgetWithDataAndCalibrationMeasureTheFisherOfAUint8Model() throws IOException {
    Path model = TfJavaModels.exportDense(tmp.resolve("model"), TUint8.class);
    Random random = new Random(9);
    int[] x = new int[N * 4];
    long[] y = new long[N];
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < 4; j++) {
        x[i * 4 + j] = random.nextInt(8);
      }
      y[i] = random.nextInt(3);
    }
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("x.npy", npy(1, "|u1", false, new long[] {N, 4}, u1(x)));
    entries.put("y.npy", npy(1, "<i8", false, new long[] {N}, i8(y)));
    Path data = TestFiles.zip(tmp.resolve("data.npz"), false, entries);

    JsonObject budget = cluster(model, tmp.resolve("budget"), "--target-bits", "1.5", "--budget", "--data",
        data.toString(), "--epochs", "1");
    assertEquals(N, budget.get("budget_fisher_examples").getAsInt(), budget.toString());
    assertTrue(budget.getAsJsonObject("rate_control").has("clusters_per_layer"), budget.toString());

    JsonObject calibrated = cluster(model, tmp.resolve("calibrated"), "--calibration", data.toString());
    assertEquals(N, calibrated.getAsJsonObject("calibration").get("examples").getAsInt(), calibrated.toString());
  }

  private static JsonObject cluster(Path model, Path out, String... more) throws IOException {
    List<String> args = new ArrayList<>(List.of("cluster", model.toString(), "-o", out.toString(), "--clusters", "4",
        "--seed", "1", "--no-size"));
    args.addAll(List.of(more));
    CliRuns.succeed(args);
    return JsonParser.parseString(Files.readString(out.resolve(Wclust.REPORT_FILE))).getAsJsonObject();
  }
}

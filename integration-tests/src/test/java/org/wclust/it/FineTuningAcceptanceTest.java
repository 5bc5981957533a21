package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fine-tuning acceptance criteria on real data: a Keras CNN trained on Fashion-MNIST (>= 89 %
 * test accuracy), all Conv2D and Dense kernels clustered by {@code wclust cluster}, fine-tuned on the
 * 60,000 training images, evaluated on the 10,000 test images.
 *
 * <p>The accuracies are checked independently of wclust: Python TensorFlow evaluates the exported
 * SavedModel and the converted .tflite ({@code evaluate_accuracy.py}), and Keras measured the
 * original when it trained it.
 */
class FineTuningAcceptanceTest {
  @TempDir Path tmp;

  private record Run(Path savedModel, JsonObject report, double savedModelAccuracy) {}

  private Run cluster(String name, int k, String... extra) throws Exception {
    Path out = tmp.resolve(name);
    List<String> args = new ArrayList<>(List.of("cluster", FashionMnist.model().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(k), "--val", FashionMnist.test().toString(),
        "--scale", Double.toString(FashionMnist.SCALE), "--no-size"));
    args.addAll(List.of(extra));
    assertEquals(0, EndToEndFixturesTest.cli(args.toArray(new String[0])));
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    double measured = FashionMnist.accuracy(out, FashionMnist.test(), FashionMnist.SCALE);
    JsonObject accuracy = report.getAsJsonObject("accuracy");
    // wclust's own figures agree with Keras (original) and Python TensorFlow (exported model).
    assertEquals(FashionMnist.kerasAccuracy(), accuracy.get("original").getAsDouble(), 1e-4);
    assertEquals(measured, accuracy.get("fine_tuned").getAsDouble(), 1e-4);
    for (JsonElement e : report.getAsJsonArray("layers")) {
      JsonObject layer = e.getAsJsonObject();
      assertTrue(layer.get("distinct_values").getAsInt() <= k, layer.toString());
    }
    assertEquals(4, report.getAsJsonArray("layers").size(), "2 Conv2D + 2 Dense kernels clustered");
    return new Run(out, report, measured);
  }

  private static double drop(Run run) {
    return FashionMnist.kerasAccuracy() - run.savedModelAccuracy();
  }

  @Test
  void k8AfterOneEpochIsWithinOnePointAndTheTfliteModelScoresTheSame() throws Exception {
    Run run = cluster("k8", 8, "--data", FashionMnist.train().toString(), "--epochs", "1");
    assertTrue(drop(run) <= 0.010, "k=8, 1 epoch: " + run.savedModelAccuracy() + " vs " + FashionMnist.kerasAccuracy());

    Path tflite = tmp.resolve("model.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", run.savedModel().toString(), "-o", tflite.toString()));
    double tfliteAccuracy = FashionMnist.accuracy(tflite, FashionMnist.test(), FashionMnist.SCALE);
    assertEquals(run.savedModelAccuracy(), tfliteAccuracy, 0.001, "the .tflite scores as the SavedModel");
    int weights = 0;
    for (JsonElement e : Fixtures.python().runTool("weights", tflite.toString()).getAsJsonArray("weights")) {
      JsonObject w = e.getAsJsonObject();
      assertTrue(w.get("distinct").getAsInt() <= 8, w.toString());
      weights++;
    }
    assertEquals(4, weights, "CONV_2D and FULLY_CONNECTED weights in the .tflite");
  }

  @Test
  void k4AfterTwoEpochsIsWithinTwoAndAHalfPoints() throws Exception {
    Run run = cluster("k4", 4, "--data", FashionMnist.train().toString(), "--epochs", "2");
    assertTrue(drop(run) <= 0.025, "k=4, 2 epochs: " + run.savedModelAccuracy() + " vs " + FashionMnist.kerasAccuracy());
    // Fine-tuning did the recovering: right after clustering the model was further off.
    double clustered = run.report().getAsJsonObject("accuracy").get("clustered").getAsDouble();
    assertTrue(clustered < run.savedModelAccuracy(), "clustered " + clustered + ", fine-tuned " + run.savedModelAccuracy());
  }

  @Test
  void distillationFromUnlabelledTrainingImagesIsWithinOneAndAHalfPoints() throws Exception {
    Run run = cluster("distill", 8, "--data", FashionMnist.trainImages().toString(), "--distill", "--epochs", "1");
    assertTrue(drop(run) <= 0.015, "k=8, distilled: " + run.savedModelAccuracy() + " vs " + FashionMnist.kerasAccuracy());
    assertTrue(run.report().getAsJsonObject("fine_tuning").get("objective").getAsString().startsWith("distillation"));
  }
}

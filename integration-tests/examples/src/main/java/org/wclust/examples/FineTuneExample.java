package org.wclust.examples;

import java.nio.file.Path;
import org.wclust.api.ClusterConfig;
import org.wclust.api.ClusterSummary;
import org.wclust.api.ClusterableModel;
import org.wclust.api.ClusteredModel;
import org.wclust.api.Datasets;
import org.wclust.api.Examples;
import org.wclust.api.FineTuning;
import org.wclust.api.StrippedModel;

/**
 * Example 3: step by step, fine-tuning the clustered model on a dataset with wclust's own loop.
 *
 * <p>Usage: {@code FineTuneExample MODEL TRAIN.npz OUT_DIR [SCALE [EXAMPLES]]}: MODEL a SavedModel, .keras,
 * .h5 or model.json; TRAIN.npz with inputs {@code x} (times SCALE) and integer labels {@code y}, of which
 * the first EXAMPLES are used.
 */
public final class FineTuneExample {
  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    Path trainFile = Path.of(args[1]);
    Path out = Path.of(args[2]);
    double scale = args.length > 3 ? Double.parseDouble(args[3]) : 1;
    int examples = args.length > 4 ? Integer.parseInt(args[4]) : Integer.MAX_VALUE;

    Examples train = Datasets.reader().scale(scale).read(trainFile);
    train = train.slice(0, Math.min(examples, train.size()));
    try (ClusterableModel original = ClusterableModel.load(model)) {
      ClusteredModel clustered = original.cluster(ClusterConfig.builder().clusters(8).measureTfliteSize(false).build());
      ClusterSummary.FineTuningRun run = clustered.fineTune(train,
          FineTuning.builder().epochs(1).batchSize(32).learningRate(1e-4f).build());
      System.out.printf("fine-tuned %d steps on %d examples: loss %.4f, accuracy %.2f%% (%.1f s)%n", run.steps(),
          train.size(), run.finalLoss(), 100 * run.finalAccuracy(), run.seconds());
      StrippedModel stripped = clustered.strip();
      stripped.distinctValues().forEach((w, n) -> System.out.printf("%-20s %d distinct values%n", w, n));
      stripped.exportSavedModel(out);
      System.out.println("wrote " + out);
      if (stripped.distinctValues().values().stream().anyMatch(n -> n > 8)) {
        throw new AssertionError("more than 8 values in a weight: " + stripped.distinctValues());
      }
    }
  }
}

package org.wclust.internal.train;

import java.util.List;
import java.util.Map;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;

/**
 * How well a model does on a dataset, run in TensorFlow batch by batch: top-1 accuracy of a
 * classifier against labels, or mean squared error of a regression model against float targets.
 */
public final class Evaluation {
  private static final int BATCH = 500;

  private Evaluation() {}

  /** The signature output named {@code key}, or the first output when {@code key} is null. */
  public static TensorSpec output(FlatModel model, String key) {
    List<TensorSpec> outputs = model.signature().outputs();
    if (key == null) {
      return outputs.get(0);
    }
    return outputs.stream().filter(o -> o.key().equals(key)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("the model has no output '" + key + "'; it has "
            + outputs.stream().map(TensorSpec::key).toList()));
  }

  /**
   * The input of the Softmax that produces {@code tensorName} (through Identity nodes): the logits of
   * a classifier whose output holds probabilities; null when no Softmax makes the output.
   */
  public static String softmaxInput(FlatModel model, String tensorName) {
    return TrainingGraph.softmaxInput(model, tensorName);
  }

  /** The fraction of {@code data}'s examples whose arg-max output equals the label. */
  public static double accuracy(FlatModel model, Dataset data, String outputKey) {
    if (!data.hasLabels()) {
      throw new IllegalArgumentException("accuracy needs labels; the dataset has none");
    }
    TensorSpec output = output(model, outputKey);
    long right = 0;
    try (ModelSession session = new ModelSession(model)) {
      for (int from = 0; from < data.size(); from += BATCH) {
        int[] batch = range(from, Math.min(data.size(), from + BATCH));
        Map<String, HostTensor> out = session.run(ModelInputs.feeds(data, batch, model),
            List.of(output.tensorName()));
        float[] scores = out.get(output.tensorName()).toFloats();
        int[] labels = data.batchLabels(batch);
        int classes = scores.length / batch.length;
        for (int i = 0; i < batch.length; i++) {
          if (argMax(scores, i * classes, classes) == labels[i]) {
            right++;
          }
        }
      }
    }
    return (double) right / data.size();
  }

  /** The mean squared error of the output against {@code data}'s regression targets. */
  public static double meanSquaredError(FlatModel model, Dataset data, String outputKey) {
    TensorSpec output = output(model, outputKey);
    Dataset fitted = fitTargets(data, output);
    double sum = 0;
    long count = 0;
    try (ModelSession session = new ModelSession(model)) {
      for (int from = 0; from < data.size(); from += BATCH) {
        int[] batch = range(from, Math.min(data.size(), from + BATCH));
        float[] out = session.run(ModelInputs.feeds(data, batch, model), List.of(output.tensorName()))
            .get(output.tensorName()).toFloats();
        float[] target = fitted.batchTargets(batch).toFloats();
        if (out.length != target.length) {
          throw new IllegalArgumentException("the output '" + output.key() + "' has " + out.length / batch.length
              + " values per example but the targets have " + target.length / batch.length);
        }
        for (int i = 0; i < out.length; i++) {
          double d = out[i] - target[i];
          sum += d * d;
        }
        count += out.length;
      }
    }
    return sum / count;
  }

  /**
   * The dataset with its targets seen with the output's per-example shape (e.g. targets [N] for an
   * output [-1, 1]), so that output and target subtract element by element.
   */
  static Dataset fitTargets(Dataset data, TensorSpec output) {
    if (!data.hasTargets()) {
      throw new IllegalArgumentException("the data has no regression targets");
    }
    return output.exampleDims()
        .filter(example -> !java.util.Arrays.equals(example, data.targetShape()))
        .map(data::withTargetShape)
        .orElse(data);
  }

  /** The index of the largest of {@code values[offset .. offset + length)} (the first on ties). */
  public static int argMax(float[] values, int offset, int length) {
    int best = 0;
    for (int j = 1; j < length; j++) {
      if (values[offset + j] > values[offset + best]) {
        best = j;
      }
    }
    return best;
  }

  static int[] range(int from, int to) {
    int[] out = new int[to - from];
    for (int i = 0; i < out.length; i++) {
      out[i] = from + i;
    }
    return out;
  }
}

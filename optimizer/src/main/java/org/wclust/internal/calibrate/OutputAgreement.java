package org.wclust.internal.calibrate;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.train.Evaluation;
import org.wclust.internal.train.ModelInputs;

/**
 * How far a clustered classifier's outputs moved from the original's on inputs without labels: the
 * share of examples whose top-1 class is unchanged, the mean relative change {@code ‖y − y₀‖ / ‖y₀‖}
 * of the output vector, and the mean KL divergence {@code KL(p₀ ‖ p)} of the class probabilities (the
 * output itself when a Softmax makes it, else the softmax of the output).
 *
 * @param examples the number of inputs compared
 */
public record OutputAgreement(int examples, double topOneAgreement, double meanRelativeChange, double meanKl) {
  private static final int BATCH = 250;

  public static OutputAgreement compare(FlatModel original, FlatModel clustered, Dataset data, String outputKey) {
    TensorSpec output = Evaluation.output(original, outputKey);
    float[] y0 = outputs(original, data, output);
    float[] y = outputs(clustered, data, Evaluation.output(clustered, outputKey));
    boolean probabilities = Evaluation.softmaxInput(original, output.tensorName()) != null;
    int n = data.size();
    int classes = y0.length / n;
    long agree = 0;
    double relative = 0;
    double kl = 0;
    for (int e = 0; e < n; e++) {
      int at = e * classes;
      if (Evaluation.argMax(y0, at, classes) == Evaluation.argMax(y, at, classes)) {
        agree++;
      }
      double diff = 0;
      double norm = 0;
      for (int j = at; j < at + classes; j++) {
        diff += (y[j] - (double) y0[j]) * (y[j] - (double) y0[j]);
        norm += y0[j] * (double) y0[j];
      }
      relative += norm > 0 ? Math.sqrt(diff / norm) : 0;
      double[] p0 = probabilities(y0, at, classes, probabilities);
      double[] p = probabilities(y, at, classes, probabilities);
      for (int j = 0; j < classes; j++) {
        if (p0[j] > 0) {
          kl += p0[j] * (Math.log(p0[j]) - Math.log(Math.max(p[j], 1e-30)));
        }
      }
    }
    return new OutputAgreement(n, (double) agree / n, relative / n, kl / n);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("examples", examples);
    o.addProperty("top1_agreement", topOneAgreement);
    o.addProperty("mean_relative_change", meanRelativeChange);
    o.addProperty("mean_kl", meanKl);
    return o;
  }

  /** The output for every example, example after example. */
  public static float[] outputs(FlatModel model, Dataset data, TensorSpec output) {
    float[] all = null;
    try (ModelSession session = new ModelSession(model)) {
      for (int from = 0; from < data.size(); from += BATCH) {
        int to = Math.min(data.size(), from + BATCH);
        int[] batch = new int[to - from];
        for (int i = 0; i < batch.length; i++) {
          batch[i] = from + i;
        }
        Map<String, HostTensor> out = session.run(ModelInputs.feeds(data, batch, model),
            List.of(output.tensorName()));
        float[] scores = out.get(output.tensorName()).toFloats();
        int perExample = scores.length / batch.length;
        if (all == null) {
          all = new float[data.size() * perExample];
        }
        System.arraycopy(scores, 0, all, from * perExample, scores.length);
      }
    }
    return all;
  }

  private static double[] probabilities(float[] y, int at, int classes, boolean already) {
    double[] p = new double[classes];
    if (already) {
      for (int j = 0; j < classes; j++) {
        p[j] = y[at + j];
      }
      return p;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < classes; j++) {
      max = Math.max(max, y[at + j]);
    }
    double sum = 0;
    for (int j = 0; j < classes; j++) {
      p[j] = Math.exp(y[at + j] - max);
      sum += p[j];
    }
    for (int j = 0; j < classes; j++) {
      p[j] /= sum;
    }
    return p;
  }
}

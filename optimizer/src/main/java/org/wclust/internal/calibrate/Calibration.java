package org.wclust.internal.calibrate;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.LayerAllocation;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.graph.DeterministicSums;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.graph.WeightTensor;
import org.wclust.internal.train.Evaluation;
import org.wclust.internal.train.ModelInputs;

/**
 * Data-aware clustering without labels. On a few hundred calibration inputs, each weight's
 * importance is its diagonal (empirical) Fisher information: the mean over the examples of the
 * squared gradient of the cross-entropy between the model's output and the model's own top-1 class,
 * {@code F_i = mean_x (∂ −log p(ŷ(x) | x) / ∂w_i)²}, computed one example at a time (a batch gradient
 * would square sums, not sum squares). To second order, moving weight i by e_i raises the expected
 * loss by {@code ½ Σ F_i e_i²}: the clustering minimises exactly that when each squared error is
 * weighted by F_i (what coremltools calls sensitive k-means). Measured once, on the model that is
 * clustered (BatchNorm folded when it is folded); the model itself is not changed.
 */
public final class Calibration {
  private static final String SCOPE = "wclust_calibration";
  /** Added to every importance, as a fraction of the tensor's mean: a weight no example moved still counts a little. */
  static final double FLOOR = 1e-3;
  /** Examples per backward pass of {@link #reach}. */
  private static final int REACH_BATCH = 64;

  private Calibration() {}

  /**
   * The diagonal Fisher of every weight in {@code targets}, in each tensor's element order, by
   * weight name.
   *
   * @param outputKey the classifier output (null: the first)
   */
  public static Map<String, float[]> fisher(FlatModel model, List<WeightTensor> targets, Dataset data,
      String outputKey) {
    double[][] sum = new double[targets.size()][];
    for (int t = 0; t < targets.size(); t++) {
      sum[t] = new double[(int) targets.get(t).params()];
    }
    float[] ones = new float[data.size()];
    java.util.Arrays.fill(ones, 1f);
    // One example at a time: a batch gradient would square sums, not sum squares.
    lossGradients(model, targets, data, outputKey, ones, 1, perWeight -> {
      for (int t = 0; t < targets.size(); t++) {
        if (perWeight[t] != null) {
          for (int i = 0; i < perWeight[t].length; i++) {
            sum[t][i] += perWeight[t][i] * (double) perWeight[t][i];
          }
        }
      }
    });
    Map<String, float[]> out = new LinkedHashMap<>();
    for (int t = 0; t < targets.size(); t++) {
      float[] f = new float[sum[t].length];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) (sum[t][i] / data.size());
      }
      out.put(targets.get(t).name(), f);
    }
    return out;
  }

  /**
   * Which weights of {@code targets} some example's gradient reaches, by weight name: per weight, the sum
   * over batches of |∂ Σ_e r_e · CE(e) / ∂w| with random example weights r_e in [0.5, 1.5) (CE against the
   * model's own top-1 class, as for the Fisher). It is zero exactly where every example's gradient is
   * zero (that random weights make non-zero gradients cancel has probability zero), as the Fisher is, at
   * one backward pass per batch instead of per example.
   *
   * @param seed the example weights' seed
   */
  public static Map<String, float[]> reach(FlatModel model, List<WeightTensor> targets, Dataset data,
      String outputKey, long seed) {
    java.util.Random random = new java.util.Random(seed);
    float[] exampleWeights = new float[data.size()];
    for (int e = 0; e < exampleWeights.length; e++) {
      exampleWeights[e] = 0.5f + random.nextFloat();
    }
    float[][] sum = new float[targets.size()][];
    for (int t = 0; t < targets.size(); t++) {
      sum[t] = new float[(int) targets.get(t).params()];
    }
    lossGradients(model, targets, data, outputKey, exampleWeights, REACH_BATCH, perWeight -> {
      for (int t = 0; t < targets.size(); t++) {
        if (perWeight[t] != null) {
          for (int i = 0; i < perWeight[t].length; i++) {
            sum[t][i] += Math.abs(perWeight[t][i]);
          }
        }
      }
    });
    Map<String, float[]> out = new LinkedHashMap<>();
    for (int t = 0; t < targets.size(); t++) {
      out.put(targets.get(t).name(), sum[t]);
    }
    return out;
  }

  /**
   * For each batch of {@code batchSize} examples in order, the gradient of {@code Σ_e weight_e · CE(e)}
   * (the cross-entropy against the model's own top-1 class) with respect to each weight of {@code targets},
   * handed to {@code perBatch} per target in element order (null where no gradient reaches the tensor;
   * reads of one weight added up).
   */
  private static void lossGradients(FlatModel model, List<WeightTensor> targets, Dataset data, String outputKey,
      float[] exampleWeights, int batchSize, java.util.function.Consumer<float[][]> perBatch) {
    TensorSpec output = Evaluation.output(model, outputKey);
    int[] topOne = topOne(model, data, output);
    TensorSpec input = model.signature().inputs().get(0);
    try (ModelSession session = DeterministicSums.session(model)) {
      Graph graph = session.graph();
      Ops tf = Ops.create(graph).withSubScope(SCOPE);
      Operand<TFloat32> logits = logits(model, graph, tf, output.tensorName());
      Placeholder<TInt32> label = tf.withName("label").placeholder(TInt32.class);
      Placeholder<TFloat32> weight = tf.withName("example_weight").placeholder(TFloat32.class);
      int classes = (int) logits.shape().get(logits.shape().numDimensions() - 1);
      Operand<TFloat32> oneHot = tf.oneHot(label, tf.constant(classes), tf.constant(1f), tf.constant(0f));
      Operand<TFloat32> loss = tf.sum(tf.math.mul(tf.nn.softmaxCrossEntropyWithLogits(logits, oneHot).loss(), weight),
          tf.constant(0));
      List<Output<?>> xs = new ArrayList<>();
      List<Integer> owner = new ArrayList<>();
      for (int t = 0; t < targets.size(); t++) {
        for (NodeDef read : WeightDiscovery.reads(model, targets.get(t).handleNode())) {
          xs.add(graph.operationOrThrow(read.getName()).output(0));
          owner.add(t);
        }
      }
      Output<?>[] grads = graph.addGradients(SCOPE + "_gradients", new Output<?>[] {loss.asOutput()},
          xs.toArray(new Output<?>[0]), null);
      for (int from = 0; from < data.size(); from += batchSize) {
        int[] batch = java.util.stream.IntStream.range(from, Math.min(data.size(), from + batchSize)).toArray();
        int[] labels = new int[batch.length];
        float[] weights = new float[batch.length];
        for (int j = 0; j < batch.length; j++) {
          labels[j] = topOne[batch[j]];
          weights[j] = exampleWeights[batch[j]];
        }
        Session.Runner runner = session.session().runner();
        List<Tensor> fed = new ArrayList<>();
        try {
          // In the dtype the model's input declares (uint8 pixels, int64 ids), as fine-tuning feeds it.
          Tensor x = ModelInputs.feeds(data, batch, model).get(input.key()).toTensor();
          fed.add(x);
          Tensor y = HostTensor.ofInts(new long[] {batch.length}, labels).toTensor();
          fed.add(y);
          Tensor w = HostTensor.ofFloats(new long[] {batch.length}, weights).toTensor();
          fed.add(w);
          runner.feed(input.tensorName(), x).feed(label.asOutput(), y).feed(weight.asOutput(), w);
          List<Integer> fetched = new ArrayList<>();
          for (int g = 0; g < grads.length; g++) {
            if (grads[g] != null) {
              runner.fetch(grads[g]);
              fetched.add(g);
            }
          }
          float[][] perWeight = new float[targets.size()][];
          try (Result result = runner.run()) {
            for (int f = 0; f < fetched.size(); f++) {
              float[] g = HostTensor.copyOf(result.get(f)).toFloats();
              int t = owner.get(fetched.get(f));
              if (perWeight[t] == null) {
                perWeight[t] = g;
              } else {
                for (int i = 0; i < g.length; i++) {
                  perWeight[t][i] += g[i];
                }
              }
            }
          }
          perBatch.accept(perWeight);
        } finally {
          fed.forEach(Tensor::close);
        }
      }
    }
  }

  private static double mean(float[] values) {
    double sum = 0;
    for (float v : values) {
      sum += v;
    }
    return sum / Math.max(1, values.length);
  }

  /**
   * The Fisher as loss per squared error, kept comparable across tensors (unlike {@link #weights}),
   * plus {@link #FLOOR} times its tensor's mean: a weight no example moved still costs a little to move.
   */
  public static Map<String, float[]> floored(Map<String, float[]> fisher) {
    Map<String, float[]> out = new LinkedHashMap<>();
    fisher.forEach((name, f) -> {
      double mean = mean(f);
      float[] w = new float[f.length];
      for (int i = 0; i < f.length; i++) {
        w[i] = (float) (f[i] + FLOOR * mean);
      }
      out.put(name, w);
    });
    return out;
  }

  /**
   * The importance the clustering is weighted with: the Fisher divided by its tensor's mean (so that
   * float32 keeps it whatever its scale), plus {@link #FLOOR}.
   */
  public static Map<String, float[]> weights(Map<String, float[]> fisher) {
    Map<String, float[]> out = new LinkedHashMap<>();
    fisher.forEach((name, f) -> {
      double mean = mean(f);
      float[] w = new float[f.length];
      for (int i = 0; i < f.length; i++) {
        w[i] = mean > 0 ? (float) (f[i] / mean + FLOOR) : 1f;
      }
      out.put(name, w);
    });
    return out;
  }

  /**
   * Each clustered layer's sensitivity, the loss increase its clustering predicts to second order,
   * {@code ½ Σ F_i (w_i − ŵ_i)²}, with the Fisher's mean, as a report array.
   */
  public static JsonArray layerSensitivity(Map<String, float[]> fisher, FlatModel original, List<ClusteredLayer> layers) {
    JsonArray out = new JsonArray();
    for (ClusteredLayer layer : layers) {
      float[] f = fisher.get(layer.weight().name());
      if (f == null) {
        continue;
      }
      float[] w = original.variables().get(layer.weight().handleNode()).value().toFloats();
      double sensitivity = LayerAllocation.lossIncrease(w, layer.clustering().reconstruct(), f);
      double mean = 0;
      for (float v : f) {
        mean += v;
      }
      JsonObject o = new JsonObject();
      o.addProperty("name", layer.weight().name());
      o.addProperty("fisher_mean", mean / w.length);
      o.addProperty("predicted_loss_increase", sensitivity);
      out.add(o);
    }
    return out;
  }

  /** The original model's top-1 class per example (the labels the Fisher is taken against). */
  static int[] topOne(FlatModel model, Dataset data, TensorSpec output) {
    float[] scores = OutputAgreement.outputs(model, data, output);
    int classes = scores.length / data.size();
    int[] top = new int[data.size()];
    for (int e = 0; e < top.length; e++) {
      top[e] = Evaluation.argMax(scores, e * classes, classes);
    }
    return top;
  }

  /** The input of a final Softmax when there is one; else the output itself, taken as logits. */
  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> logits(FlatModel model, Graph graph, Ops tf, String outputTensor) {
    String softmaxInput = Evaluation.softmaxInput(model, outputTensor);
    TensorRef ref = TensorRef.parse(softmaxInput != null ? softmaxInput : outputTensor);
    Output<?> out = graph.operationOrThrow(ref.node()).output(ref.index());
    if (out.dataType() != DataType.DT_FLOAT) {
      throw new IllegalArgumentException("--calibration needs a float32 classifier output");
    }
    return (Operand<TFloat32>) out;
  }
}

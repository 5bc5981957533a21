package org.wclust.internal.calibrate;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.GraphOperation;
import org.tensorflow.Tensor;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.fold.BatchNormFolder;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.ModelVariable;

/**
 * Bias correction after clustering (as in Nagel et al., "Data-Free Quantization", 2019, here with
 * data): clustering moves each output channel's mean, and the layers after it see a shifted input that
 * no codebook can account for. On the calibration inputs, every folded layer's output (conv + folded
 * bias, before the activation) is averaged per channel in the original and the clustered model, and
 * the clustered model's folded bias absorbs the difference. One layer after another, from the input
 * on, each measured with the layers before it already corrected: correcting all at once from one
 * measurement over-corrects the later ones (on the BatchNorm MobileNetV2 fixture at k = 16 one such
 * pass fell to 67 % and three to 10 %, where layer by layer kept 79 %; benchmarks/bn_layer_sensitivity.py). Changes the folded biases
 * only; the clustering, and so the kernels' values, stay as they are.
 */
public final class BiasCorrection {
  private static final int BATCH = 100;
  private static final String SCOPE = "wclust_bias_correction";

  /** The corrected model and, per corrected layer, the correction's size. */
  public record Result(ClusteredModel model, JsonArray layers) {}

  private BiasCorrection() {}

  /**
   * @param original the model before clustering (BatchNorm folded, as {@code clustered} was made from)
   * @param folds the folds made ({@link BatchNormFolder.Result#folds()}); layers without a fold are not
   *     corrected
   */
  public static Result correct(FlatModel original, ClusteredModel clustered, List<BatchNormFolder.Fold> folds,
      Dataset data) {
    List<BatchNormFolder.Fold> layers = new ArrayList<>();
    for (BatchNormFolder.Fold f : folds) {
      if (f.output() != null && clustered.model().variables().containsKey(f.biasVariable())) {
        layers.add(f);
      }
    }
    Map<String, Integer> depth = depths(clustered.model().graph());
    layers.sort(Comparator.comparingInt(f -> depth.getOrDefault(TensorRef.parse(f.output()).node(), 0)));
    List<String> outputs = layers.stream().map(BatchNormFolder.Fold::output).toList();
    List<double[]> reference = channelMeans(original, data, outputs);

    Map<String, ModelVariable> variables = new LinkedHashMap<>(clustered.model().variables());
    Map<BatchNormFolder.Fold, float[]> biases = new LinkedHashMap<>();
    try (ModelSession session = new ModelSession(clustered.model())) {
      String input = clustered.model().signature().inputs().get(0).key();
      for (int i = 0; i < layers.size(); i++) {
        BatchNormFolder.Fold layer = layers.get(i);
        double[] now = channelMeans(session, input, data, List.of(layer.output())).get(0);
        ModelVariable bias = variables.get(layer.biasVariable());
        float[] b = bias.value().toFloats();
        for (int c = 0; c < b.length; c++) {
          b[c] = (float) (b[c] - (now[c] - reference.get(i)[c]));
        }
        biases.put(layer, b);
        assign(session, bias.handleNode(), HostTensor.ofFloats(bias.value().shape(), b), i);
      }
    }
    return withBiases(clustered, biases);
  }

  /**
   * {@code clustered} with the given folded biases, and per layer the mean and largest |shift| of its
   * bias: the one step that data-driven and data-free ({@link DataFreeBiasCorrection}) correction share.
   */
  static Result withBiases(ClusteredModel clustered, Map<BatchNormFolder.Fold, float[]> biases) {
    Map<String, ModelVariable> variables = new LinkedHashMap<>(clustered.model().variables());
    JsonArray report = new JsonArray();
    biases.forEach((fold, b) -> {
      ModelVariable bias = variables.get(fold.biasVariable());
      float[] old = bias.value().toFloats();
      double sumShift = 0;
      double maxShift = 0;
      for (int c = 0; c < b.length; c++) {
        double shift = Math.abs((double) old[c] - b[c]);
        sumShift += shift;
        maxShift = Math.max(maxShift, shift);
      }
      variables.put(bias.handleNode(), bias.withValue(HostTensor.ofFloats(bias.value().shape(), b)));
      JsonObject o = new JsonObject();
      o.addProperty("kernel", fold.kernel());
      o.addProperty("mean_abs_shift", sumShift / b.length);
      o.addProperty("max_abs_shift", maxShift);
      report.add(o);
    });
    FlatModel corrected = FlatModel.of(clustered.model().graph(), clustered.model().signature(), variables);
    return new Result(new ClusteredModel(corrected, clustered.layers()), report);
  }

  /** Per tensor, the mean of each channel (last axis) over every other axis and every example. */
  static List<double[]> channelMeans(FlatModel model, Dataset data, List<String> tensors) {
    try (ModelSession session = new ModelSession(model)) {
      return channelMeans(session, model.signature().inputs().get(0).key(), data, tensors);
    }
  }

  private static List<double[]> channelMeans(ModelSession session, String inputKey, Dataset data,
      List<String> tensors) {
    double[][] sums = new double[tensors.size()][];
    long[] counts = new long[tensors.size()];
    for (int from = 0; from < data.size(); from += BATCH) {
      int[] batch = new int[Math.min(BATCH, data.size() - from)];
      for (int j = 0; j < batch.length; j++) {
        batch[j] = from + j;
      }
      Map<String, HostTensor> got = session.run(Map.of(inputKey, data.batchInputs(batch)), tensors);
      for (int t = 0; t < tensors.size(); t++) {
        HostTensor value = got.get(tensors.get(t));
        long[] shape = value.shape();
        int channels = (int) shape[shape.length - 1];
        float[] v = value.toFloats();
        if (sums[t] == null) {
          sums[t] = new double[channels];
        }
        for (int i = 0; i < v.length; i++) {
          sums[t][i % channels] += v[i];
        }
        counts[t] += v.length / channels;
      }
    }
    List<double[]> means = new ArrayList<>();
    for (int t = 0; t < tensors.size(); t++) {
      for (int c = 0; c < sums[t].length; c++) {
        sums[t][c] /= counts[t];
      }
      means.add(sums[t]);
    }
    return means;
  }

  /** Writes {@code value} into the session's variable {@code handle}. */
  private static void assign(ModelSession session, String handle, HostTensor value, int serial) {
    var graph = session.graph();
    GraphOperation placeholder = graph.opBuilder("Placeholder", SCOPE + "/value_" + serial, graph.baseScope())
        .setAttr("dtype", DataType.DT_FLOAT).build();
    GraphOperation assign = graph.opBuilder("AssignVariableOp", SCOPE + "/assign_" + serial, graph.baseScope())
        .addInput(graph.operationOrThrow(handle).output(0))
        .addInput(placeholder.output(0))
        .setAttr("dtype", DataType.DT_FLOAT)
        .build();
    try (Tensor t = value.toTensor()) {
      session.session().runner().feed(placeholder.output(0), t).addTarget(assign).run().close();
    }
  }

  /** Each node's depth: the longest path to it from a node without inputs (layers in data-flow order). */
  static Map<String, Integer> depths(GraphDef graph) {
    Map<String, NodeDef> byName = new HashMap<>();
    graph.getNodeList().forEach(n -> byName.put(n.getName(), n));
    Map<String, Integer> depth = new HashMap<>();
    Set<String> open = new HashSet<>(); // on the path being walked: a loop's back edge counts 0
    for (NodeDef start : graph.getNodeList()) {
      Deque<String> stack = new ArrayDeque<>();
      stack.push(start.getName());
      while (!stack.isEmpty()) {
        String name = stack.peek();
        if (depth.containsKey(name)) {
          stack.pop();
          continue;
        }
        NodeDef node = byName.get(name);
        open.add(name);
        int d = 0;
        boolean ready = true;
        for (String in : node.getInputList()) {
          String from = TensorRef.parse(in.startsWith("^") ? in.substring(1) : in).node();
          Integer known = depth.get(from);
          if (known == null && byName.containsKey(from) && !open.contains(from)) {
            stack.push(from);
            ready = false;
          } else if (known != null) {
            d = Math.max(d, known + 1);
          }
        }
        if (ready) {
          depth.put(name, d);
          open.remove(name);
          stack.pop();
        }
      }
    }
    return depth;
  }
}

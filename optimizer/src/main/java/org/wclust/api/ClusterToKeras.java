package org.wclust.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wclust.internal.fold.BatchNormFolder;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.load.keras.KerasConfig;
import org.wclust.internal.train.FineTuner;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.load.ModelLoadException;
import org.wclust.internal.load.keras.KerasFile;
import org.wclust.internal.load.keras.KerasGraphBuilder;
import org.wclust.internal.load.keras.KerasWriter;

/**
 * Clusters a Keras 3 {@code .keras} file into another {@code .keras} file: the same config, the
 * clustered weights (each kernel holding the centroid of its cluster) in place of the originals, every
 * other weight unchanged (or, when fine-tuned, trained). Keras 3 loads it as it loads the source.
 * With BatchNorm folding (as for the SavedModel output), a folded BN stays in the file as an exact
 * shift and its conv holds the folded, clustered kernel, so the clusters survive TFLite conversion.
 */
final class ClusterToKeras {
  private ClusterToKeras() {}

  static boolean isKerasOutput(Path output) {
    return output.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".keras");
  }

  /**
   * Clusters the Keras 3 file {@code input} into {@code output}. With training data in {@code config},
   * the clustered model is first fine-tuned on its training-mode graph (BatchNorm with batch statistics
   * and moving-average updates, dropout active), and every trained weight (biases, BatchNorm parameters
   * and statistics) is written back too. The summary has no sizes (there is no report file).
   */
  static ClusterSummary cluster(Path input, Path output, ClusterConfig config, FineTuner.Listener listener)
      throws IOException {
    ClusterOptions options = config.options();
    if (options.rateTarget() != null) {
      throw new IllegalArgumentException("--target-bits/--target-size need a SavedModel directory as OUT, not .keras");
    }
    if (config.needsSavedModelOutput()) {
      throw new IllegalArgumentException("--calibration, --plain-fold, --depthwise-per-channel and --correct-bias "
          + "need a SavedModel directory as OUT, not .keras");
    }
    if (config.tflite() != null) {
      throw new IllegalArgumentException("--tflite is not supported with -o OUT.keras; write a SavedModel "
          + "directory, or convert the .keras file's export");
    }
    if (options.validationData() != null) {
      throw new IllegalArgumentException("--val is not supported with -o OUT.keras (it has no report); "
          + "evaluate the written file, or write a SavedModel directory for the accuracy report");
    }
    if (java.nio.file.Files.exists(output)) {
      throw new IllegalArgumentException("output already exists: " + output);
    }
    try {
      return ClusterSummary.ofKeras(output, cluster(input, output, options, listener));
    } catch (ModelLoadException e) {
      throw Wclust.unreadable(e);
    }
  }

  private static List<LayerReport> cluster(Path input, Path output, ClusterOptions options,
      FineTuner.Listener listener) throws ModelLoadException, IOException {
    try (KerasFile file = KerasFile.open(input)) {
      if (file.format() != KerasFile.Format.KERAS_V3) {
        throw new ModelLoadException("-o OUT.keras needs a Keras 3 .keras input; " + input
            + " is not one (write a SavedModel instead)");
      }
      long started = System.nanoTime();
      StageClock clock = new StageClock();
      KerasGraphBuilder.KerasGraph graph = KerasGraphBuilder.build(file, options.signature(), false);
      clock.lap("load");
      // The .keras file keeps its per-tensor codebooks: BatchNorm-safe ones are for SavedModel outputs, and so is
      // the squeeze of dead units (not measured on the .keras training-mode graph).
      ClusterPipeline pipeline = new ClusterPipeline(input, graph.model(),
          options.withBnSafeSpread(Double.POSITIVE_INFINITY).withSqueeze(false), stage -> {}, listener, clock,
          started);
      pipeline.fold().plan().cluster();
      boolean tuned = options.trainData() != null;
      if (tuned) {
        ClusterPipeline.Tuned t = pipeline.fineTune(options.trainData(), options.fineTune());
        pipeline.useTrained(t.clustered(), t.result());
      }
      ClusteredModel clustered = pipeline.clustered();
      List<BatchNormFolder.Fold> folds = pipeline.folds();
      List<String> tensors = clustered.layers().stream().map(ClusteredLayer::weightTensor).toList();
      Map<String, HostTensor> values;
      try (ModelSession session = new ModelSession(clustered.model())) {
        values = session.evaluate(tensors);
      }
      // Every weight of the file, by VarHandleOp: the variables' current (folded, trained) values,
      // clustered kernels as their centroids; folded BatchNorms rewritten below.
      Map<String, HostTensor> byHandle = new LinkedHashMap<>();
      for (String handle : graph.locations().keySet()) {
        var variable = clustered.model().variables().get(handle);
        if (variable != null && (tuned || !folds.isEmpty())) {
          byHandle.put(handle, variable.value());
        }
      }
      List<LayerReport> reports = new ArrayList<>();
      for (ClusteredLayer layer : clustered.layers()) {
        HostTensor value = values.get(layer.weightTensor());
        byHandle.put(layer.weight().handleNode(), value);
        reports.add(LayerReport.of(layer, WeightDiscovery.distinct(value.toFloats())));
      }
      for (BatchNormFolder.Fold fold : folds) {
        foldIntoFile(file, graph, clustered.model(), fold, byHandle);
      }
      Map<String, HostTensor> replacements = new LinkedHashMap<>();
      for (Map.Entry<String, HostTensor> e : byHandle.entrySet()) {
        replacements.put(file.datasetPath(graph.locations().get(e.getKey())), e.getValue());
      }
      KerasWriter.write(file, replacements, output);
      return reports;
    }
  }

  /**
   * Writes a folded BatchNorm into the Keras weights: the conv keeps its folded kernel, and the BN
   * becomes an exact shift, {@code x · 1 + beta} (gamma 1, moving mean 0, moving variance such that
   * {@code variance + epsilon} is exactly 1 in float32), with the folded bias as beta (the conv's own
   * bias, if any, set to 0). Keras then computes what the folded graph computes, and the TFLite
   * converter's own BN folding multiplies the kernel by exactly 1, so its clusters survive.
   */
  private static void foldIntoFile(KerasFile file, KerasGraphBuilder.KerasGraph graph, FlatModel folded,
      BatchNormFolder.Fold fold, Map<String, HostTensor> byHandle) throws ModelLoadException {
    String kernelHandle = folded.variables().values().stream().filter(v -> v.name().equals(fold.kernel()))
        .map(ModelVariable::handleNode).findFirst()
        .orElseThrow(() -> new ModelLoadException("folded kernel " + fold.kernel() + " not found"));
    String layer = fold.kernel().substring(0, fold.kernel().lastIndexOf('/'));
    HostTensor shift = folded.variables().values().stream().filter(v -> v.name().equals(layer + "/folded_bias"))
        .map(ModelVariable::value).findFirst()
        .orElseThrow(() -> new ModelLoadException("folded bias of " + layer + " not found"));
    String convScope = kernelHandle.substring(0, kernelHandle.lastIndexOf('/') + 1);
    String bnScope = fold.batchNormOutput().substring(0, fold.batchNormOutput().lastIndexOf('/') + 1);
    Map<String, String> bn = new LinkedHashMap<>();
    for (String handle : graph.locations().keySet()) {
      if (handle.startsWith(bnScope) && handle.indexOf('/', bnScope.length()) < 0) {
        bn.put(handle.substring(bnScope.length()), handle);
      }
    }
    String convBias = graph.locations().containsKey(convScope + "bias") ? convScope + "bias" : null;
    if (!bn.containsKey("moving_mean") || !bn.containsKey("moving_variance")
        || !bn.containsKey("beta") && convBias == null) {
      throw new ModelLoadException("cannot write the BatchNorm folded into " + fold.kernel()
          + " back into the Keras file (no beta and no conv bias to hold the shift); use --no-fold-bn");
    }
    int channels = (int) shift.size();
    KerasFile.WeightLocation bnLocation = graph.locations().get(bn.get("moving_mean"));
    double eps = KerasConfig.layerConfig(file.modelConfig(), bnLocation.layerPath())
        .map(c -> c.has("epsilon") ? c.get("epsilon").getAsDouble() : 1e-3).orElse(1e-3);
    float epsilon = (float) eps;
    float variance = 1f - epsilon;
    while (variance + epsilon > 1f) {
      variance = Math.nextDown(variance);
    }
    while (variance + epsilon < 1f) {
      variance = Math.nextUp(variance);
    }
    if (bn.containsKey("gamma")) {
      byHandle.put(bn.get("gamma"), filled(channels, 1f));
    }
    byHandle.put(bn.get("moving_mean"), filled(channels, 0f));
    byHandle.put(bn.get("moving_variance"), filled(channels, variance));
    if (bn.containsKey("beta")) {
      byHandle.put(bn.get("beta"), shift);
      if (convBias != null) {
        byHandle.put(convBias, filled(channels, 0f));
      }
    } else {
      byHandle.put(convBias, shift);
    }
  }

  private static HostTensor filled(int n, float value) {
    float[] v = new float[n];
    java.util.Arrays.fill(v, value);
    return HostTensor.ofFloats(new long[] {n}, v);
  }
}

package org.wclust.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wclust.bridge.HostTensor;
import org.wclust.cluster.ClusterRewriter;
import org.wclust.cluster.ClusteredLayer;
import org.wclust.cluster.ClusteredModel;
import org.wclust.graph.ModelSession;
import org.wclust.graph.WeightDiscovery;
import org.wclust.load.ModelLoadException;
import org.wclust.load.keras.KerasFile;
import org.wclust.load.keras.KerasGraphBuilder;
import org.wclust.load.keras.KerasWriter;
import org.wclust.train.FineTuner;

/**
 * Clusters a Keras 3 {@code .keras} file into another {@code .keras} file: the same config, the
 * clustered weights (each kernel holding the centroid of its cluster) in place of the originals, every
 * other weight unchanged (or, after fine-tuning, trained). Keras 3 loads it as it loads the source. BatchNormalization is not folded
 * (the file keeps its layers), so converting this file to TFLite folds BN into the clustered kernels
 * and multiplies their distinct values; the SavedModel output of {@code wclust cluster} avoids that.
 */
public final class ClusterToKeras {
  private ClusterToKeras() {}

  public static boolean isKerasOutput(Path output) {
    return output.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".keras");
  }

  /** Returns one report per clustered weight, with the distinct values written to the file. */
  public static List<LayerReport> cluster(Path input, Path output, ClusterOptions options)
      throws ModelLoadException, IOException {
    return cluster(input, output, options, FineTuner.Listener.NONE);
  }

  /**
   * As {@link #cluster(Path, Path, ClusterOptions)}; with training data in {@code options} the
   * clustered model is first fine-tuned in its Keras training-mode graph, and every trained weight
   * (clustered kernels, biases, BatchNorm parameters and moving statistics) is written.
   */
  public static List<LayerReport> cluster(Path input, Path output, ClusterOptions options,
      FineTuner.Listener listener) throws ModelLoadException, IOException {
    try (KerasFile file = KerasFile.open(input)) {
      if (file.format() != KerasFile.Format.KERAS_V3) {
        throw new ModelLoadException("-o OUT.keras needs a Keras 3 .keras input; " + input
            + " is a legacy .h5 file (write a SavedModel instead)");
      }
      KerasGraphBuilder.KerasGraph graph = KerasGraphBuilder.build(file, options.signature(), false);
      Map<String, Integer> plan = options.plan().resolve(WeightDiscovery.discover(graph.model()));
      ClusteredModel clustered = ClusterRewriter.cluster(graph.model(), plan, options.settings(), options.int8Aware());
      boolean tuned = options.trainData() != null;
      if (tuned) {
        KerasGraphBuilder.KerasGraph training = KerasGraphBuilder.build(file, options.signature(), true);
        ClusteredModel trainable = ClusterRewriter.cluster(training.model(), plan, options.settings(),
            options.int8Aware());
        FineTuner.Result result = FineTuner.fineTune(graph.model(), trainable,
            Wclust.fitToInput(options.trainData(), graph.model()), options.fineTune(), listener,
            new FineTuner.TrainingMode(Wclust.KERAS_TRAINING_MODE, training.updateOps()));
        clustered = clustered.withTrainedValues(Wclust.withValuesOf(clustered.model(), result.model()),
            graph.model(), options.int8Aware());
      }
      List<String> tensors = clustered.layers().stream().map(ClusteredLayer::weightTensor).toList();
      Map<String, HostTensor> values;
      try (ModelSession session = new ModelSession(clustered.model())) {
        values = session.evaluate(tensors);
      }
      Map<String, HostTensor> replacements = new LinkedHashMap<>();
      if (tuned) {
        // Every other weight trained too (biases, BatchNorm parameters and moving statistics).
        for (var v : clustered.model().variables().entrySet()) {
          KerasFile.WeightLocation location = graph.locations().get(v.getKey());
          if (location != null) {
            replacements.put(file.datasetPath(location), v.getValue().value());
          }
        }
      }
      List<LayerReport> reports = new ArrayList<>();
      for (ClusteredLayer layer : clustered.layers()) {
        HostTensor value = values.get(layer.weightTensor());
        KerasFile.WeightLocation location = graph.locations().get(layer.weight().handleNode());
        replacements.put(file.datasetPath(location), value);
        reports.add(LayerReport.of(layer, WeightDiscovery.distinct(value.toFloats())));
      }
      KerasWriter.write(file, replacements, output);
      return reports;
    }
  }
}

package org.wclust.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.HashSet;
import java.util.Set;
import org.wclust.data.Dataset;
import org.wclust.graph.FlatModel;
import org.wclust.train.FineTuner;
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

/**
 * Clusters a Keras 3 {@code .keras} file into another {@code .keras} file: the same config, the
 * clustered weights (each kernel holding the centroid of its cluster) in place of the originals, every
 * other weight unchanged (or, when fine-tuned, trained). Keras 3 loads it as it loads the source. BatchNormalization is not folded
 * (the file keeps its layers), so converting this file to TFLite folds BN into the clustered kernels
 * and multiplies their distinct values; the SavedModel output of {@code wclust cluster} avoids that.
 */
public final class ClusterToKeras {
  private ClusterToKeras() {}

  public static boolean isKerasOutput(Path output) {
    return output.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".keras");
  }

  /**
   * Returns one report per clustered weight, with the distinct values written to the file. With
   * training data in {@code options}, the clustered model is first fine-tuned on its training-mode
   * graph (BatchNorm with batch statistics and moving-average updates, dropout active), and every
   * trained weight (biases, BatchNorm parameters and statistics) is written back too.
   */
  public static List<LayerReport> cluster(Path input, Path output, ClusterOptions options)
      throws ModelLoadException, IOException {
    return cluster(input, output, options, FineTuner.Listener.NONE);
  }

  /** As {@link #cluster(Path, Path, ClusterOptions)}, with fine-tuning progress to {@code listener}. */
  public static List<LayerReport> cluster(Path input, Path output, ClusterOptions options,
      FineTuner.Listener listener) throws ModelLoadException, IOException {
    try (KerasFile file = KerasFile.open(input)) {
      if (file.format() != KerasFile.Format.KERAS_V3) {
        throw new ModelLoadException("-o OUT.keras needs a Keras 3 .keras input; " + input
            + " is not one (write a SavedModel instead)");
      }
      KerasGraphBuilder.KerasGraph graph = KerasGraphBuilder.build(file, options.signature(), false);
      FlatModel model = graph.model();
      Map<String, Integer> plan = options.plan().resolve(WeightDiscovery.discover(model));
      ClusteredModel clustered = ClusterRewriter.cluster(model, plan, options.settings(), options.int8Aware());
      boolean tuned = options.trainData() != null;
      if (tuned) {
        ClusterOptions unfolded = new ClusterOptions(options.plan(), options.settings(), options.signature(),
            false, options.int8Aware());
        ClusteredModel twin = KerasTraining.twin(input, unfolded, plan, clustered);
        FineTuner.Result result = FineTuner.fineTune(model, twin, Wclust.fitToInput(options.trainData(), model),
            options.fineTune(), listener, new FineTuner.TrainingMode(Wclust.KERAS_TRAINING_MODE));
        clustered = clustered.withTrainedValues(KerasTraining.trainedInference(clustered, result.model()), model,
            options.int8Aware());
      }
      List<String> tensors = clustered.layers().stream().map(ClusteredLayer::weightTensor).toList();
      Map<String, HostTensor> values;
      try (ModelSession session = new ModelSession(clustered.model())) {
        values = session.evaluate(tensors);
      }
      Map<String, HostTensor> replacements = new LinkedHashMap<>();
      List<LayerReport> reports = new ArrayList<>();
      Set<String> clusteredHandles = new HashSet<>();
      for (ClusteredLayer layer : clustered.layers()) {
        HostTensor value = values.get(layer.weightTensor());
        KerasFile.WeightLocation location = graph.locations().get(layer.weight().handleNode());
        replacements.put(file.datasetPath(location), value);
        clusteredHandles.add(layer.weight().handleNode());
        reports.add(LayerReport.of(layer, WeightDiscovery.distinct(value.toFloats())));
      }
      if (tuned) {
        for (Map.Entry<String, KerasFile.WeightLocation> e : graph.locations().entrySet()) {
          if (!clusteredHandles.contains(e.getKey())) {
            replacements.put(file.datasetPath(e.getValue()), clustered.model().variables().get(e.getKey()).value());
          }
        }
      }
      KerasWriter.write(file, replacements, output);
      return reports;
    }
  }
}

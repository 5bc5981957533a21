package org.wclust.internal.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.wclust.internal.cluster.ClusterRewriter;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.fold.BatchNormFolder;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.load.ModelLoadException;
import org.wclust.internal.load.SavedModelLoader;
import org.wclust.internal.load.keras.KerasFile;
import org.wclust.internal.load.keras.KerasGraphBuilder;

/**
 * Fine-tuning of a Keras input runs on its training-mode graph: the same layers built by the same
 * code with dropout active and, unless BatchNorm is folded, BatchNorm normalising with the batch's
 * statistics and moving its moving statistics at every step. The training graph is prepared exactly
 * as the inference graph was (the same folding and clustering), so its variables correspond one to
 * one, and the trained values are put back into the inference graph for export.
 */
public final class KerasTraining {
  private KerasTraining() {}

  /** Whether {@code input} is a Keras (or TensorFlow.js layers) file with a training-mode graph. */
  public static boolean applies(Path input) {
    if (Files.isDirectory(input) && SavedModelLoader.looksLikeSavedModel(input)) {
      return false;
    }
    return KerasFile.isKerasFile(input) || KerasFile.isTfjsModel(input);
  }

  /**
   * The training twin of {@code clustered} (the inference graph of {@code input} under {@code signature},
   * folded if {@code foldBatchNorm}, clustered, snapped to int8 grids if {@code int8Aware}): BatchNorm
   * frozen when it was folded (there is no BatchNorm left to train), in batch-statistics form otherwise.
   */
  public static ClusteredModel twin(Path input, String signature, boolean foldBatchNorm, boolean int8Aware,
      ClusteredModel clustered) throws ModelLoadException {
    FlatModel training;
    try (KerasFile file = KerasFile.open(input)) {
      training = KerasGraphBuilder.build(file, signature, foldBatchNorm
          ? KerasGraphBuilder.Mode.TRAINING_FROZEN_BATCH_NORM : KerasGraphBuilder.Mode.TRAINING).model();
    }
    if (foldBatchNorm) {
      training = BatchNormFolder.fold(training).model();
    }
    // The twin's weights equal the inference graph's: reuse its clusterings rather than cluster again.
    ClusteredModel twin = ClusterRewriter.withClusteringsOf(training, clustered, int8Aware);
    List<String> handles = clustered.layers().stream().map(ClusteredLayer::centroidsHandle).toList();
    if (!twin.model().variables().keySet().equals(clustered.model().variables().keySet())
        || !twin.layers().stream().map(ClusteredLayer::centroidsHandle).toList().equals(handles)) {
      throw new IllegalStateException("the training graph of " + input + " does not match its inference graph");
    }
    return twin;
  }

  /** The inference graph of {@code clustered} with the variable values of the trained twin. */
  public static FlatModel trainedInference(ClusteredModel clustered, FlatModel trainedTwin) {
    return FlatModel.of(clustered.model().graph(), clustered.model().signature(), trainedTwin.variables());
  }
}

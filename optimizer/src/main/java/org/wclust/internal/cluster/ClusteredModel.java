package org.wclust.internal.cluster;

import com.google.common.collect.ImmutableList;
import java.util.LinkedHashMap;
import java.util.Map;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;

/** A flat model whose target weights are read through centroid-gather subgraphs. */
public record ClusteredModel(FlatModel model, ImmutableList<ClusteredLayer> layers) {

  /**
   * This clustering after training: {@code trained} holds the new values of the variables (same
   * graph); each layer's clustering becomes the trained centroids and indices, with its SSE measured
   * against the weights as they were before training ({@code original}). With {@code int8Snap} the
   * trained centroids are snapped back onto their channels' int8 grids (training moved them off).
   */
  public ClusteredModel withTrainedValues(FlatModel trained, FlatModel original, boolean int8Snap) {
    Map<String, ModelVariable> variables = new LinkedHashMap<>(trained.variables());
    ImmutableList.Builder<ClusteredLayer> updated = ImmutableList.builder();
    for (ClusteredLayer layer : layers) {
      float[] codebook = variables.get(layer.centroidsHandle()).value().toFloats();
      ModelVariable indicesVariable = variables.get(layer.indicesHandle());
      int[] indices = indicesVariable.value().toInts();
      // The variable and the clustering share one copy of the indices.
      variables.put(layer.indicesHandle(),
          indicesVariable.withValue(HostTensor.sharingInts(indicesVariable.value().shape(), indices)));
      if (int8Snap) {
        codebook = Int8Snapper.snapCodebook(codebook, indices, layer.weight().channels());
        ModelVariable centroids = variables.get(layer.centroidsHandle());
        variables.put(layer.centroidsHandle(),
            centroids.withValue(HostTensor.ofFloats(centroids.value().shape(), codebook)));
      }
      float[] before = original.variables().get(layer.weight().handleNode()).value().toFloats();
      double sse = 0;
      boolean[] used = new boolean[codebook.length];
      for (int i = 0; i < indices.length; i++) {
        double d = before[i] - codebook[indices[i]];
        sse += d * d;
        used[indices[i]] = true;
      }
      int empty = 0;
      for (boolean u : used) {
        empty += u ? 0 : 1;
      }
      TensorClustering was = layer.clustering();
      TensorClustering now = new TensorClustering(codebook, indices, was.groups(), sse,
          was.maxDistinctPerGroup(), was.keptOriginalValues(), empty);
      updated.add(new ClusteredLayer(layer.weight(), layer.settings(), now, layer.centroidsHandle(),
          layer.indicesHandle(), layer.gradientScaleHandle(), layer.trainableEntries(), layer.sparsityMasked(),
          layer.layoutSource(), layer.weightTensor(), layer.gatheredTensor()));
    }
    return new ClusteredModel(FlatModel.of(trained.graph(), trained.signature(), variables), updated.build());
  }
}

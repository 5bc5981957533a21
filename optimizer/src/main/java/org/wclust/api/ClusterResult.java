package org.wclust.api;

import java.nio.file.Path;
import java.util.List;

/**
 * What a clustering run produced: the output SavedModel, per-layer figures, the kernels into which a
 * BatchNormalization was folded, and timings in seconds.
 */
public record ClusterResult(Path output, List<LayerReport> layers, List<String> foldedBatchNorm,
    double loadSeconds, double clusterSeconds, double exportSeconds) {}

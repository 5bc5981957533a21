package org.wclust.api;

import java.nio.file.Path;
import java.util.List;

/** What a clustering run produced: the output SavedModel, per-layer figures and timings in seconds. */
public record ClusterResult(Path output, List<LayerReport> layers, double loadSeconds,
    double clusterSeconds, double exportSeconds) {}

package org.wclust.api;

import java.nio.file.Path;
import java.util.List;
import org.wclust.report.SizeReport;

/**
 * What a clustering run produced: the output SavedModel, per-layer figures, the kernels into which a
 * BatchNormalization was folded, timings in seconds, and the size report ({@code size} of
 * {@code wclust-report.json}; null when none was made).
 */
public record ClusterResult(Path output, List<LayerReport> layers, List<String> foldedBatchNorm,
    double loadSeconds, double clusterSeconds, double exportSeconds, SizeReport size,
    double sizeSeconds) {

  /** Without a size report. */
  public ClusterResult(Path output, List<LayerReport> layers, List<String> foldedBatchNorm,
      double loadSeconds, double clusterSeconds, double exportSeconds) {
    this(output, layers, foldedBatchNorm, loadSeconds, clusterSeconds, exportSeconds, null, 0);
  }
}

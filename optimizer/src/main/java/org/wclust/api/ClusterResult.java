package org.wclust.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.wclust.internal.cluster.RateControl;
import org.wclust.internal.report.SizeReport;
import org.wclust.internal.train.FineTuner;

/**
 * The pipeline's result as the report writer ({@code wclust-report.json}) reads it; users get it as a
 * {@link ClusterSummary} (typed values without wclust's internal types). What a clustering run produced: the output SavedModel, per-layer figures, the kernels into which a
 * BatchNormalization was folded, timings in seconds, the size report ({@code size} of
 * {@code wclust-report.json}; null when none was made), the accuracies (null without evaluation data)
 * the fine-tuning run (null without fine-tuning), the rate control's search (null without a size
 * budget) and the seconds of each pipeline stage in the order they ran (load, fold_batch_norm,
 * discover, cluster, ...; empty when not measured).
 *
 * <pre>{@code
 * result.layers().forEach(l -> System.out.println(l.name() + ": " + l.distinctValues()));
 * }</pre>
 */
record ClusterResult(Path output, List<LayerReport> layers, List<String> foldedBatchNorm,
    double loadSeconds, double clusterSeconds, double exportSeconds, SizeReport size,
    double sizeSeconds, AccuracyReport accuracy, FineTuner.Result fineTuning, RateControl.Found rateControl,
    Map<String, Double> stageSeconds) {

  ClusterResult(Path output, List<LayerReport> layers, List<String> foldedBatchNorm,
      double loadSeconds, double clusterSeconds, double exportSeconds, SizeReport size,
      double sizeSeconds, AccuracyReport accuracy, FineTuner.Result fineTuning, RateControl.Found rateControl) {
    this(output, layers, foldedBatchNorm, loadSeconds, clusterSeconds, exportSeconds, size, sizeSeconds, accuracy,
        fineTuning, rateControl, Map.of());
  }

  ClusterResult(Path output, List<LayerReport> layers, List<String> foldedBatchNorm,
      double loadSeconds, double clusterSeconds, double exportSeconds, SizeReport size,
      double sizeSeconds, AccuracyReport accuracy, FineTuner.Result fineTuning) {
    this(output, layers, foldedBatchNorm, loadSeconds, clusterSeconds, exportSeconds, size, sizeSeconds, accuracy,
        fineTuning, null);
  }

  /** Without a size report, accuracies or fine-tuning. */
  ClusterResult(Path output, List<LayerReport> layers, List<String> foldedBatchNorm,
      double loadSeconds, double clusterSeconds, double exportSeconds) {
    this(output, layers, foldedBatchNorm, loadSeconds, clusterSeconds, exportSeconds, null, 0, null, null);
  }
}

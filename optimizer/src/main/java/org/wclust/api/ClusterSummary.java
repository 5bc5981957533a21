package org.wclust.api;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.wclust.internal.bridge.TfliteSize;
import org.wclust.internal.cluster.RateControl;
import org.wclust.internal.report.SizeReport;
import org.wclust.internal.train.FineTuner;

/**
 * What a clustering run produced, as typed values: what {@value Wclust#REPORT_FILE} holds (per layer,
 * sizes, accuracies, fine-tuning, size budget, timings).
 *
 * <pre>{@code
 * ClusterSummary s = Wclust.cluster(Path.of("model"), Path.of("model_k16"), ClusterConfig.builder().clusters(16).build());
 * for (LayerReport l : s.layers()) {
 *   System.out.println(l.name() + ": " + l.distinctValues() + " distinct values");
 * }
 * s.accuracy().ifPresent(a -> System.out.println("clustered accuracy " + a.clustered()));
 * }</pre>
 *
 * @param output the written SavedModel directory (or {@code .keras} file)
 * @param layers per clustered weight
 * @param foldedBatchNorm the kernels into which a BatchNormalization was folded
 * @param accuracy the original, clustered and fine-tuned scores, when evaluation data was given
 * @param fineTuning the fine-tuning run, when there was one
 * @param sizes the sizes of the clustered weights (and of the .tflite, when measured); null for a {@code .keras} output
 * @param sizeBudget the size budget's search, when a budget was set
 * @param stageSeconds wall-clock seconds of each pipeline stage in the order they ran
 */
public record ClusterSummary(Path output, List<LayerReport> layers, List<String> foldedBatchNorm,
    Optional<AccuracyReport> accuracy, Optional<FineTuningRun> fineTuning, Sizes sizes,
    Optional<SizeBudget> sizeBudget, Map<String, Double> stageSeconds) {

  /** The report file inside a SavedModel output. */
  public Path reportFile() {
    return output.resolve(Wclust.REPORT_FILE);
  }

  /** The most distinct values of any clustered weight of the written model. */
  public int maxDistinctValues() {
    return layers.stream().mapToInt(LayerReport::distinctValues).max().orElse(0);
  }

  /**
   * A fine-tuning run.
   *
   * @param steps optimizer steps taken
   * @param finalLoss mean loss over the last epoch
   * @param finalAccuracy mean accuracy over the last epoch (NaN without a classifier objective)
   * @param objective what the loss compared
   * @param graph which graph was trained (inference graph or Keras training mode)
   * @param trainedVariables the variables the optimizer updated
   * @param seconds wall time of the training loop
   */
  public record FineTuningRun(long steps, double finalLoss, double finalAccuracy, String objective, String graph,
      List<String> trainedVariables, double seconds) {
    static FineTuningRun of(FineTuner.Result r) {
      return new FineTuningRun(r.steps(), r.finalLoss(), r.finalAccuracy(), r.objective(), r.graph(),
          r.trainableVariables(), r.seconds());
    }
  }

  /**
   * Sizes of the clustered model.
   *
   * @param float32WeightBytes the clustered weights as float32
   * @param packedBytes the clustered weights packed: ⌈log2 k⌉ bits per weight plus a float per centroid
   * @param huffmanBytes the indices Huffman-coded plus a float per centroid
   * @param originalTflite the original model's .tflite bytes and zipped bytes, when measured
   * @param clusteredTflite the clustered model's .tflite bytes and zipped bytes, when measured
   */
  public record Sizes(long float32WeightBytes, long packedBytes, long huffmanBytes,
      Optional<TfliteBytes> originalTflite, Optional<TfliteBytes> clusteredTflite) {
    static Sizes of(SizeReport s) {
      return new Sizes(s.float32WeightBytes(), s.packedBytes(), s.huffmanBytes(),
          Optional.ofNullable(s.original()).map(TfliteBytes::of), Optional.ofNullable(s.clustered()).map(TfliteBytes::of));
    }
  }

  /** A {@code .tflite} file's bytes and its zipped bytes. */
  public record TfliteBytes(long bytes, long zippedBytes) {
    static TfliteBytes of(TfliteSize s) {
      return new TfliteBytes(s.tfliteBytes(), s.zippedBytes());
    }
  }

  /**
   * A size budget's search.
   *
   * @param target the budget, in words (e.g. {@code 2.5 bits per weight})
   * @param bitsPerWeight whether the budget is in index bits per weight (else zipped .tflite bytes)
   * @param multiplier the knee multiplier found (NaN when k was chosen per layer)
   * @param clustersPerLayer the k chosen per layer, when the budget was met per layer; empty otherwise
   * @param kneeScalePerLayer with {@code clustersPerLayer}: each layer's multiple of its default knee
   *     rate weight (0: minimum squared error); empty otherwise
   * @param predicted the budget's measure reached (bits per weight, or predicted zipped bytes)
   * @param met whether {@code predicted} is within the budget
   */
  public record SizeBudget(String target, boolean bitsPerWeight, double multiplier,
      Map<String, Integer> clustersPerLayer, Map<String, Double> kneeScalePerLayer, double predicted, boolean met) {
    static SizeBudget of(RateControl.Found r) {
      boolean perLayer = r.allocation() != null;
      return new SizeBudget(r.target().toString(), r.target().kind() == RateControl.Kind.BITS_PER_WEIGHT,
          perLayer ? Double.NaN : r.rateWeight(),
          perLayer ? Collections.unmodifiableMap(new LinkedHashMap<>(r.allocation())) : Map.of(),
          perLayer ? Collections.unmodifiableMap(new LinkedHashMap<>(r.allocationRateScales())) : Map.of(),
          r.predicted(), r.reached());
    }
  }

  /** A {@code .keras} output: per-layer figures only. */
  static ClusterSummary ofKeras(Path output, List<LayerReport> layers) {
    return new ClusterSummary(output, List.copyOf(layers), List.of(), Optional.empty(), Optional.empty(), null,
        Optional.empty(), Map.of());
  }

  static ClusterSummary of(ClusterResult r) {
    return new ClusterSummary(r.output(), List.copyOf(r.layers()), List.copyOf(r.foldedBatchNorm()),
        Optional.ofNullable(r.accuracy()), Optional.ofNullable(r.fineTuning()).map(FineTuningRun::of),
        r.size() == null ? null : Sizes.of(r.size()), Optional.ofNullable(r.rateControl()).map(SizeBudget::of),
        r.stageSeconds());
  }
}

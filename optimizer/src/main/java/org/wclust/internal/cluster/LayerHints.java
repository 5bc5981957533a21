package org.wclust.internal.cluster;

import java.util.Map;

/**
 * Per-weight refinements of {@link ClusterSettings}, by weight name: an importance per element (the
 * squared error of each weight is scaled by it, {@link WeightedClusterer1D}), a granularity that
 * replaces the settings' one, and a multiplier of the knee's rate weight. Weights not named keep the
 * settings as they are.
 *
 * @param importance weight name to one non-negative importance per element, in the tensor's order
 * @param granularity weight name to the codebooks it gets
 * @param rateScale weight name to what its rate weight ({@link ClusterSettings#rateWeight()}) is multiplied by
 * @param partitions weight name to optimal partitions of its codebooks already solved (only a speed-up: the
 *     clustering is the same without)
 */
public record LayerHints(Map<String, float[]> importance, Map<String, Granularity> granularity,
    Map<String, Double> rateScale, Map<String, OptimalPartitions> partitions) {
  public static final LayerHints NONE = new LayerHints(Map.of(), Map.of());

  public LayerHints {
    importance = Map.copyOf(importance);
    granularity = Map.copyOf(granularity);
    rateScale = Map.copyOf(rateScale);
    partitions = Map.copyOf(partitions);
  }

  public LayerHints(Map<String, float[]> importance, Map<String, Granularity> granularity,
      Map<String, Double> rateScale) {
    this(importance, granularity, rateScale, Map.of());
  }

  public LayerHints(Map<String, float[]> importance, Map<String, Granularity> granularity) {
    this(importance, granularity, Map.of());
  }

  /** These hints with another importance per weight. */
  public LayerHints withImportance(Map<String, float[]> weights) {
    return new LayerHints(weights, granularity, rateScale, partitions);
  }

  /** These hints without rate weight multipliers (a size budget searches the rate weight itself). */
  public LayerHints withoutRateScale() {
    return new LayerHints(importance, granularity, Map.of(), partitions);
  }

  ClusterSettings apply(String weight, ClusterSettings settings) {
    Granularity g = granularity.get(weight);
    Double scale = rateScale.get(weight);
    ClusterSettings s = g == null ? settings : settings.withGranularity(g);
    return scale == null ? s : s.withRateWeight(s.rateWeight() * scale);
  }
}

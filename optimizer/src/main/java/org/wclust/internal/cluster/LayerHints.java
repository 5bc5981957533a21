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
 */
public record LayerHints(Map<String, float[]> importance, Map<String, Granularity> granularity,
    Map<String, Double> rateScale) {
  public static final LayerHints NONE = new LayerHints(Map.of(), Map.of());

  public LayerHints {
    importance = Map.copyOf(importance);
    granularity = Map.copyOf(granularity);
    rateScale = Map.copyOf(rateScale);
  }

  public LayerHints(Map<String, float[]> importance, Map<String, Granularity> granularity) {
    this(importance, granularity, Map.of());
  }

  /** These hints with another importance per weight. */
  public LayerHints withImportance(Map<String, float[]> weights) {
    return new LayerHints(weights, granularity, rateScale);
  }

  /** These hints without rate weight multipliers (a size budget searches the rate weight itself). */
  public LayerHints withoutRateScale() {
    return new LayerHints(importance, granularity);
  }

  ClusterSettings apply(String weight, ClusterSettings settings) {
    Granularity g = granularity.get(weight);
    Double scale = rateScale.get(weight);
    ClusterSettings s = g == null ? settings : settings.withGranularity(g);
    return scale == null ? s : s.withRateWeight(s.rateWeight() * scale);
  }
}

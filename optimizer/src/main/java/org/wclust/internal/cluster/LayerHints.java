package org.wclust.internal.cluster;

import java.util.Map;

/**
 * Per-weight refinements of {@link ClusterSettings}, by weight name: an importance per element (the
 * squared error of each weight is scaled by it, {@link WeightedClusterer1D}) and a granularity that
 * replaces the settings' one. Weights not named keep the settings as they are.
 *
 * @param importance weight name to one non-negative importance per element, in the tensor's order
 * @param granularity weight name to the codebooks it gets
 */
public record LayerHints(Map<String, float[]> importance, Map<String, Granularity> granularity) {
  public static final LayerHints NONE = new LayerHints(Map.of(), Map.of());

  public LayerHints {
    importance = Map.copyOf(importance);
    granularity = Map.copyOf(granularity);
  }

  ClusterSettings apply(String weight, ClusterSettings settings) {
    Granularity g = granularity.get(weight);
    return g == null ? settings : settings.withGranularity(g);
  }
}

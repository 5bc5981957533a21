package org.wclust.internal.fold;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.Granularity;
import org.wclust.internal.cluster.TensorClustering;
import org.wclust.internal.cluster.WeightClusterer;
import org.wclust.internal.graph.OutputChannels;

class FoldedCodebooksTest {
  private static final int CHANNELS = 32;
  private static final int PER_CHANNEL = 200;

  /** A folded [PER_CHANNEL, CHANNELS] kernel: Gaussian weights, channel c multiplied by scale[c]. */
  private static float[] folded(float[] scale, long seed) {
    Random r = new Random(seed);
    float[] w = new float[CHANNELS * PER_CHANNEL];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian() * scale[i % CHANNELS];
    }
    return w;
  }

  private static final OutputChannels LAYOUT = new OutputChannels(CHANNELS, 1);

  @Test
  void alikeFactorsKeepOneCodebook() {
    float[] scale = new float[CHANNELS];
    java.util.Arrays.fill(scale, 0.7f);
    Map<String, float[]> importance = new HashMap<>();
    FoldedCodebooks.Choice c = FoldedCodebooks.choose("k", folded(scale, 1), scale, LAYOUT, ClusterSettings.of(8, 0),
        importance, 1);
    assertEquals(Granularity.TENSOR, c.granularity());
    assertEquals(CHANNELS * PER_CHANNEL, importance.get("k").length);
  }

  @Test
  void spreadBelowTheThresholdIsClusteredAsFolded() {
    float[] scale = new float[CHANNELS];
    for (int c = 0; c < CHANNELS; c++) {
      scale[c] = 1 + c * 0.25f; // 8.75x
    }
    Map<String, float[]> importance = new HashMap<>();
    FoldedCodebooks.Choice c = FoldedCodebooks.choose("k", folded(scale, 3), scale, LAYOUT, ClusterSettings.of(8, 0),
        importance, FoldedCodebooks.DEFAULT_SPREAD);
    assertEquals(Granularity.TENSOR, c.granularity());
    assertTrue(importance.isEmpty(), "no weights below the threshold");
  }

  @Test
  void widelySpreadFactorsGetCodebooksThatKeepEveryChannelWithinTheTolerance() {
    // Factors over four orders of magnitude, as in trained networks' depthwise layers.
    float[] scale = new float[CHANNELS];
    for (int c = 0; c < CHANNELS; c++) {
      scale[c] = (float) Math.pow(10, -2 + 4.0 * c / (CHANNELS - 1));
    }
    float[] w = folded(scale, 2);
    Map<String, float[]> importance = new HashMap<>();
    // The default method at the rate weight ClusterRewriter gives a tensor of this size.
    ClusterSettings settings = ClusterSettings.of(8, 0).withRateWeight(16.0 * w.length / 200_000);
    FoldedCodebooks.Choice c = FoldedCodebooks.choose("k", w, scale, LAYOUT, settings, importance,
        FoldedCodebooks.DEFAULT_SPREAD);
    assertNotEquals(Granularity.TENSOR, c.granularity(), c.reason());
    assertTrue(c.errorRatio() <= FoldedCodebooks.TOLERANCE || c.granularity().equals(Granularity.CHANNEL),
        c.toString());

    // Clustered as chosen: at most k values in every channel, and the low-factor channels keep their
    // relative precision (unlike one plain codebook, which flattens them).
    TensorClustering chosen = WeightClusterer.cluster(w, importance.get("k"), LAYOUT, settings.withGranularity(
        c.granularity()));
    TensorClustering plain = WeightClusterer.cluster(w, LAYOUT, settings);
    for (int ch = 0; ch < CHANNELS; ch++) {
      Set<Float> values = new HashSet<>();
      for (int i = ch; i < w.length; i += CHANNELS) {
        values.add(chosen.codebook()[chosen.indices()[i]]);
      }
      assertTrue(values.size() <= 8, "channel " + ch + " has " + values.size() + " values");
    }
    assertTrue(relativeError(w, chosen, 0) < 0.5, c + " lowest-factor channel: " + relativeError(w, chosen, 0));
    assertTrue(relativeError(w, plain, 0) > 0.9, "expected one plain codebook to flatten channel 0");
  }

  private static double relativeError(float[] w, TensorClustering c, int channel) {
    double err = 0;
    double norm = 0;
    for (int i = channel; i < w.length; i += CHANNELS) {
      double e = w[i] - c.codebook()[c.indices()[i]];
      err += e * e;
      norm += w[i] * (double) w[i];
    }
    return Math.sqrt(err / norm);
  }
}

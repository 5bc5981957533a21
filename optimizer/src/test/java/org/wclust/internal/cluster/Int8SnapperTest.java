package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.wclust.internal.graph.OutputChannels;

class Int8SnapperTest {
  @Test
  void snappedWeightsAreExactMultiplesOfTheirChannelScale() {
    Random r = new Random(1);
    float[] w = new float[3 * 3 * 4 * 6];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian() * (1 + i % 6); // channels of different magnitude
    }
    OutputChannels channels = new OutputChannels(6, 1);
    TensorClustering clustered = WeightClusterer.cluster(w, channels,
        new ClusterSettings(16, InitMethod.OPTIMAL, true, Granularity.TENSOR, false, 0));
    float[] before = clustered.reconstruct();
    float[] after = Int8Snapper.snap(clustered, channels).reconstruct();
    for (int ch = 0; ch < 6; ch++) {
      float maxBefore = 0;
      float maxAfter = 0;
      Set<Float> distinct = new HashSet<>();
      for (int i = ch; i < w.length; i += 6) {
        maxBefore = Math.max(maxBefore, Math.abs(before[i]));
        maxAfter = Math.max(maxAfter, Math.abs(after[i]));
        distinct.add(after[i]);
      }
      // The converter's scale, computed from the snapped weights, is the scale snapped to.
      assertEquals(maxBefore, maxAfter, 1e-6f * maxBefore, "channel " + ch + " max-abs must stay");
      double scale = maxAfter / 127.0;
      for (int i = ch; i < w.length; i += 6) {
        double q = after[i] / scale;
        assertEquals(Math.rint(q), q, 1e-3, "element " + i + " is off the int8 grid");
        assertTrue(Math.abs(after[i] - before[i]) <= scale / 2 + 1e-6, "moved more than half a step");
      }
      assertTrue(distinct.size() <= 16, "channel " + ch + " has " + distinct.size());
    }
  }
}

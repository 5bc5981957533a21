package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.wclust.internal.graph.OutputChannels;

/**
 * Reusing recorded optimal partitions is a pure speed-up: a clustering with them is the clustering without
 * them, whatever granularity and method, and partitions recorded for other values are not used.
 */
class OptimalPartitionsTest {
  /** A kernel of 64 output channels on the last axis, 400 weights each. */
  private static final OutputChannels CHANNELS = new OutputChannels(64, 1);

  private static float[] kernel(long seed) {
    Random r = new Random(seed);
    float[] v = new float[400 * 64];
    for (int i = 0; i < v.length; i++) {
      // Channels of different scales, as a folded kernel has.
      v[i] = (float) (r.nextGaussian() * (1 + (i % 64) / 16.0));
    }
    return v;
  }

  private static void assertSame(TensorClustering want, TensorClustering got) {
    assertArrayEquals(want.codebook(), got.codebook());
    assertArrayEquals(want.indices(), got.indices());
    assertEquals(want.sse(), got.sse());
    assertEquals(want.groups(), got.groups());
  }

  private static Granularity byFour() {
    int[] groups = new int[64];
    for (int c = 0; c < 64; c++) {
      groups[c] = c / 16;
    }
    return Granularity.byChannel(groups);
  }

  /** One codebook, one per channel, four over groups of 16 channels (as factor groups are). */
  enum Layout { TENSOR, CHANNEL, GROUPS }

  private static Granularity of(Layout layout) {
    return switch (layout) {
      case TENSOR -> Granularity.TENSOR;
      case CHANNEL -> Granularity.CHANNEL;
      case GROUPS -> byFour();
    };
  }

  /** Minimum-SSE clustering at k = 16 over {@code g}'s codebooks. */
  private static ClusterSettings optimalAt(Granularity g) {
    return new ClusterSettings(16, InitMethod.OPTIMAL, false, g, false, 3);
  }

  /** Nothing recorded yet, for k = 16 over {@code g}'s codebooks of the 64-channel test kernels. */
  private static OptimalPartitions emptyAt(Granularity g) {
    return new OptimalPartitions(g, 16, g.groups(64));
  }

  @ParameterizedTest
  @EnumSource(Layout.class)
  void optimalAndKneeFromRecordedPartitionsEqualTheirClusteringWithout(Layout layout) {
    float[] w = kernel(1);
    Granularity g = of(layout);
    ClusterSettings optimal = optimalAt(g);
    OptimalPartitions partitions = emptyAt(g);
    // Recorded by the first clustering, used by the second and third.
    TensorClustering without = WeightClusterer.cluster(w, CHANNELS, optimal);
    assertSame(without, WeightClusterer.cluster(w, CHANNELS, optimal, partitions));
    assertSame(without, WeightClusterer.cluster(w, CHANNELS, optimal, partitions));
    ClusterSettings knee = new ClusterSettings(16, InitMethod.KNEE, false, g, false, 3).withRateWeight(5);
    assertSame(WeightClusterer.cluster(w, CHANNELS, knee), WeightClusterer.cluster(w, CHANNELS, knee, partitions));
  }

  @ParameterizedTest
  @EnumSource(Layout.class)
  void partitionsOfOtherValuesAreNotUsed(Layout layout) {
    Granularity g = of(layout);
    ClusterSettings optimal = optimalAt(g);
    OptimalPartitions partitions = emptyAt(g);
    TensorClustering first = WeightClusterer.cluster(kernel(1), CHANNELS, optimal, partitions);
    float[] other = kernel(2);
    TensorClustering second = WeightClusterer.cluster(other, CHANNELS, optimal, partitions);
    assertFalse(java.util.Arrays.equals(first.indices(), second.indices()));
    assertSame(WeightClusterer.cluster(other, CHANNELS, optimal), second);
  }

  @ParameterizedTest
  @EnumSource(Layout.class)
  void partitionsOfAnotherKOrLayoutAreNotUsed(Layout layout) {
    float[] w = kernel(3);
    Granularity g = of(layout);
    ClusterSettings k16 = optimalAt(g);
    OptimalPartitions partitions = emptyAt(g);
    WeightClusterer.cluster(w, CHANNELS, k16, partitions);
    ClusterSettings k8 = k16.withClusters(8);
    assertSame(WeightClusterer.cluster(w, CHANNELS, k8), WeightClusterer.cluster(w, CHANNELS, k8, partitions));
    Granularity otherLayout = layout == Layout.TENSOR ? Granularity.CHANNEL : Granularity.TENSOR;
    ClusterSettings other = k16.withGranularity(otherLayout);
    assertSame(WeightClusterer.cluster(w, CHANNELS, other), WeightClusterer.cluster(w, CHANNELS, other, partitions));
  }
}

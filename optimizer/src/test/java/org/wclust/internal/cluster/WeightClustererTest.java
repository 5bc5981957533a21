package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.wclust.internal.graph.OutputChannels;

/** Granularity and sparsity: what each codebook may hold, checked on the reconstructed weights. */
class WeightClustererTest {
  /** A Conv2D-like filter [3, 3, 8, 16]: 16 output channels on the last axis. */
  private static final OutputChannels CONV_CHANNELS = new OutputChannels(16, 1);

  private static float[] gaussian(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  @ParameterizedTest
  @EnumSource(InitMethod.class)
  void perChannelEachOutputChannelHasAtMostKValues(InitMethod init) {
    float[] w = gaussian(3 * 3 * 8 * 16, 1);
    TensorClustering c = WeightClusterer.cluster(w, CONV_CHANNELS,
        new ClusterSettings(4, init, true, Granularity.CHANNEL, false, 7));
    assertEquals(16, c.groups());
    float[] out = c.reconstruct();
    for (int channel = 0; channel < 16; channel++) {
      Set<Float> values = new HashSet<>();
      for (int i = channel; i < out.length; i += 16) {
        values.add(out[i]);
      }
      assertTrue(values.size() <= 4, "channel " + channel + " has " + values.size() + " values");
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 5, 16})
  void groupedEachGroupOfChannelsHasAtMostKValues(int groupSize) {
    float[] w = gaussian(3 * 3 * 8 * 16, 2);
    TensorClustering c = WeightClusterer.cluster(w, CONV_CHANNELS,
        new ClusterSettings(8, InitMethod.OPTIMAL, true, new Granularity(groupSize), false, 0));
    int groups = (16 + groupSize - 1) / groupSize;
    assertEquals(groups, c.groups());
    float[] out = c.reconstruct();
    for (int g = 0; g < groups; g++) {
      Set<Float> values = new HashSet<>();
      for (int i = 0; i < out.length; i++) {
        if ((i % 16) / groupSize == g) {
          values.add(out[i]);
        }
      }
      assertTrue(values.size() <= 8, "group " + g + " has " + values.size() + " values");
    }
  }

  /** A transposed-conv filter [h, w, out, in] has its output channels on axis 2, stride = in. */
  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void channelsFollowTheStrideOfTheLayout(int k) {
    int out = 4;
    int in = 5;
    float[] w = gaussian(3 * 3 * out * in, 3);
    TensorClustering c = WeightClusterer.cluster(w, new OutputChannels(out, in),
        new ClusterSettings(k, InitMethod.OPTIMAL, true, Granularity.CHANNEL, false, 0));
    float[] rec = c.reconstruct();
    for (int channel = 0; channel < out; channel++) {
      Set<Float> values = new HashSet<>();
      for (int i = 0; i < rec.length; i++) {
        if ((i / in) % out == channel) {
          values.add(rec[i]);
        }
      }
      assertTrue(values.size() <= k, "channel " + channel + " has " + values.size());
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3, 8, 16})
  void preserveSparsityKeepsEveryZeroAndEveryNonZero(int k) {
    float[] w = gaussian(2000, 4);
    Random r = new Random(5);
    int zeros = 0;
    for (int i = 0; i < w.length; i++) {
      if (r.nextDouble() < 0.6) {
        w[i] = 0f;
        zeros++;
      }
    }
    TensorClustering c = WeightClusterer.cluster(w, OutputChannels.single(w.length),
        new ClusterSettings(k, InitMethod.OPTIMAL, true, Granularity.TENSOR, true, 0));
    float[] out = c.reconstruct();
    int outZeros = 0;
    Set<Float> values = new HashSet<>();
    for (int i = 0; i < w.length; i++) {
      if (w[i] == 0f) {
        assertEquals(0f, out[i], "element " + i + " was pruned");
      } else {
        assertTrue(out[i] != 0f, "element " + i + " became zero");
      }
      if (out[i] == 0f) {
        outZeros++;
      }
      values.add(out[i]);
    }
    assertEquals(zeros, outZeros);
    assertTrue(values.size() <= k, values.size() + " distinct values");
  }

  @ParameterizedTest
  @EnumSource(InitMethod.class)
  void sameSeedSameResult(InitMethod init) {
    float[] w = gaussian(5000, 6);
    ClusterSettings settings = new ClusterSettings(16, init, true, Granularity.CHANNEL, false, 9);
    TensorClustering a = WeightClusterer.cluster(w, new OutputChannels(10, 1), settings);
    TensorClustering b = WeightClusterer.cluster(w, new OutputChannels(10, 1), settings);
    assertArrayEquals(a.codebook(), b.codebook());
    assertArrayEquals(a.indices(), b.indices());
  }

  /**
   * Groups are clustered in parallel: the result is exactly that of clustering each group on its
   * own and concatenating, whatever pool (or none) the caller runs in.
   */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 4})
  void parallelGroupsGiveTheSequentialResult(int poolThreads) throws Exception {
    int out = 37;
    int fanIn = 300;
    float[] w = gaussian(fanIn * out, 11);
    for (int i = 0; i < w.length; i += 7) {
      w[i] = Math.round(w[i] * 4) / 4f; // some duplicates
    }
    OutputChannels channels = new OutputChannels(out, 1);
    for (boolean sparse : new boolean[] {false, true}) {
      ClusterSettings settings =
          new ClusterSettings(8, InitMethod.OPTIMAL, true, Granularity.CHANNEL, sparse, 3);
      TensorClustering c;
      if (poolThreads == 0) {
        c = WeightClusterer.cluster(w, channels, settings);
      } else {
        ForkJoinPool pool = new ForkJoinPool(poolThreads);
        try {
          c = pool.submit(() -> WeightClusterer.cluster(w, channels, settings)).get();
        } finally {
          pool.shutdown();
        }
      }
      assertEquals(out, c.groups());
      double sse = 0;
      int offset = 0;
      float[] expectedCodebook = new float[0];
      for (int g = 0; g < out; g++) {
        float[] members = new float[fanIn];
        for (int i = 0; i < fanIn; i++) {
          members[i] = w[i * out + g];
        }
        // One group alone: the same call on a one-channel "tensor".
        ClusterSettings one =
            new ClusterSettings(8, InitMethod.OPTIMAL, true, Granularity.CHANNEL, sparse, 3 + g);
        TensorClustering alone = WeightClusterer.cluster(members, OutputChannels.single(fanIn), one);
        for (int i = 0; i < fanIn; i++) {
          assertEquals(offset + alone.indices()[i], c.indices()[i * out + g], "group " + g);
        }
        expectedCodebook = concat(expectedCodebook, alone.codebook());
        offset += alone.codebook().length;
        sse += alone.sse();
      }
      assertArrayEquals(expectedCodebook, c.codebook());
      assertEquals(sse, c.sse(), 0.0);
    }
  }

  /** A failing group fails the call with that group's own exception, not a wrapper. */
  @Test
  void aFailingGroupThrowsItsOwnException() {
    float[] w = gaussian(64 * 50, 12);
    w[5 * 64 + 3] = Float.NaN; // channel 3 of 64
    w[9 * 64 + 40] = Float.POSITIVE_INFINITY; // channel 40: reported after channel 3
    ClusterSettings settings =
        new ClusterSettings(4, InitMethod.OPTIMAL, true, Granularity.CHANNEL, false, 0);
    float[] channel3 = new float[50];
    for (int i = 0; i < 50; i++) {
      channel3[i] = w[i * 64 + 3];
    }
    IllegalArgumentException direct =
        assertThrows(
            IllegalArgumentException.class,
            () -> Clusterer1D.cluster(channel3, 4, InitMethod.OPTIMAL, true, 3));
    IllegalArgumentException thrown =
        assertThrows(
            IllegalArgumentException.class,
            () -> WeightClusterer.cluster(w, new OutputChannels(64, 1), settings));
    assertEquals(direct.getMessage(), thrown.getMessage());
  }

  private static float[] concat(float[] a, float[] b) {
    float[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  @ParameterizedTest
  @ValueSource(strings = {"tensor", "channel", "group:4"})
  void reportedSseIsTheSquaredErrorOfTheReconstruction(String granularity) {
    float[] w = gaussian(3 * 3 * 8 * 16, 8);
    TensorClustering c = WeightClusterer.cluster(w, CONV_CHANNELS,
        new ClusterSettings(4, InitMethod.KMEANS_PP, true, Granularity.parse(granularity), false, 0));
    float[] out = c.reconstruct();
    double sse = 0;
    for (int i = 0; i < w.length; i++) {
      sse += (w[i] - out[i]) * (double) (w[i] - out[i]);
    }
    assertEquals(sse, c.sse(), 1e-6 * Math.max(1, sse));
    assertTrue(c.codebook().length <= 4 * c.groups());
  }
}

package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.wclust.internal.graph.OutputChannels;

class ClusteringLowerBoundTest {

  @Test
  void divideAndConquerFindsTheMinimumOfTheRelaxedProgram() {
    Random r = new Random(7);
    for (int trial = 0; trial < 300; trial++) {
      int bins = 1 + r.nextInt(40);
      int k = 1 + r.nextInt(8);
      double[] w = new double[bins];
      double[] s1 = new double[bins];
      double[] s2 = new double[bins];
      for (int b = 0; b < bins; b++) {
        // Bins as a histogram would make them: some empty, values about a centre.
        int count = r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(20);
        for (int i = 0; i < count; i++) {
          double x = b + r.nextDouble() - bins / 2.0;
          w[b] += 1;
          s1[b] += x;
          s2[b] += x * x;
        }
      }
      double fast = ClusteringLowerBound.relaxedOptimum(w, s1, s2, 0, bins, k);
      double slow = ClusteringLowerBound.relaxedOptimumByDefinition(w, s1, s2, 0, bins, k);
      assertEquals(slow, fast, 1e-9 * Math.max(1, slow), "trial " + trial + ": bins " + bins + ", k " + k);
    }
  }

  @Test
  void boundsTheOptimumOfTinyInputsFromBelowByEnumeration() {
    Random r = new Random(3);
    for (int trial = 0; trial < 400; trial++) {
      int n = 2 + r.nextInt(8);
      int k = 1 + r.nextInt(n);
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        values[i] = r.nextInt(3) == 0 ? (float) r.nextInt(3) : (float) r.nextGaussian();
      }
      double optimum = bestIntervalPartition(sorted(values), k);
      for (int bins : new int[] {1, 2, 5, 64}) {
        double bound = ClusteringLowerBound.sum(values, null, i -> 0, 1, k, bins);
        assertTrue(bound <= optimum * (1 + 1e-12) + 1e-15,
            "trial " + trial + ", " + bins + " bins: bound " + bound + " > optimum " + optimum);
      }
    }
  }

  @Test
  void boundsTheSolversOptimumOfEveryGroupFromBelowAndComesCloseWithEnoughBins() {
    Random r = new Random(11);
    int channels = 8;
    OutputChannels layout = new OutputChannels(channels, 1);
    int closeChecked = 0;
    for (int trial = 0; trial < 12; trial++) {
      int n = channels * (500 + r.nextInt(5000));
      int k = 2 << r.nextInt(4);
      float[] values = new float[n];
      float[] weights = trial % 2 == 0 ? null : new float[n];
      for (int i = 0; i < n; i++) {
        double scale = 0.2 + (i % channels);
        values[i] = (float) (trial % 3 == 0 ? r.nextGaussian() * scale
            : trial % 3 == 1 ? (r.nextDouble() * 2 - 1) * scale : Math.exp(r.nextGaussian()) * scale);
        if (weights != null) {
          weights[i] = (float) (0.1 + r.nextDouble());
        }
      }
      Granularity halves = Granularity.byChannel(new int[] {0, 0, 0, 0, 1, 1, 1, 1});
      ClusterSettings optimal = new ClusterSettings(k, InitMethod.OPTIMAL, false, halves, false, 1);
      TensorClustering exact = WeightClusterer.cluster(values, weights, layout, optimal);
      double error = 0;
      for (int i = 0; i < n; i++) {
        double e = values[i] - (double) exact.codebook()[exact.indices()[i]];
        error += (weights == null ? 1 : weights[i]) * e * e;
      }
      double coarse = ClusteringLowerBound.sum(values, weights, i -> halves.groupOf(layout.channelOf(i)), 2, k, 4 * k);
      double fine = ClusteringLowerBound.sum(values, weights, i -> halves.groupOf(layout.channelOf(i)), 2, k, 64 * k);
      assertTrue(coarse <= error * (1 + 1e-9), "trial " + trial + ": " + coarse + " > " + error);
      assertTrue(fine <= error * (1 + 1e-9), "trial " + trial + ": " + fine + " > " + error);
      // More bins drop fewer values at the boundaries; the exponential tails keep the bound looser.
      assertTrue(fine >= coarse * (1 - 1e-9), "trial " + trial + ": " + fine + " < " + coarse);
      if (trial % 3 != 2 && n / 2 >= 16 * 64 * k) {
        assertTrue(fine >= 0.85 * error, "trial " + trial + ": " + fine / error + " of the optimum");
        closeChecked++;
      }
    }
    assertTrue(closeChecked >= 2, closeChecked + " trials large enough to check the bound's closeness");
  }

  @Test
  void aGroupOfOneValueOrWithANonFiniteValueBoundsAtZero() {
    float[] values = {1, 1, 1, 2, Float.NaN, 5};
    // Group 0: the three 1s; group 1: 2, NaN and 5.
    double bound = ClusteringLowerBound.sum(values, null, i -> i < 3 ? 0 : 1, 2, 1, 8);
    assertEquals(0, bound);
  }

  private static float[] sorted(float[] values) {
    float[] s = values.clone();
    java.util.Arrays.sort(s);
    return s;
  }

  /** The least SSE over partitions of the sorted values into at most k intervals, by enumeration of cuts. */
  private static double bestIntervalPartition(float[] s, int k) {
    int n = s.length;
    double best = Double.POSITIVE_INFINITY;
    for (int mask = 0; mask < 1 << (n - 1); mask++) {
      if (Integer.bitCount(mask) > k - 1) {
        continue;
      }
      double total = 0;
      int from = 0;
      for (int i = 0; i < n; i++) {
        boolean cut = i == n - 1 || (mask >> i & 1) == 1;
        if (cut) {
          total += sse(s, from, i);
          from = i + 1;
        }
      }
      best = Math.min(best, total);
    }
    return best;
  }

  private static double sse(float[] s, int from, int to) {
    double mean = 0;
    for (int i = from; i <= to; i++) {
      mean += s[i];
    }
    mean /= to - from + 1;
    double e = 0;
    for (int i = from; i <= to; i++) {
      e += (s[i] - mean) * (s[i] - mean);
    }
    return e;
  }
}

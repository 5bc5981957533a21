package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The entropy-constrained solver and the knee clustering built on it. */
class RateDistortionTest {

  /**
   * SSE about each cluster's exact mean plus λ times the ideal index bits, computed from an
   * assignment alone; the brute force and the solver's result are both scored with it.
   */
  private static double objective(float[] values, int[] labels, int k, double lambda) {
    double[] sum = new double[k];
    long[] count = new long[k];
    for (int i = 0; i < values.length; i++) {
      sum[labels[i]] += values[i];
      count[labels[i]]++;
    }
    double sse = 0;
    for (int i = 0; i < values.length; i++) {
      double e = values[i] - sum[labels[i]] / count[labels[i]];
      sse += e * e;
    }
    double bits = 0;
    for (long c : count) {
      if (c > 0) {
        bits += c * (Math.log((double) values.length / c) / Math.log(2));
      }
    }
    return sse + lambda * bits;
  }

  /** The least objective over all k^n assignments of the values to k labels (at most k clusters). */
  private static double bruteForce(float[] values, int k, double lambda) {
    int n = values.length;
    int[] labels = new int[n];
    double best = Double.POSITIVE_INFINITY;
    long total = (long) Math.pow(k, n);
    for (long code = 0; code < total; code++) {
      long c = code;
      for (int i = 0; i < n; i++) {
        labels[i] = (int) (c % k);
        c /= k;
      }
      best = Math.min(best, objective(values, labels, k, lambda));
    }
    return best;
  }

  /**
   * The least objective over the partitions of the sorted distinct values into exactly
   * min(k, distinct) intervals, every choice of cut positions enumerated.
   */
  private static double bruteForceIntervals(float[] values, int k, double lambda) {
    float[] distinct = sortedDistinct(values);
    int m = distinct.length;
    int clusters = Math.min(k, m);
    double best = Double.POSITIVE_INFINITY;
    // Cut masks over the m - 1 gaps with clusters - 1 cuts.
    for (int mask = 0; mask < (1 << (m - 1)); mask++) {
      if (Integer.bitCount(mask) != clusters - 1) {
        continue;
      }
      int[] labelOfDistinct = new int[m];
      for (int j = 1; j < m; j++) {
        labelOfDistinct[j] = labelOfDistinct[j - 1] + ((mask >> (j - 1)) & 1);
      }
      int[] labels = new int[values.length];
      for (int i = 0; i < values.length; i++) {
        labels[i] = labelOfDistinct[java.util.Arrays.binarySearch(distinct, values[i])];
      }
      best = Math.min(best, objective(values, labels, clusters, lambda));
    }
    return best;
  }

  private static float[] sortedDistinct(float[] values) {
    float[] copy = values.clone();
    java.util.Arrays.sort(copy);
    int m = 0;
    for (int i = 0; i < copy.length; i++) {
      if (i == 0 || copy[i] != copy[m - 1]) {
        copy[m++] = copy[i];
      }
    }
    return java.util.Arrays.copyOf(copy, m);
  }

  @Test
  void solverFindsTheBruteForceOptimumOnSmallTensors() {
    Random random = new Random(7);
    int checked = 0;
    for (int trial = 0; trial < 60; trial++) {
      int n = 4 + random.nextInt(5); // 4..8 values
      int k = 2 + random.nextInt(2); // 2 or 3 clusters
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        // Some repeats, and a spread that makes both terms matter.
        values[i] = random.nextInt(4) == 0 && i > 0 ? values[i - 1] : (float) (random.nextGaussian() * 2);
      }
      for (double lambda : new double[] {0, 0.05, 0.3, 1, 4}) {
        Clustering c = RateDistortion.solve(values, k, lambda, false);
        assertTrue(c.centroids().length <= k);
        double found = objective(values, c.indices(), c.centroids().length, lambda);
        double best = bruteForce(values, k, lambda);
        assertEquals(best, found, 1e-9 * Math.max(1, best), "trial " + trial + " lambda " + lambda + " k " + k
            + " values " + java.util.Arrays.toString(values) + " labels " + java.util.Arrays.toString(c.indices()));
        // Exactly k intervals, as the knee uses.
        c = RateDistortion.solve(values, k, lambda, true);
        assertEquals(Math.min(k, sortedDistinct(values).length), c.centroids().length);
        found = objective(values, c.indices(), c.centroids().length, lambda);
        best = bruteForceIntervals(values, k, lambda);
        assertEquals(best, found, 1e-9 * Math.max(1, best), "trial " + trial + " lambda " + lambda + " k " + k + " values " + java.util.Arrays.toString(values) + " labels " + java.util.Arrays.toString(c.indices()));
        checked++;
      }
    }
    assertEquals(300, checked);
  }

  @Test
  void largeLambdaPutsAlmostEverythingInOneClusterAndZeroLambdaIsMinimumSse() {
    float[] values = gaussian(500, 3);
    Clustering lean = RateDistortion.solve(values, 8, 1e9, true);
    assertEquals(8, lean.centroids().length, "the k clusters asked for");
    long[] counts = new long[8];
    for (int i : lean.indices()) {
      counts[i]++;
    }
    assertEquals(493, java.util.Arrays.stream(counts).max().getAsLong(), "one cluster, the other 7 a value each");
    Clustering zero = RateDistortion.solve(values, 8, 0, false);
    Clustering optimal = Clusterer1D.cluster(values, 8, InitMethod.OPTIMAL, false, 0);
    assertEquals(optimal.sse(), zero.sse(), 1e-6 * optimal.sse());
  }

  @ParameterizedTest
  @ValueSource(ints = {8, 16, 32})
  void kneeAssignsToTheNearestCentroidWithLowerEntropyThanOptimal(int k) {
    float[] values = gaussian(20_000, 11);
    Clustering knee = Clusterer1D.cluster(values, k, InitMethod.KNEE, false, 0, 16);
    Clustering optimal = Clusterer1D.cluster(values, k, InitMethod.OPTIMAL, false, 0);
    float[] c = knee.centroids();
    for (int i = 1; i < c.length; i++) {
      assertTrue(c[i - 1] < c[i], "ascending centroids");
    }
    int[] indices = knee.indices();
    for (int i = 0; i < values.length; i++) {
      double own = Math.abs(values[i] - c[indices[i]]);
      for (float other : c) {
        assertTrue(own <= Math.abs(values[i] - other), "value " + values[i] + " not at its nearest centroid");
      }
    }
    double kneeBits = RateDistortion.indexBits(knee.indices(), c.length);
    double optimalBits = RateDistortion.indexBits(optimal.indices(), optimal.centroids().length);
    assertTrue(kneeBits < 0.8 * optimalBits, "knee " + kneeBits + " vs optimal " + optimalBits + " bits");
    assertTrue(knee.sse() >= optimal.sse());
    assertEquals(0, knee.emptyClusters());
  }

  @Test
  void rateWeightZeroIsOptimal() {
    float[] values = gaussian(3000, 5);
    assertEquals(Clusterer1D.cluster(values, 8, InitMethod.OPTIMAL, false, 0),
        Clusterer1D.cluster(values, 8, InitMethod.KNEE, false, 0, 0));
  }

  @Test
  void entropyBitsOfAKnownHistogram() {
    // 4 symbols equally likely: 2 bits each; one symbol: 0 bits.
    assertEquals(16, RateDistortion.entropyBits(new long[] {2, 2, 2, 2}), 1e-12);
    assertEquals(0, RateDistortion.entropyBits(new long[] {0, 9, 0}), 1e-12);
    assertArrayEquals(new float[] {1f}, RateDistortion.solve(new float[] {1f, 1f}, 2, 1, true).centroids());
  }

  static float[] gaussian(int n, long seed) {
    Random random = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (random.nextGaussian() * 0.05);
    }
    return v;
  }
}

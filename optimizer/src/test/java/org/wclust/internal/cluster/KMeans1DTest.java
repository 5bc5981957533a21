package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KMeans1DTest {

  private static float[] toFloats(double[] values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  /**
   * assign gives each value its nearest centroid, ties to the lower, whether the values come ascending
   * (its merged pass) or in any order (its binary search): checked against the distances themselves, on
   * values that include every midpoint exactly (the ties) and repeats.
   */
  @Test
  void assignPicksTheNearestCentroidInAnyOrder() {
    Random random = new Random(5);
    for (int trial = 0; trial < 200; trial++) {
      // Distinct multiples of 1/4 (exact midpoints), ascending, as a clustering's centroids are.
      float[] centroids = toFloats(random.doubles(1 + random.nextInt(12)).map(x -> Math.rint((x - 0.5) * 40) / 4 + 0.0)
          .distinct().sorted().toArray());
      int k = centroids.length;
      int n = 1 + random.nextInt(60);
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        values[i] = random.nextBoolean() ? (float) Math.rint(random.nextGaussian() * 16) / 8 : (float) random.nextGaussian() * 3;
      }
      boolean ascending = random.nextBoolean();
      if (ascending) {
        Arrays.sort(values);
      }
      int[] assignment = new int[n];
      KMeans1D.assign(values, centroids, assignment);
      for (int i = 0; i < n; i++) {
        int expected = 0;
        for (int c = 1; c < k; c++) {
          // Strictly nearer only: a tie stays with the lower centroid.
          if (Math.abs((double) values[i] - centroids[c]) < Math.abs((double) values[i] - centroids[expected])) {
            expected = c;
          }
        }
        float got = centroids[assignment[i]];
        assertEquals(centroids[expected], got, "trial " + trial + " value " + values[i] + " centroids "
            + Arrays.toString(centroids) + (ascending ? " ascending" : " unordered"));
      }
    }
  }

  @Test
  void twoObviousGroups() {
    // {1,1,2} and {10,11,12}: the only Lloyd fixed point for k=2 (moving 2 or 10 across does not
    // survive one step), so every seed must land here.
    // Centroids 4/3 and 11.
    // SSE = 2*(1-4/3)^2 + (2-4/3)^2 + (10-11)^2 + 0 + (12-11)^2 = 2/9 + 4/9 + 1 + 1 = 8/3.
    float[] values = {1, 1, 2, 10, 11, 12};
    for (long seed = 0; seed < 20; seed++) {
      Clustering c = KMeans1D.cluster(values, 2, seed);
      assertArrayEquals(new float[] {4f / 3f, 11f}, c.centroids(), "seed " + seed);
      assertArrayEquals(new int[] {0, 0, 0, 1, 1, 1}, c.indices(), "seed " + seed);
      assertEquals(8.0 / 3.0, c.sse(), 1e-6, "seed " + seed);
      assertFalse(c.keptOriginalValues());
      assertEquals(2, c.distinctValues());
    }
  }

  @Test
  void threeGroupsWithOutlier() {
    // Groups {-5,-4,-3}, {3,4,5}, {100}; centroids -4, 4, 100.
    // SSE = (1+0+1) + (1+0+1) + 0 = 4, exact in float.
    float[] values = {4, 100, -3, 5, -5, 3, -4};
    for (long seed = 0; seed < 20; seed++) {
      Clustering c = KMeans1D.cluster(values, 3, seed);
      assertArrayEquals(new float[] {-4, 4, 100}, c.centroids(), "seed " + seed);
      assertArrayEquals(new int[] {1, 2, 0, 1, 0, 1, 0}, c.indices(), "seed " + seed);
      assertEquals(4.0, c.sse(), 0.0);
      assertArrayEquals(new float[] {4, 100, -4, 4, -4, 4, -4}, c.reconstruct());
    }
  }

  @Test
  void fewerDistinctValuesThanClustersKeepsValuesExactly() {
    float[] values = {3, -1, 3, 0.5f, -1, 2.25f, 1e-30f};
    Clustering c = KMeans1D.cluster(values, 8, 7);
    assertTrue(c.keptOriginalValues());
    assertArrayEquals(new float[] {-1, 1e-30f, 0.5f, 2.25f, 3}, c.centroids());
    assertArrayEquals(values, c.reconstruct());
    assertEquals(0.0, c.sse());
    assertEquals(0, c.iterations());
    assertEquals(5, c.distinctValues());
  }

  @Test
  void exactlyKDistinctValuesAreKept_kPlusOneAreClustered() {
    float[] values = {7, 1, 7, 2, 1, 9};
    Clustering kept = KMeans1D.cluster(values, 4, 1);
    assertTrue(kept.keptOriginalValues());
    assertArrayEquals(new float[] {1, 2, 7, 9}, kept.centroids());
    assertArrayEquals(values, kept.reconstruct());

    Clustering clustered = KMeans1D.cluster(values, 3, 1);
    assertFalse(clustered.keptOriginalValues());
    assertEquals(3, clustered.centroids().length);
    assertEquals(3, clustered.distinctValues());
    assertTrue(clustered.sse() > 0);
  }

  @Test
  void negativeAndPositiveZeroAreOneValue() {
    float[] values = {-0.0f, 0.0f, 1f, -0.0f};
    Clustering c = KMeans1D.cluster(values, 2, 0);
    assertTrue(c.keptOriginalValues());
    assertArrayEquals(new float[] {0.0f, 1f}, c.centroids());
    assertArrayEquals(new int[] {0, 0, 1, 0}, c.indices());
  }

  @Test
  void sameSeedGivesIdenticalResult() {
    float[] values = gaussian(10_000, 3);
    for (int k : new int[] {2, 16, 256}) {
      Clustering a = KMeans1D.cluster(values, k, 42);
      Clustering b = KMeans1D.cluster(values.clone(), k, 42);
      assertNotSame(a, b);
      assertArrayEquals(a.centroids(), b.centroids());
      assertArrayEquals(a.indices(), b.indices());
      assertEquals(a.sse(), b.sse());
      assertEquals(a.iterations(), b.iterations());
      assertEquals(a, b);
      assertEquals(a.hashCode(), b.hashCode());
    }
  }

  @Test
  void inputIsNotModified() {
    float[] values = gaussian(1000, 5);
    float[] copy = values.clone();
    KMeans1D.cluster(values, 8, 1);
    assertArrayEquals(copy, values);
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 8, 32, 256})
  void lloydFixedPointOnGaussianData(int k) {
    float[] values = gaussian(10_000, 11 + k);
    Clustering c = KMeans1D.cluster(values, k, 2024);
    assertFalse(c.keptOriginalValues());
    assertTrue(
        c.iterations() < KMeans1D.DEFAULT_MAX_ITERATIONS,
        "did not converge: " + c.iterations() + " iterations");
    assertFixedPoint(values, c, k);
    assertEquals(k, c.distinctValues());
  }

  @Test
  void manyDuplicatesLargeTensor() {
    // A quantized tensor: 1M values over 2001 levels exercises the weighted seeding path.
    Random random = new Random(9);
    float[] values = new float[1_000_000];
    for (int i = 0; i < values.length; i++) {
      values[i] = Math.round(random.nextGaussian() * 300) / 1000f;
    }
    Clustering c = KMeans1D.cluster(values, 16, 5);
    assertTrue(c.iterations() < KMeans1D.DEFAULT_MAX_ITERATIONS, "did not converge");
    assertFixedPoint(values, c, 16);
  }

  @Test
  void emptyClustersAreReseeded() {
    // Initial centroids {0, 11, 100, 200}: 100 and 200 get no members.
    // Step 1: means 1 and 16; errors are largest (36) at 10 and 22, so the empty clusters move
    //         there: {1, 10, 16, 22}. Now 16 is empty ({10,11,12} and {20,21,22} go elsewhere).
    // Step 2: means 1, 11, 21; every value has error <= 1, the first such is 0: {0, 1, 11, 21}.
    // Step 3: {0}, {1,2}, {10,11,12}, {20,21,22} -> {0, 1.5, 11, 21}, then stable.
    // SSE = 0 + 2*0.25 + 2 + 2 = 4.5.
    float[] values = {0, 1, 2, 10, 11, 12, 20, 21, 22};
    Clustering c = KMeans1D.refine(values, new float[] {200, 0, 11, 100}, 300);
    assertArrayEquals(new float[] {0, 1.5f, 11, 21}, c.centroids());
    assertArrayEquals(new int[] {0, 1, 1, 2, 2, 2, 3, 3, 3}, c.indices());
    assertEquals(4.5, c.sse(), 0.0);
    assertFixedPoint(values, c, 4);
  }

  @Test
  void duplicateInitialCentroidsAreSeparated() {
    float[] values = gaussian(500, 8);
    Clustering c = KMeans1D.refine(values, new float[] {0.5f, 0.5f, 0.5f, 0.5f, 0.5f}, 1000);
    assertFixedPoint(values, c, 5);
  }

  @Test
  void iterationLimitIsRespected() {
    float[] values = gaussian(10_000, 4);
    Clustering c = KMeans1D.cluster(values, 64, 3, 1);
    assertEquals(1, c.iterations());
    assertEquals(recomputedSse(values, c), c.sse(), 1e-9 * c.sse());
  }

  /**
   * On tiny inputs the optimum is found by brute force over contiguous splits of the sorted values
   * (an optimal 1-D clustering is contiguous). Lloyd may stop in a local optimum, so only "never
   * better than optimal" is asserted — which catches SSE arithmetic that under-reports.
   */
  @Test
  void sseIsNeverBelowBruteForceOptimum() {
    Random random = new Random(123);
    int optimalHits = 0;
    int trials = 2000;
    for (int t = 0; t < trials; t++) {
      int n = 3 + random.nextInt(8); // 3..10
      int k = 2 + random.nextInt(2); // 2 or 3
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        // Coarse values half the time, to get duplicates.
        values[i] =
            t % 2 == 0 ? (float) random.nextInt(6) : (float) (random.nextGaussian() * 10);
      }
      Clustering c = KMeans1D.cluster(values, k, t);
      double optimum = bruteForceOptimum(values, Math.min(k, n));
      String context = "trial " + t + " k=" + k + " values=" + Arrays.toString(values);
      assertTrue(c.sse() >= optimum - 1e-9 * (1 + optimum), context + " sse=" + c.sse());
      assertEquals(recomputedSse(values, c), c.sse(), 1e-9 * (1 + c.sse()), context);
      if (c.keptOriginalValues()) {
        assertEquals(0.0, optimum, context);
      } else {
        assertFixedPoint(values, c, k);
      }
      if (c.sse() <= optimum * (1 + 1e-6) + 1e-9) {
        optimalHits++;
      }
    }
    // About three quarters reach the optimum with this seed (the rest are genuine Lloyd fixed
    // points, e.g. {0,1,1,2,3 | 5,5,5}); a collapse far below that would mean broken seeding.
    assertTrue(optimalHits > trials / 2, "optimal in only " + optimalHits + "/" + trials);
  }

  @Test
  void badArguments() {
    float[] ok = {1, 2, 3};
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> KMeans1D.cluster(ok, 1, 0));
    assertTrue(e.getMessage().contains("k=1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> KMeans1D.cluster(ok, -3, 0));
    assertTrue(e.getMessage().contains("k=-3"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> KMeans1D.cluster(new float[0], 2, 0));
    assertTrue(e.getMessage().contains("empty"), e.getMessage());

    assertThrows(NullPointerException.class, () -> KMeans1D.cluster(null, 2, 0));

    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> KMeans1D.cluster(new float[] {1, 2, 3, Float.NaN, 5}, 2, 0));
    assertTrue(e.getMessage().contains("values[3]"), e.getMessage());
    assertTrue(e.getMessage().contains("not finite"), e.getMessage());

    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> KMeans1D.cluster(new float[] {Float.NEGATIVE_INFINITY, 2}, 2, 0));
    assertTrue(e.getMessage().contains("values[0]"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> KMeans1D.cluster(ok, 2, 0, 0));
    assertTrue(e.getMessage().contains("maxIterations"), e.getMessage());
  }

  // ---------------------------------------------------------------------------------------------

  /** Asserts the converged-Lloyd contract: sorted distinct centroids, means, nearest, sse. */
  private static void assertFixedPoint(float[] values, Clustering c, int k) {
    float[] centroids = c.centroids();
    int[] indices = c.indices();
    assertEquals(k, centroids.length);
    assertEquals(values.length, indices.length);
    for (int j = 1; j < k; j++) {
      assertTrue(centroids[j - 1] < centroids[j], "not strictly ascending at " + j);
    }

    double[] sum = new double[k];
    long[] count = new long[k];
    for (int i = 0; i < values.length; i++) {
      sum[indices[i]] += values[i];
      count[indices[i]]++;
    }
    for (int j = 0; j < k; j++) {
      assertTrue(count[j] > 0, "cluster " + j + " is empty");
      double mean = sum[j] / count[j];
      // The centroid is the float rounding of the mean, summed in another order here.
      double tolerance = Math.max(Math.ulp(centroids[j]), 1e-12);
      assertEquals(mean, centroids[j], tolerance, "centroid " + j + " is not its members' mean");
    }

    for (int i = 0; i < values.length; i++) {
      double own = square(values[i] - (double) centroids[indices[i]]);
      for (int j = 0; j < k; j++) {
        double other = square(values[i] - (double) centroids[j]);
        if (own > other + 1e-12) {
          // Not assertTrue(cond, message): the message would be built n*k times.
          fail("values[" + i + "]=" + values[i] + " is nearer centroid " + j + " than " + indices[i]);
        }
      }
    }
    assertEquals(recomputedSse(values, c), c.sse(), 1e-9 * Math.max(1, c.sse()));
  }

  private static double recomputedSse(float[] values, Clustering c) {
    float[] reconstructed = c.reconstruct();
    double sse = 0;
    for (int i = 0; i < values.length; i++) {
      sse += square(values[i] - (double) reconstructed[i]);
    }
    return sse;
  }

  /** Minimum SSE over all splits of the sorted values into k non-empty contiguous groups. */
  private static double bruteForceOptimum(float[] values, int k) {
    double[] sorted = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      sorted[i] = values[i];
    }
    Arrays.sort(sorted);
    return best(sorted, 0, k);
  }

  private static double best(double[] sorted, int from, int groups) {
    int n = sorted.length;
    if (groups == 1) {
      return groupSse(sorted, from, n);
    }
    double best = Double.POSITIVE_INFINITY;
    // Leave at least one value for each remaining group.
    for (int end = from + 1; end <= n - (groups - 1); end++) {
      best = Math.min(best, groupSse(sorted, from, end) + best(sorted, end, groups - 1));
    }
    return best;
  }

  private static double groupSse(double[] sorted, int from, int to) {
    double mean = 0;
    for (int i = from; i < to; i++) {
      mean += sorted[i];
    }
    mean /= (to - from);
    double sse = 0;
    for (int i = from; i < to; i++) {
      sse += square(sorted[i] - mean);
    }
    return sse;
  }

  private static float[] gaussian(int n, long seed) {
    Random random = new Random(seed);
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return values;
  }

  private static double square(double x) {
    return x * x;
  }
}

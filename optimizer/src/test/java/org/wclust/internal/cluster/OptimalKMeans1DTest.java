package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wclust.internal.cluster.OptimalKMeans1D.Options;
import org.wclust.internal.cluster.OptimalKMeans1D.RowMinima;

class OptimalKMeans1DTest {

  /**
   * The knee takes the optimum's SSE from sseOfStarts without building the clustering: it must be
   * exactly fromStarts' SSE (the knee's λ, and so its output, depend on every bit), and that SSE the
   * squared error of the clustering's own centroids over the raw values.
   */
  @Test
  void sseOfStartsIsTheClusteringsSse() {
    Random random = new Random(3);
    for (int trial = 0; trial < 30; trial++) {
      float[] values = new float[200 + random.nextInt(3000)];
      for (int i = 0; i < values.length; i++) {
        values[i] = random.nextInt(5) == 0 ? (float) Math.rint(random.nextGaussian() * 4) : (float) random.nextGaussian();
      }
      KMeans1D.Distinct d = KMeans1D.Distinct.of(values);
      int k = 2 + random.nextInt(Math.min(30, d.size() - 2));
      int[] starts = OptimalKMeans1D.segmentStarts(d.values, d.counts, k);
      Clustering c = OptimalKMeans1D.fromStarts(d, starts);
      assertEquals(c.sse(), OptimalKMeans1D.sseOfStarts(d, starts), 0.0);
      double direct = 0;
      for (int i = 0; i < values.length; i++) {
        double e = values[i] - (double) c.centroids()[c.indices()[i]];
        direct += e * e;
      }
      assertEquals(direct, c.sse(), 1e-9 * direct);
    }
  }

  /** Every non-default path: D&C, pruning on tiny inputs with tiny groups, tracked splitting. */
  private static final Options[] VARIANTS = {
    OptimalKMeans1D.DEFAULT_OPTIONS,
    new Options(RowMinima.SMAWK, false, 1, 0, 16, 1L << 40, 7),
    new Options(RowMinima.DIVIDE_AND_CONQUER, false, 1, 0, 16, 1L << 40, 7),
    new Options(RowMinima.SMAWK, true, 1, 0, 2, 1L << 40, 7),
    new Options(RowMinima.SMAWK, true, 1, 2, 2, 1L << 40, 7),
    new Options(RowMinima.SMAWK, true, 1, 64, 4, 1L << 40, 7),
    new Options(RowMinima.SMAWK, true, 1, 5, 2, 0, 2),
    new Options(RowMinima.SMAWK, false, 1, 0, 16, 0, 1),
    new Options(RowMinima.SMAWK, false, 1, 0, 16, 3, 3),
    new Options(RowMinima.DIVIDE_AND_CONQUER, true, 1, 33, 3, 10, 3),
    // Unpruned divide and conquer: the cross-layer bound and the sweep, with the table and with
    // tracked splitting (whose sub-problems use them again); and the pruning ratio.
    new Options(RowMinima.DIVIDE_AND_CONQUER, false, 1, 0, 16, 0, 1),
    new Options(RowMinima.DIVIDE_AND_CONQUER, false, 1, 0, 16, 3, 3),
    new Options(RowMinima.DIVIDE_AND_CONQUER, true, 1, 0.5, 0, 4, 1L << 40, 7),
  };

  /**
   * The brief's check: on many small inputs (with duplicates) the reported SSE equals the optimum
   * found by enumerating every split of the sorted distinct values into k contiguous groups, and
   * equals the SSE recomputed from reconstruct().
   */
  @Test
  void equalsBruteForceOnSmallInputs() {
    Random random = new Random(20240611);
    int compared = 0;
    for (int trial = 0; trial < 4000; trial++) {
      int n = 1 + random.nextInt(12);
      int k = 2 + random.nextInt(3); // 2, 3, 4
      float[] values = smallValues(random, n, trial % 4);
      Clustering c = Clusterer1D.cluster(values, k, InitMethod.OPTIMAL, trial % 2 == 0, trial);
      String context = "trial " + trial + " k=" + k + " values=" + Arrays.toString(values);
      double recomputed = recomputedSse(values, c);
      assertEquals(recomputed, c.sse(), 1e-12 * (1 + recomputed), context);
      KMeans1D.Distinct d = KMeans1D.Distinct.of(values);
      if (d.size() <= k) {
        assertTrue(c.keptOriginalValues(), context);
        assertEquals(0.0, c.sse(), context);
        continue;
      }
      double optimum = bruteForce(d.values, d.counts, k);
      assertEquals(optimum, c.sse(), 1e-9 * (1 + optimum), context);
      assertWellFormedOptimal(values, c, k, context);
      for (Options options : VARIANTS) {
        int[] starts = OptimalKMeans1D.segmentStarts(d.values, d.counts, k, options);
        assertValidStarts(starts, k, d.size(), context);
        assertEquals(
            optimum,
            partitionSse(d.values, d.counts, starts),
            1e-9 * (1 + optimum),
            context + " " + options);
      }
      compared++;
    }
    assertTrue(compared > 2500, "only " + compared + " inputs had more distinct values than k");
  }

  /**
   * Medium inputs against a plain O(k·n²) DP written independently of the solver: checks SMAWK,
   * pruning and splitting where brute force cannot go.
   */
  @Test
  void equalsQuadraticDpOnMediumInputs() {
    Random random = new Random(7);
    for (int trial = 0; trial < 150; trial++) {
      int n = 20 + random.nextInt(300);
      float[] values = mediumValues(random, n, trial % 5);
      KMeans1D.Distinct d = KMeans1D.Distinct.of(values);
      int k = 2 + random.nextInt(Math.min(d.size() - 1, 40));
      if (k >= d.size()) {
        continue;
      }
      double expected = quadraticDp(d.values, d.counts, k);
      String context = "trial " + trial + " n=" + d.size() + " k=" + k;
      for (Options options : VARIANTS) {
        int[] starts = OptimalKMeans1D.segmentStarts(d.values, d.counts, k, options);
        assertValidStarts(starts, k, d.size(), context);
        assertEquals(
            expected,
            partitionSse(d.values, d.counts, starts),
            tolerance(d, expected),
            context + " " + options);
      }
    }
  }

  /**
   * Pruned and unpruned give the same cost on larger inputs of several shapes, where the default
   * options prune through several levels and split into sub-problems.
   */
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 3, 4})
  void pruningKeepsTheOptimumOnLargeInputs(int shape) {
    Random random = new Random(100 + shape);
    float[] values = mediumValues(random, 60_000, shape);
    KMeans1D.Distinct d = KMeans1D.Distinct.of(values);
    Options unpruned = new Options(RowMinima.SMAWK, false, 1, 0, 16, 1L << 40, 7);
    Options prunedTracked = new Options(RowMinima.SMAWK, true, 1024, 0, 16, 50_000, 3);
    for (int k : new int[] {2, 7, 32, 100}) {
      if (k >= d.size()) {
        continue;
      }
      double expected =
          partitionSse(
              d.values, d.counts, OptimalKMeans1D.segmentStarts(d.values, d.counts, k, unpruned));
      for (Options options : new Options[] {OptimalKMeans1D.DEFAULT_OPTIONS, prunedTracked}) {
        int[] starts = OptimalKMeans1D.segmentStarts(d.values, d.counts, k, options);
        assertValidStarts(starts, k, d.size(), "k=" + k);
        assertEquals(
            expected,
            partitionSse(d.values, d.counts, starts),
            tolerance(d, expected),
            "shape " + shape + " k=" + k + " " + options);
      }
    }
  }

  /**
   * The unpruned DP searches each row only from the previous layer's argmin (divide and conquer
   * early, a sweep once the layers are close, the last layer's skipped rows): on many inputs, with
   * duplicates, exact ties (evenly spaced values) and k up to n - 1, it finds the optimum of a
   * plain O(k·n²) DP that tries every split.
   */
  @Test
  void crossLayerBoundsKeepTheOptimum() {
    Random random = new Random(2024);
    Options tracked = new Options(RowMinima.DIVIDE_AND_CONQUER, false, 1, 0, 16, 0, 3);
    int compared = 0;
    for (int trial = 0; trial < 600; trial++) {
      int n = 2 + random.nextInt(trial < 300 ? 60 : 300);
      int shape = trial % 7;
      float[] values =
          switch (shape) {
            case 5 -> evenlySpaced(random, n); // many exactly equal segment costs
            case 6 -> smallValues(random, n, 0); // few distinct values, heavy weights
            default -> mediumValues(random, n, shape);
          };
      KMeans1D.Distinct d = KMeans1D.Distinct.of(values);
      if (d.size() < 3) {
        continue;
      }
      int k =
          switch (trial % 4) {
            case 0 -> d.size() - 1; // every layer but one row short of the end
            case 1 -> 2 + random.nextInt(Math.min(d.size() - 2, 8));
            default -> 2 + random.nextInt(d.size() - 2);
          };
      double expected = plainDp(d.values, d.counts, k);
      String context = "trial " + trial + " n=" + d.size() + " k=" + k + " shape=" + shape;
      for (Options options : new Options[] {OptimalKMeans1D.DEFAULT_OPTIONS, tracked}) {
        int[] starts = OptimalKMeans1D.segmentStarts(d.values, d.counts, k, options);
        assertValidStarts(starts, k, d.size(), context);
        assertEquals(
            expected,
            partitionSse(d.values, d.counts, starts),
            tolerance(d, expected),
            context + " " + options);
      }
      compared++;
    }
    assertTrue(compared > 500, "only " + compared + " inputs compared");
  }

  /** Pruning only pays from about 25·k^1.5 values on (below, the cross-layer bounds are faster). */
  @Test
  void defaultOptionsPruneOnlyLargeProblems() {
    Options options = OptimalKMeans1D.DEFAULT_OPTIONS;
    assertFalse(options.prunes(4525, 32)); // 25 · 32^1.5 = 4525.5
    assertTrue(options.prunes(4526, 32));
    assertFalse(options.prunes(255, 2)); // below pruneMinSize
    assertTrue(options.prunes(256, 2));
    assertFalse(options.prunes(102_399, 256));
    assertTrue(options.prunes(102_400, 256));
    assertFalse(options.prunes(Integer.MAX_VALUE, 1 << 20));
    Options unpruned = new Options(RowMinima.DIVIDE_AND_CONQUER, false, 1, 0, 16, 1, 1);
    assertFalse(unpruned.prunes(1 << 20, 2));
  }

  /**
   * The solver reuses per-thread arrays: results must not depend on what ran before, a larger or
   * smaller problem, one that failed, or another k.
   */
  @Test
  void resultsDoNotDependOnEarlierCalls() {
    Random random = new Random(99);
    KMeans1D.Distinct small = KMeans1D.Distinct.of(mediumValues(random, 150, 3));
    KMeans1D.Distinct medium = KMeans1D.Distinct.of(mediumValues(random, 3000, 0));
    KMeans1D.Distinct large = KMeans1D.Distinct.of(mediumValues(random, 9000, 4)); // > scratch
    int[] smallStarts = OptimalKMeans1D.segmentStarts(small.values, small.counts, 9);
    double smallExpected = plainDp(small.values, small.counts, 9);
    assertEquals(
        smallExpected,
        partitionSse(small.values, small.counts, smallStarts),
        tolerance(small, smallExpected));
    int[] mediumStarts = OptimalKMeans1D.segmentStarts(medium.values, medium.counts, 40);
    int[] largeStarts = OptimalKMeans1D.segmentStarts(large.values, large.counts, 5);
    for (int round = 0; round < 3; round++) {
      assertThrows(
          IllegalArgumentException.class,
          () -> OptimalKMeans1D.segmentStarts(new float[] {1, 0}, new int[] {1, 1}, 2));
      assertArrayEquals(
          smallStarts, OptimalKMeans1D.segmentStarts(small.values, small.counts, 9), "small");
      assertArrayEquals(
          largeStarts, OptimalKMeans1D.segmentStarts(large.values, large.counts, 5), "large");
      assertArrayEquals(
          mediumStarts, OptimalKMeans1D.segmentStarts(medium.values, medium.counts, 40), "medium");
      OptimalKMeans1D.segmentStarts(medium.values, medium.counts, 200); // a bigger table
    }
  }

  @Test
  void optimalIsALloydFixedPointWithKNonEmptyClusters() {
    Random random = new Random(3);
    for (int k : new int[] {2, 5, 32, 255}) {
      float[] values = mediumValues(random, 5000, 0);
      Clustering c = Clusterer1D.cluster(values, k, InitMethod.OPTIMAL, true, 0);
      assertWellFormedOptimal(values, c, k, "k=" + k);
      // Lloyd from the optimum cannot improve it (beyond float rounding of the centroids).
      Clustering refined = KMeans1D.refine(values, c.centroids(), 300);
      assertTrue(refined.sse() >= c.sse() * (1 - 1e-9), "Lloyd improved on the optimum");
    }
  }

  @Test
  void knownSmallExample() {
    // {0,1,2} {10,11,12} {20,21,22}: SSE 2 + 2 + 2.
    float[] values = {22, 0, 11, 20, 1, 12, 2, 21, 10};
    Clustering c = Clusterer1D.cluster(values, 3, InitMethod.OPTIMAL, false, 0);
    assertArrayEquals(new float[] {1, 11, 21}, c.centroids());
    assertArrayEquals(new int[] {2, 0, 1, 2, 0, 1, 0, 2, 1}, c.indices());
    assertEquals(6.0, c.sse(), 0.0);
    assertEquals(0, c.iterations());
    assertEquals(0, c.emptyClusters());
    assertFalse(c.keptOriginalValues());
  }

  @Test
  void weightsFromDuplicatesMatter() {
    // 0 x100, 1, 2, 3 x100 with k=2: the heavy ends each pull one middle value.
    float[] values = new float[202];
    Arrays.fill(values, 0, 100, 0f);
    values[100] = 1f;
    values[101] = 2f;
    Arrays.fill(values, 102, 202, 3f);
    Clustering c = Clusterer1D.cluster(values, 2, InitMethod.OPTIMAL, true, 0);
    assertEquals(2, c.k());
    assertEquals(c.indices()[100], c.indices()[0]);
    assertEquals(c.indices()[101], c.indices()[201]);
    // Each side: 100 zeros and a one about their mean 1/101: 100/101.
    assertEquals(2 * 100.0 / 101.0, c.sse(), 1e-6);
  }

  @Test
  void sameResultFromManyThreads() throws Exception {
    float[] values = mediumValues(new Random(11), 100_000, 0);
    Clustering expected = Clusterer1D.cluster(values, 32, InitMethod.OPTIMAL, true, 0);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Clustering>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        results.add(
            pool.submit(() -> Clusterer1D.cluster(values, 32, InitMethod.OPTIMAL, true, 0)));
      }
      for (Future<Clustering> f : results) {
        assertEquals(expected, f.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static void assertValidStarts(int[] starts, int k, int n, String context) {
    assertEquals(k, starts.length, context);
    assertEquals(0, starts[0], context);
    for (int c = 1; c < k; c++) {
      if (starts[c] <= starts[c - 1] || starts[c] >= n) {
        fail(context + ": bad starts " + Arrays.toString(starts));
      }
    }
  }

  /**
   * k non-empty clusters, strictly ascending centroids, contiguous in value, each centroid its
   * members' mean (to float rounding), sse as reconstructed.
   */
  private static void assertWellFormedOptimal(
      float[] values, Clustering c, int k, String context) {
    assertEquals(k, c.k(), context);
    assertEquals(0, c.emptyClusters(), context);
    assertEquals(0, c.iterations(), context);
    assertFalse(c.keptOriginalValues(), context);
    float[] centroids = c.centroids();
    for (int j = 1; j < k; j++) {
      assertTrue(centroids[j - 1] < centroids[j], context + " centroids not ascending");
    }
    double[] sum = new double[k];
    long[] count = new long[k];
    float[] lo = new float[k];
    float[] hi = new float[k];
    Arrays.fill(lo, Float.POSITIVE_INFINITY);
    Arrays.fill(hi, Float.NEGATIVE_INFINITY);
    for (int i = 0; i < values.length; i++) {
      int j = c.indices()[i];
      sum[j] += values[i];
      count[j]++;
      lo[j] = Math.min(lo[j], values[i]);
      hi[j] = Math.max(hi[j], values[i]);
    }
    for (int j = 0; j < k; j++) {
      assertTrue(count[j] > 0, context + " cluster " + j + " empty");
      double tolerance = Math.max(Math.ulp(centroids[j]), 1e-12);
      assertEquals(sum[j] / count[j], centroids[j], tolerance, context);
      if (j > 0) {
        assertTrue(hi[j - 1] < lo[j], context + " clusters overlap");
      }
    }
    double recomputed = recomputedSse(values, c);
    assertEquals(recomputed, c.sse(), 1e-9 * (1 + recomputed), context);
  }

  /**
   * The DP compares costs from prefix sums, exact to about 1e-16 of the total SSE about the mean
   * (cancellation); so where k is close to n and the optimum is tiny, partitions within that
   * absolute margin are equally good to it.
   */
  private static double tolerance(KMeans1D.Distinct d, double optimum) {
    return 1e-9 * optimum + 1e-12 * groupSse(d.values, d.counts, 0, d.size());
  }

  /** Two-pass SSE of the partition of the distinct values starting at {@code starts}. */
  private static double partitionSse(float[] x, int[] w, int[] starts) {
    double total = 0;
    for (int c = 0; c < starts.length; c++) {
      total += groupSse(x, w, starts[c], c + 1 < starts.length ? starts[c + 1] : x.length);
    }
    return total;
  }

  /** Minimum weighted SSE over every split of the sorted distinct values into k groups. */
  private static double bruteForce(float[] x, int[] w, int k) {
    return best(x, w, 0, k);
  }

  private static double best(float[] x, int[] w, int from, int groups) {
    int n = x.length;
    if (groups == 1) {
      return groupSse(x, w, from, n);
    }
    double best = Double.POSITIVE_INFINITY;
    for (int end = from + 1; end <= n - (groups - 1); end++) {
      best = Math.min(best, groupSse(x, w, from, end) + best(x, w, end, groups - 1));
    }
    return best;
  }

  /** Two-pass SSE of [from, to): no prefix sums, no cancellation. */
  private static double groupSse(float[] x, int[] w, int from, int to) {
    double total = 0;
    double weighted = 0;
    for (int i = from; i < to; i++) {
      total += w[i];
      weighted += (double) w[i] * x[i];
    }
    double mean = weighted / total;
    double sse = 0;
    for (int i = from; i < to; i++) {
      double e = x[i] - mean;
      sse += w[i] * e * e;
    }
    return sse;
  }

  /**
   * Every split tried, O(k·n²), with each segment's SSE accumulated by Welford's update as the
   * segment grows to the left (no prefix sums, so no cancellation).
   */
  private static double plainDp(float[] x, int[] w, int k) {
    int n = x.length;
    double[][] cost = new double[n][]; // cost[j][i]: SSE of [i, j]
    for (int j = 0; j < n; j++) {
      cost[j] = new double[j + 1];
      double weight = 0;
      double mean = 0;
      double sse = 0;
      for (int i = j; i >= 0; i--) {
        double wi = w[i];
        double delta = x[i] - mean;
        weight += wi;
        mean += delta * wi / weight;
        sse += wi * delta * (x[i] - mean);
        cost[j][i] = sse;
      }
    }
    double[] prev = new double[n];
    for (int j = 0; j < n; j++) {
      prev[j] = cost[j][0];
    }
    for (int m = 2; m <= k; m++) {
      double[] cur = new double[n];
      Arrays.fill(cur, Double.POSITIVE_INFINITY);
      for (int j = m - 1; j < n; j++) {
        for (int i = m - 1; i <= j; i++) {
          cur[j] = Math.min(cur[j], prev[i - 1] + cost[j][i]);
        }
      }
      prev = cur;
    }
    return prev[n - 1];
  }

  /** n values on a grid (some repeated), so many segments have exactly equal costs. */
  private static float[] evenlySpaced(Random random, int n) {
    float[] values = new float[n];
    int step = 1 + random.nextInt(3);
    for (int i = 0; i < n; i++) {
      values[i] = (i / (1 + random.nextInt(2))) * step;
    }
    return values;
  }

  /** The textbook O(k·n²) DP with two-pass segment costs. */
  private static double quadraticDp(float[] x, int[] w, int k) {
    int n = x.length;
    double[][] cost = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = i; j < n; j++) {
        cost[i][j] = groupSse(x, w, i, j + 1);
      }
    }
    double[] prev = new double[n];
    for (int j = 0; j < n; j++) {
      prev[j] = cost[0][j];
    }
    for (int m = 2; m <= k; m++) {
      double[] cur = new double[n];
      Arrays.fill(cur, Double.POSITIVE_INFINITY);
      for (int j = m - 1; j < n; j++) {
        for (int i = m - 1; i <= j; i++) {
          cur[j] = Math.min(cur[j], prev[i - 1] + cost[i][j]);
        }
      }
      prev = cur;
    }
    return prev[n - 1];
  }

  private static float[] smallValues(Random random, int n, int shape) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] =
          switch (shape) {
            case 0 -> random.nextInt(6); // many duplicates
            case 1 -> (float) (random.nextGaussian() * 10);
            case 2 -> random.nextInt(3) * 100f + random.nextInt(3); // tight groups
            default ->
                (float) Math.exp(random.nextGaussian() * 2) * (random.nextBoolean() ? 1 : -1);
          };
    }
    return values;
  }

  /** 0 normal, 1 uniform, 2 bimodal, 3 quantized (heavy duplicates), 4 log-normal tails. */
  static float[] mediumValues(Random random, int n, int shape) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] =
          switch (shape) {
            case 0 -> (float) random.nextGaussian();
            case 1 -> random.nextFloat() * 2 - 1;
            case 2 ->
                (float)
                    (random.nextBoolean()
                        ? -2 + 0.1 * random.nextGaussian()
                        : 1 + 0.5 * random.nextGaussian());
            case 3 -> Math.round(random.nextGaussian() * 40) / 64f;
            default ->
                (float) (Math.exp(random.nextGaussian() * 1.5) * (random.nextBoolean() ? 1 : -1));
          };
    }
    return values;
  }

  private static double recomputedSse(float[] values, Clustering c) {
    float[] reconstructed = c.reconstruct();
    double sse = 0;
    for (int i = 0; i < values.length; i++) {
      double e = values[i] - (double) reconstructed[i];
      sse += e * e;
    }
    return sse;
  }
}

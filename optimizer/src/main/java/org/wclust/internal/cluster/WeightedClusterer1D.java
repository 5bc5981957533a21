package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One-dimensional clustering of weighted points: minimises {@code Σ_i w_i (x_i − c(x_i))²}, the
 * squared error of each weight scaled by its importance (a BatchNorm factor's inverse square, a
 * calibration estimate of the loss' sensitivity). The counterpart of {@link Clusterer1D} for
 * importance-weighted values; with all weights equal it minimises the same objective.
 *
 * <ul>
 *   <li>{@link InitMethod#OPTIMAL}: the exact weighted optimum. Its clusters are intervals of the
 *       sorted values (as without weights: exchanging two points between clusters never helps), and
 *       the interval cost is a Monge array, so a dynamic program with divide-and-conquer row minima
 *       solves it in O(k·m·log m) for m distinct values. Beyond {@link #TABLE_LIMIT} entries of the
 *       back-pointer table, the values are grouped into equal-count atoms and the result polished by
 *       weighted Lloyd iterations.
 *   <li>{@link InitMethod#KNEE}: minimises {@code weighted SSE + λ·R}, R the indices' ideal code
 *       length {@code Σ n_c log2(N / n_c)} (counts, not weights: the bytes do not know about
 *       importance), λ = rate weight × the weighted optimum's error per value; exact over intervals
 *       of atoms (a work budget as {@link RateDistortion}); then, as the unweighted knee, the
 *       centroids are kept and every value goes to its nearest centroid.
 *   <li>the other methods: their initial centroids ({@code kmeans++} sampled by weight × squared
 *       distance), then weighted Lloyd iterations (centroid = weighted mean of its members), or, with
 *       {@code refine} false, nearest assignment to the initial centroids.
 * </ul>
 *
 * <p>Nearest-centroid assignment does not depend on the weights, so every result is a partition
 * that fine-tuning's re-assignment keeps. {@link Clustering#sse()} is the plain (unweighted) squared
 * error, as everywhere; {@link #weightedSse} gives the objective.
 */
public final class WeightedClusterer1D {
  /** Entries of the optimal DP's back-pointer table (k × values) before atoms are used. */
  static final long TABLE_LIMIT = 1L << 25;
  /** Work budget (k · atoms²) of the entropy-constrained DP, as {@link RateDistortion}'s. */
  private static final long WORK_LIMIT = 4_000_000L;

  private WeightedClusterer1D() {}

  /**
   * Clusters {@code values} with importance {@code weights} (same length, finite, ≥ 0; zeros are
   * raised to a tiny positive floor so every cluster has a defined mean).
   */
  public static Clustering cluster(float[] values, float[] weights, int k, InitMethod init, boolean refine,
      long seed, double rateWeight) {
    checkNotNull(init, "init");
    KMeans1D.checkArguments(values, k, KMeans1D.DEFAULT_MAX_ITERATIONS);
    checkArgument(weights.length == values.length, "%s weights for %s values", weights.length, values.length);
    KMeans1D.Distinct d = KMeans1D.Distinct.of(values);
    if (d.size() <= k) {
      return KMeans1D.keepOriginalValues(d);
    }
    double[] w = distinctWeights(d, weights);
    return switch (init) {
      case OPTIMAL -> optimal(d, w, k);
      case KNEE -> knee(d, w, k, rateWeight);
      default -> {
        float[] centroids = init == InitMethod.KMEANS_PP
            ? kMeansPlusPlus(d, w, k, new SplittableRandom(seed))
            : Clusterer1D.initialCentroids(d, k, init, seed);
        yield refine ? lloyd(d, w, centroids) : nearest(d, centroids, false);
      }
    };
  }

  /** {@code Σ_i w_i (x_i − reconstruct_i)²}. */
  public static double weightedSse(float[] values, float[] weights, Clustering c) {
    double sum = 0;
    for (int i = 0; i < values.length; i++) {
      double e = values[i] - (double) c.centroids()[c.indices()[i]];
      sum += weights[i] * e * e;
    }
    return sum;
  }

  /** Each distinct value's total weight, floored at 1e-12 of the mean weight (all zero: all 1). */
  static double[] distinctWeights(KMeans1D.Distinct d, float[] weights) {
    double[] w = new double[d.size()];
    double total = 0;
    for (int i = 0; i < weights.length; i++) {
      if (!(weights[i] >= 0 && Float.isFinite(weights[i]))) {
        throw new IllegalArgumentException("weight " + weights[i] + " of value " + i + " is not finite and >= 0");
      }
      w[d.valueIndex[i]] += weights[i];
      total += weights[i];
    }
    if (total == 0) {
      for (int j = 0; j < w.length; j++) {
        w[j] = d.counts[j];
      }
      return w;
    }
    double floor = 1e-12 * total / weights.length;
    for (int j = 0; j < w.length; j++) {
      w[j] = Math.max(w[j], floor * d.counts[j]);
    }
    return w;
  }

  // ---------------------------------------------------------------- optimal

  static Clustering optimal(KMeans1D.Distinct d, double[] w, int k) {
    int m = d.size();
    int[] start = RateDistortion.atomStarts(d, (int) Math.min(m, Math.max(k + 1, TABLE_LIMIT / k)));
    Sums s = new Sums(d, w, start);
    int a = start.length - 1;
    int kk = Math.min(k, a);
    double[] prev = new double[a + 1];
    double[] cur = new double[a + 1];
    int[][] from = new int[kk + 1][];
    for (int j = 1; j <= a; j++) {
      prev[j] = s.sse(0, j);
    }
    for (int c = 2; c <= kk; c++) {
      Arrays.fill(cur, Double.POSITIVE_INFINITY);
      from[c] = new int[a + 1];
      rowMinima(s, prev, cur, from[c], c, a, c - 1, a - 1);
      double[] swap = prev;
      prev = cur;
      cur = swap;
    }
    int[] clusterOf = fromCuts(cuts(from, kk, a), start, m);
    Clustering exact = withMeans(d, w, clusterOf, kk);
    return start.length - 1 == m ? exact : lloyd(d, w, exact.centroids());
  }

  /**
   * cur[j] = min over i in [lo, hi] (and i < j) of prev[i] + cost(i, j), for j in [jFrom, jTo]: the
   * optimal i is non-decreasing in j (Monge), so the middle row's argmin splits the rest.
   */
  private static void rowMinima(Sums s, double[] prev, double[] cur, int[] arg, int jFrom, int jTo, int lo, int hi) {
    if (jFrom > jTo) {
      return;
    }
    int j = (jFrom + jTo) >>> 1;
    double best = Double.POSITIVE_INFINITY;
    int at = lo;
    for (int i = lo; i <= Math.min(hi, j - 1); i++) {
      double v = prev[i] + s.sse(i, j);
      if (v < best) {
        best = v;
        at = i;
      }
    }
    cur[j] = best;
    arg[j] = at;
    rowMinima(s, prev, cur, arg, jFrom, j - 1, lo, at);
    rowMinima(s, prev, cur, arg, j + 1, jTo, at, hi);
  }

  // ---------------------------------------------------------------- knee

  static Clustering knee(KMeans1D.Distinct d, double[] w, int k, double rateWeight) {
    checkArgument(rateWeight >= 0 && Double.isFinite(rateWeight), "rate weight must be finite and >= 0, got %s",
        rateWeight);
    Clustering optimal = optimal(d, w, k);
    if (rateWeight == 0) {
      return optimal;
    }
    long n = d.valueIndex.length;
    double lambda = rateWeight * weightedSse(d, w, optimal) / n;
    if (!(lambda > 0)) {
      return optimal;
    }
    int m = d.size();
    int[] start = RateDistortion.atomStarts(d, Math.max(k + 1, Math.min(m, (int) Math.sqrt(WORK_LIMIT / (double) k))));
    Sums s = new Sums(d, w, start);
    int a = start.length - 1;
    int kk = Math.min(k, a);
    double log2n = log2(n);
    double[] prev = new double[a + 1];
    double[] cur = new double[a + 1];
    int[][] from = new int[kk + 1][];
    for (int j = 1; j <= a; j++) {
      prev[j] = s.sse(0, j) + lambda * s.rate(0, j, log2n);
    }
    for (int c = 2; c <= kk; c++) {
      Arrays.fill(cur, Double.POSITIVE_INFINITY);
      from[c] = new int[a + 1];
      for (int j = c; j <= a; j++) {
        for (int i = c - 1; i < j; i++) {
          double v = prev[i] + s.sse(i, j) + lambda * s.rate(i, j, log2n);
          if (v < cur[j]) {
            cur[j] = v;
            from[c][j] = i;
          }
        }
      }
      double[] swap = prev;
      prev = cur;
      cur = swap;
    }
    Clustering exact = withMeans(d, w, fromCuts(cuts(from, kk, a), start, m), kk);
    return nearest(d, exact.centroids(), true);
  }

  // ---------------------------------------------------------------- Lloyd and k-means++

  /** Weighted Lloyd iterations from {@code centroids}; empty clusters re-seeded on the worst w·e² values. */
  static Clustering lloyd(KMeans1D.Distinct d, double[] w, float[] centroids) {
    int m = d.size();
    int k = centroids.length;
    centroids = centroids.clone();
    Arrays.sort(centroids);
    int[] assignment = new int[m];
    Arrays.fill(assignment, -1);
    KMeans1D.assign(d.values, centroids, assignment);
    double[] sum = new double[k];
    double[] weight = new double[k];
    int iterations = 0;
    while (iterations < KMeans1D.DEFAULT_MAX_ITERATIONS) {
      iterations++;
      Arrays.fill(sum, 0);
      Arrays.fill(weight, 0);
      float[] lo = new float[k];
      float[] hi = new float[k];
      for (int j = m - 1; j >= 0; j--) {
        int c = assignment[j];
        if (weight[c] == 0) {
          hi[c] = d.values[j];
        }
        lo[c] = d.values[j];
        sum[c] += w[j] * d.values[j];
        weight[c] += w[j];
      }
      int empty = 0;
      for (int c = 0; c < k; c++) {
        if (weight[c] == 0) {
          empty++;
        } else {
          centroids[c] = (float) Math.min(hi[c], Math.max(lo[c], sum[c] / weight[c]));
        }
      }
      if (empty > 0) {
        double[] error = new double[m];
        for (int j = 0; j < m; j++) {
          double e = d.values[j] - (double) centroids[assignment[j]];
          error[j] = w[j] * e * e;
        }
        for (int c = 0; c < k; c++) {
          if (weight[c] == 0) {
            int worst = 0;
            for (int j = 1; j < m; j++) {
              if (error[j] > error[worst]) {
                worst = j;
              }
            }
            centroids[c] = d.values[worst];
            error[worst] = -1;
          }
        }
        Arrays.sort(centroids);
      }
      boolean changed = KMeans1D.assign(d.values, centroids, assignment);
      if (!changed && empty == 0) {
        break;
      }
    }
    return of(d, centroids, assignment, iterations);
  }

  /** k-means++ seeding: the first centroid drawn by weight, each next by weight × squared distance. */
  static float[] kMeansPlusPlus(KMeans1D.Distinct d, double[] w, int k, SplittableRandom random) {
    int m = d.size();
    float[] seeds = new float[k];
    double[] nearest = new double[m];
    Arrays.fill(nearest, 1);
    double[] p = new double[m];
    for (int s = 0; s < k; s++) {
      for (int j = 0; j < m; j++) {
        p[j] = w[j] * nearest[j];
      }
      int next = KMeans1D.sample(p, random);
      seeds[s] = d.values[next];
      for (int j = 0; j < m; j++) {
        double e = d.values[j] - (double) seeds[s];
        double dist = s == 0 ? e * e : Math.min(nearest[j], e * e);
        nearest[j] = dist;
      }
    }
    Arrays.sort(seeds);
    return seeds;
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Atom boundaries over the distinct values: every value its own atom when {@code atoms >= m}, else
   * about {@code atoms} runs of equal count.
   */
  /** Prefix sums over atoms of count, weight, weighted first and second moments (values centred). */
  private static final class Sums {
    final long[] count;
    final double[] weight;
    final double[] s1;
    final double[] s2;

    Sums(KMeans1D.Distinct d, double[] w, int[] start) {
      int a = start.length - 1;
      double total = 0;
      double mean = 0;
      for (int j = 0; j < d.size(); j++) {
        total += w[j];
        mean += w[j] * d.values[j];
      }
      mean /= total;
      count = new long[a + 1];
      weight = new double[a + 1];
      s1 = new double[a + 1];
      s2 = new double[a + 1];
      for (int t = 0; t < a; t++) {
        long c = 0;
        double x0 = 0;
        double x1 = 0;
        double x2 = 0;
        for (int j = start[t]; j < start[t + 1]; j++) {
          double v = d.values[j] - mean;
          c += d.counts[j];
          x0 += w[j];
          x1 += w[j] * v;
          x2 += w[j] * v * v;
        }
        count[t + 1] = count[t] + c;
        weight[t + 1] = weight[t] + x0;
        s1[t + 1] = s1[t] + x1;
        s2[t + 1] = s2[t] + x2;
      }
    }

    /** Weighted squared error of atoms [i, j) about their weighted mean. */
    double sse(int i, int j) {
      double s = s1[j] - s1[i];
      return Math.max(0, (s2[j] - s2[i]) - s * s / (weight[j] - weight[i]));
    }

    /** Index bits of atoms [i, j) as one cluster: n · log2(N / n). */
    double rate(int i, int j, double log2n) {
      long c = count[j] - count[i];
      return c * (log2n - log2(c));
    }
  }

  private static int[] cuts(int[][] from, int clusters, int a) {
    int[] cuts = new int[clusters + 1];
    cuts[clusters] = a;
    for (int c = clusters; c >= 2; c--) {
      cuts[c - 1] = from[c][cuts[c]];
    }
    return cuts;
  }

  private static int[] fromCuts(int[] cuts, int[] start, int m) {
    int[] clusterOf = new int[m];
    for (int c = 0; c + 1 < cuts.length; c++) {
      for (int j = start[cuts[c]]; j < start[cuts[c + 1]]; j++) {
        clusterOf[j] = c;
      }
    }
    return clusterOf;
  }

  /** The clustering with each cluster at its members' weighted mean (clamped to their range). */
  private static Clustering withMeans(KMeans1D.Distinct d, double[] w, int[] clusterOf, int k) {
    double[] sum = new double[k];
    double[] weight = new double[k];
    float[] lo = new float[k];
    float[] hi = new float[k];
    for (int j = d.size() - 1; j >= 0; j--) {
      int c = clusterOf[j];
      if (weight[c] == 0) {
        hi[c] = d.values[j];
      }
      lo[c] = d.values[j];
      sum[c] += w[j] * d.values[j];
      weight[c] += w[j];
    }
    float[] centroids = new float[k];
    for (int c = 0; c < k; c++) {
      centroids[c] = (float) Math.min(hi[c], Math.max(lo[c], sum[c] / weight[c]));
    }
    return of(d, centroids, clusterOf, 0);
  }

  /** Every value at its nearest centroid (ties to the lower); with {@code dropEmpty}, unused centroids go. */
  private static Clustering nearest(KMeans1D.Distinct d, float[] centroids, boolean dropEmpty) {
    int[] assignment = new int[d.size()];
    KMeans1D.assign(d.values, centroids, assignment);
    if (!dropEmpty) {
      return of(d, centroids, assignment, 0);
    }
    return RateDistortion.nearest(d, centroids.clone());
  }

  private static Clustering of(KMeans1D.Distinct d, float[] centroids, int[] clusterOfDistinct, int iterations) {
    Clustering c = RateDistortion.of(d, centroids, clusterOfDistinct);
    return new Clustering(c.centroids(), c.indices(), c.sse(), iterations, false);
  }

  private static double weightedSse(KMeans1D.Distinct d, double[] w, Clustering c) {
    int[] clusterOfDistinct = new int[d.size()];
    for (int i = 0; i < d.valueIndex.length; i++) {
      clusterOfDistinct[d.valueIndex[i]] = c.indices()[i];
    }
    double sum = 0;
    for (int j = 0; j < d.size(); j++) {
      double e = d.values[j] - (double) c.centroids()[clusterOfDistinct[j]];
      sum += w[j] * e * e;
    }
    return sum;
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}

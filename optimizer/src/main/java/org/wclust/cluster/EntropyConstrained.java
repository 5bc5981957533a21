package org.wclust.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;

/**
 * Entropy-constrained refinement of a 1-D clustering ("size-aware" clustering): minimises
 * {@code SSE + λ · Σ_i -log2 p(cluster of i)}, i.e. squared error plus λ times the bits an entropy
 * coder needs for the indices. Uneven cluster populations code (and deflate) smaller, so this trades
 * a little error for size at the same k. λ is given relative to the values' variance
 * ({@code sizeWeight · variance}), so one setting means the same across tensors of any scale.
 *
 * <p>Each iteration assigns every value to the centroid minimising {@code (x - c)² + λ·bits(c)}: in
 * x these are lines {@code -2c·x + c² + λ·bits(c)} (after dropping x²), so the best centroid over
 * the sorted values is read off their lower envelope in one sweep. Centroids then move to their
 * members' means and probabilities to their populations; clusters that empty are dropped, which is
 * how the entropy term lowers k when that pays.
 */
public final class EntropyConstrained {
  private static final int MAX_ITERATIONS = 100;

  private EntropyConstrained() {}

  public static Clustering refine(float[] values, Clustering start, double sizeWeight) {
    checkArgument(sizeWeight >= 0, "size weight must be >= 0, got %s", sizeWeight);
    if (sizeWeight == 0 || start.keptOriginalValues()) {
      return start;
    }
    int n = values.length;
    double mean = 0;
    for (float v : values) {
      mean += v;
    }
    mean /= n;
    double variance = 0;
    for (float v : values) {
      variance += (v - mean) * (v - mean);
    }
    variance /= n;
    double lambda = sizeWeight * variance;
    return refineWithLambda(KMeans1D.Distinct.of(values), start, lambda);
  }

  /**
   * Entropy-constrained Lloyd iterations from {@code start} (a clustering of the values {@code d}
   * was made from) for an absolute λ, in squared error per bit.
   */
  static Clustering refineWithLambda(KMeans1D.Distinct d, Clustering start, double lambda) {
    int n = d.valueIndex.length;
    int m = d.values.length;
    double[] centroids = new double[start.centroids().length];
    for (int j = 0; j < centroids.length; j++) {
      centroids[j] = start.centroids()[j];
    }
    int[] counts = new int[centroids.length];
    for (int idx : start.indices()) {
      counts[idx]++;
    }
    int[] assign = new int[m];
    for (int it = 0; it < MAX_ITERATIONS; it++) {
      double[] penalty = new double[centroids.length];
      for (int j = 0; j < centroids.length; j++) {
        penalty[j] = counts[j] == 0 ? Double.POSITIVE_INFINITY : -lambda * log2(counts[j] / (double) n);
      }
      boolean changed = assignByEnvelope(d.values, centroids, penalty, assign);
      double[] sums = new double[centroids.length];
      int[] newCounts = new int[centroids.length];
      for (int i = 0; i < m; i++) {
        sums[assign[i]] += d.values[i] * (double) d.counts[i];
        newCounts[assign[i]] += d.counts[i];
      }
      // Drop clusters that emptied; keep the order (centroids stay ascending).
      int kept = 0;
      int[] remap = new int[centroids.length];
      for (int j = 0; j < centroids.length; j++) {
        if (newCounts[j] > 0) {
          remap[j] = kept;
          centroids[kept] = sums[j] / newCounts[j];
          newCounts[kept] = newCounts[j];
          kept++;
        }
      }
      if (kept < centroids.length) {
        for (int i = 0; i < m; i++) {
          assign[i] = remap[assign[i]];
        }
        centroids = Arrays.copyOf(centroids, kept);
        newCounts = Arrays.copyOf(newCounts, kept);
        changed = true;
      }
      counts = newCounts;
      if (!changed && it > 0) {
        break;
      }
    }
    float[] c = new float[centroids.length];
    for (int j = 0; j < c.length; j++) {
      c[j] = (float) centroids[j];
    }
    int[] indices = new int[n];
    double sse = 0;
    for (int i = 0; i < n; i++) {
      indices[i] = assign[d.valueIndex[i]];
    }
    for (int j = 0; j < m; j++) {
      // Float difference, as the reconstruction's error is taken value by value.
      double e = d.values[j] - c[assign[j]];
      sse += d.counts[j] * e * e;
    }
    return new Clustering(c, indices, sse, 0, false);
  }

  /**
   * Assigns each sorted value to the centroid with the least {@code (x - c)² + penalty}: the lower
   * envelope of the lines {@code -2c·x + c² + penalty} (slopes decreasing as c ascends), swept once.
   * Returns whether any assignment changed.
   */
  static boolean assignByEnvelope(float[] sorted, double[] centroids, double[] penalty, int[] assign) {
    int k = centroids.length;
    int[] hull = new int[k];
    int size = 0;
    for (int j = 0; j < k; j++) {
      if (Double.isInfinite(penalty[j])) {
        continue;
      }
      while (size >= 2 && !needed(hull[size - 2], hull[size - 1], j, centroids, penalty)) {
        size--;
      }
      if (size == 1 && centroids[hull[0]] == centroids[j]) {
        if (intercept(j, centroids, penalty) < intercept(hull[0], centroids, penalty)) {
          hull[0] = j;
        }
        continue;
      }
      hull[size++] = j;
    }
    boolean changed = false;
    int h = 0;
    for (int i = 0; i < sorted.length; i++) {
      double x = sorted[i];
      while (h + 1 < size && value(hull[h + 1], x, centroids, penalty) <= value(hull[h], x, centroids, penalty)) {
        h++;
      }
      if (assign[i] != hull[h]) {
        assign[i] = hull[h];
        changed = true;
      }
    }
    return changed;
  }

  private static double intercept(int j, double[] c, double[] p) {
    return c[j] * c[j] + p[j];
  }

  private static double value(int j, double x, double[] c, double[] p) {
    return -2 * c[j] * x + intercept(j, c, p);
  }

  /** Whether line b is on the lower envelope of a, b, c (slopes -2c strictly decreasing). */
  private static boolean needed(int a, int b, int c, double[] cs, double[] p) {
    double sa = -2 * cs[a];
    double sb = -2 * cs[b];
    double sc = -2 * cs[c];
    double ia = intercept(a, cs, p);
    double ib = intercept(b, cs, p);
    double ic = intercept(c, cs, p);
    // x where a meets b must be left of x where b meets c.
    return (ib - ia) * (sb - sc) < (ic - ib) * (sa - sb);
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}

package org.wclust.internal.cluster;

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
   *
   * <p>The envelope assigns the sorted values in runs, so each cluster is an interval of them
   * ({@code from[j]} to {@code from[j + 1]}): an iteration finds the k − 1 cuts by binary search
   * ({@link #cutsByEnvelope}) and sums each interval in order, reusing the last iteration's sum
   * while the interval's start stays put. The sums are taken in the same order as one pass over the
   * values would, so the result is bit for bit that of assigning every value with
   * {@link #assignByEnvelope} and summing in one pass (KneeOutputRecordTest).
   */
  static Clustering refineWithLambda(KMeans1D.Distinct d, Clustering start, double lambda) {
    int[] counts = new int[start.centroids().length];
    for (int idx : start.indices()) {
      counts[idx]++;
    }
    return refineWithLambda(d, start.centroids(), counts, lambda, false);
  }

  /**
   * As {@link #refineWithLambda(KMeans1D.Distinct, Clustering, double)} from the start's centroids
   * and cluster populations alone (all the iterations read of it), so a caller need not build the
   * start's indices. With {@code keepK}, returns null as soon as a cluster empties (clusters never
   * come back, so a caller that needs them all can stop the iterations there).
   */
  static Clustering refineWithLambda(KMeans1D.Distinct d, float[] startCentroids, int[] startCounts,
      double lambda, boolean keepK) {
    Refined r = iterate(d, startCentroids, startCounts, lambda, keepK);
    return r == null ? null : r.clustering(d);
  }

  /**
   * The centroids {@link #refineWithLambda(KMeans1D.Distinct, float[], int[], double, boolean)} would return,
   * without building the clustering's indices (for a caller that only keeps the centroids).
   */
  static float[] refinedCentroids(KMeans1D.Distinct d, float[] startCentroids, int[] startCounts,
      double lambda, boolean keepK) {
    Refined r = iterate(d, startCentroids, startCounts, lambda, keepK);
    return r == null ? null : r.centroids();
  }

  /** The iterations' result: cluster j holds the sorted distinct values [from[j], from[j + 1]). */
  private record Refined(float[] centroids, int[] from) {
    Clustering clustering(KMeans1D.Distinct d) {
      int m = d.values.length;
      int[] assign = new int[m];
      for (int j = 0; j < centroids.length; j++) {
        Arrays.fill(assign, from[j], from[j + 1], j);
      }
      int[] indices = new int[d.valueIndex.length];
      double sse = 0;
      for (int i = 0; i < indices.length; i++) {
        indices[i] = assign[d.valueIndex[i]];
      }
      for (int j = 0; j < m; j++) {
        // Float difference, as the reconstruction's error is taken value by value.
        double e = d.values[j] - centroids[assign[j]];
        sse += d.counts[j] * e * e;
      }
      return new Clustering(centroids, indices, sse, 0, false);
    }
  }

  private static Refined iterate(KMeans1D.Distinct d, float[] startCentroids, int[] startCounts,
      double lambda, boolean keepK) {
    int n = d.valueIndex.length;
    int m = d.values.length;
    double[] centroids = new double[startCentroids.length];
    for (int j = 0; j < centroids.length; j++) {
      centroids[j] = startCentroids[j];
    }
    int[] counts = startCounts.clone();
    int[] countsBefore = new int[m + 1];
    for (int i = 0; i < m; i++) {
      countsBefore[i + 1] = countsBefore[i] + d.counts[i];
    }
    // Before the first iteration every value is in cluster 0 (as an all-zero assignment).
    int[] from = new int[centroids.length + 1];
    Arrays.fill(from, 1, from.length, m);
    // The sum of cluster j's values over [from[j], summedTo[j]), carried between iterations.
    double[] sums = new double[centroids.length];
    int[] summedTo = Arrays.copyOf(from, centroids.length);
    for (int it = 0; it < MAX_ITERATIONS; it++) {
      double[] penalty = new double[centroids.length];
      for (int j = 0; j < centroids.length; j++) {
        penalty[j] = counts[j] == 0 ? Double.POSITIVE_INFINITY : -lambda * log2(counts[j] / (double) n);
      }
      int[] cuts = cutsByEnvelope(d.values, centroids, penalty);
      boolean changed = !Arrays.equals(cuts, from);
      int[] newCounts = new int[centroids.length];
      for (int j = 0; j < centroids.length; j++) {
        int lo = cuts[j];
        int hi = cuts[j + 1];
        if (lo != from[j] || summedTo[j] > hi) {
          sums[j] = 0;
          summedTo[j] = lo;
        }
        double sum = sums[j];
        for (int i = summedTo[j]; i < hi; i++) {
          sum += d.values[i] * (double) d.counts[i];
        }
        sums[j] = sum;
        summedTo[j] = hi;
        newCounts[j] = countsBefore[hi] - countsBefore[lo];
      }
      from = cuts;
      // Drop clusters that emptied; keep the order (centroids stay ascending).
      int kept = 0;
      for (int j = 0; j < centroids.length; j++) {
        if (newCounts[j] > 0) {
          centroids[kept] = sums[j] / newCounts[j];
          newCounts[kept] = newCounts[j];
          sums[kept] = sums[j];
          summedTo[kept] = summedTo[j];
          from[kept] = from[j];
          kept++;
        }
      }
      if (kept < centroids.length) {
        if (keepK) {
          return null;
        }
        centroids = Arrays.copyOf(centroids, kept);
        newCounts = Arrays.copyOf(newCounts, kept);
        sums = Arrays.copyOf(sums, kept);
        summedTo = Arrays.copyOf(summedTo, kept);
        from = Arrays.copyOf(from, kept + 1);
        from[kept] = m;
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
    return new Refined(c, from);
  }

  /**
   * What {@link #assignByEnvelope} assigns, as intervals: cluster j gets the sorted values
   * {@code [cuts[j], cuts[j + 1])} (empty for a centroid off the envelope). Each cut is where the
   * sweep would move on, found without visiting every value: values far enough left of the two
   * lines' crossing that rounding cannot make the sweep move are skipped by binary search, and the
   * sweep's own comparison is run from there on, so the cuts are exactly the sweep's.
   */
  static int[] cutsByEnvelope(float[] sorted, double[] centroids, double[] penalty) {
    int k = centroids.length;
    int[] hull = new int[k];
    int size = envelope(centroids, penalty, hull);
    int m = sorted.length;
    int[] cuts = new int[k + 1];
    int next = 0; // the next centroid whose interval starts
    int pos = 0;
    for (int h = 0; h < size; h++) {
      int end = h + 1 < size ? firstPast(sorted, pos, hull[h], hull[h + 1], centroids, penalty) : m;
      for (; next <= hull[h]; next++) {
        cuts[next] = pos;
      }
      pos = end;
    }
    for (; next <= k; next++) {
      cuts[next] = pos;
    }
    cuts[k] = m;
    return cuts;
  }

  /**
   * The first i >= from where the sweep moves from line a to line b: {@code value(b, x) <=
   * value(a, x)} as computed in {@link #assignByEnvelope}, or the length when there is none.
   */
  private static int firstPast(float[] sorted, int from, int a, int b, double[] c, double[] p) {
    int m = sorted.length;
    int i = from;
    double slopeGap = -2 * c[a] - (-2 * c[b]);
    if (from < m && slopeGap > 0) {
      // value(b) − value(a) = slopeGap · (cross − x) exactly; each side is computed with an error of
      // a few ulps of |slope · x| + |intercept|, so left of cross − margin the computed comparison
      // is still false. The margin is 10^-12 relative, far above those ulps (about 10^-16).
      double cross = (intercept(b, c, p) - intercept(a, c, p)) / slopeGap;
      double scale = Math.max(magnitude(sorted[from], a, b, c, p), magnitude(sorted[m - 1], a, b, c, p));
      double margin = 1e-12 * (Math.abs(cross) + scale / slopeGap);
      double safeBelow = cross - margin;
      if (Double.isFinite(safeBelow) && Double.isFinite(margin)) {
        int lo = from;
        int hi = m;
        while (lo < hi) { // first i with sorted[i] >= safeBelow
          int mid = (lo + hi) >>> 1;
          if (sorted[mid] < safeBelow) {
            lo = mid + 1;
          } else {
            hi = mid;
          }
        }
        i = lo;
      }
    }
    for (; i < m; i++) {
      double x = sorted[i];
      if (value(b, x, c, p) <= value(a, x, c, p)) {
        return i;
      }
    }
    return m;
  }

  /** {@code |slope · x| + |intercept|} of lines a and b together: the scale of their rounding. */
  private static double magnitude(double x, int a, int b, double[] c, double[] p) {
    return Math.abs(2 * c[a] * x) + Math.abs(intercept(a, c, p)) + Math.abs(2 * c[b] * x)
        + Math.abs(intercept(b, c, p));
  }

  /**
   * Assigns each sorted value to the centroid with the least {@code (x - c)² + penalty}: the lower
   * envelope of the lines {@code -2c·x + c² + penalty} (slopes decreasing as c ascends), swept once.
   * Returns whether any assignment changed.
   */
  static boolean assignByEnvelope(float[] sorted, double[] centroids, double[] penalty, int[] assign) {
    int[] hull = new int[centroids.length];
    int size = envelope(centroids, penalty, hull);
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

  /**
   * The lines on the lower envelope, ascending (penalty-infinite centroids left out), into
   * {@code hull}; returns how many.
   */
  private static int envelope(double[] centroids, double[] penalty, int[] hull) {
    int size = 0;
    for (int j = 0; j < centroids.length; j++) {
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
    return size;
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

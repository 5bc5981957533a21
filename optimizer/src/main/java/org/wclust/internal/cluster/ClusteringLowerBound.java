package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.function.IntUnaryOperator;

/**
 * A lower bound of the optimal (weighted) 1-D k-means error of groups of values, without sorting them:
 * O(values) for a histogram plus a small dynamic program per group. It lets a caller that only needs to
 * know whether the optimum exceeds a threshold skip solving it ({@code FoldedCodebooks} rules out the
 * factor groupings that cannot pass this way).
 *
 * <p>Each group's values go into equal-width bins over their range (count, and sums of w·x and w·x²
 * about the group's centre). Any clustering into k intervals of the sorted values leaves every bin
 * either wholly inside one cluster or holding one of the k − 1 boundaries. A cluster costs at least the
 * squared error of the bins wholly inside it (the error of a subset about its own mean is no larger),
 * so dropping the bins that hold boundaries gives a relaxed problem over bins whose optimum bounds the
 * real one from below: with {@code cost(i..r)} the error of bins i..r (0 when empty),
 *
 * <pre>
 *   R[1][r] = cost(0..r)
 *   R[t][r] = min over 0 <= i <= r + 2 of R[t-1][i-2] + cost(i..r)      (R[t][-1] = R[t][-2] = 0)
 * </pre>
 *
 * and the bound is {@code R[k][bins-1]}: cluster t covers the bins strictly between the bins of
 * boundaries t-1 and t, and bin i-1 is dropped. The cost satisfies the quadrangle inequality (also with
 * the empty ranges: an error is superadditive over disjoint sub-ranges and grows with the range), so
 * each layer's argmins are monotone and divide and conquer finds its minima in O(bins log bins).
 * More bins make the bound tighter (fewer values dropped per boundary) and the program dearer.
 */
public final class ClusteringLowerBound {
  private ClusteringLowerBound() {}

  /**
   * The sum over groups of a lower bound of each group's optimal k-clustering error.
   *
   * @param values the values (finite; a group with a non-finite value bounds at 0)
   * @param weights each value's weight (same length; null: all 1)
   * @param groupOf the group of the value at each index, in [0, groups)
   * @param bins bins per group (at least 1)
   */
  public static double sum(float[] values, float[] weights, IntUnaryOperator groupOf, int groups, int k,
      int bins) {
    checkArgument(groups >= 1, "groups %s", groups);
    double[] min = new double[groups];
    double[] max = new double[groups];
    java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
    java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
    boolean[] unusable = new boolean[groups];
    for (int i = 0; i < values.length; i++) {
      int g = groupOf.applyAsInt(i);
      float v = values[i];
      if (!Float.isFinite(v)) {
        unusable[g] = true;
      }
      min[g] = Math.min(min[g], v);
      max[g] = Math.max(max[g], v);
    }
    for (int g = 0; g < groups; g++) {
      if (unusable[g]) {
        max[g] = min[g] = 0; // bounds at 0
      }
    }
    return sum(values, weights, groupOf, min, max, k, bins);
  }

  /**
   * As {@link #sum(float[], float[], IntUnaryOperator, int, int, int)}, given each group's smallest and
   * largest value (finite; a group whose two are equal bounds at 0), so the values are read once.
   */
  public static double sum(float[] values, float[] weights, IntUnaryOperator groupOf, double[] min, double[] max,
      int k, int bins) {
    int groups = min.length;
    checkArgument(k >= 1 && bins >= 1 && groups >= 1 && max.length == groups, "k %s, bins %s, groups %s", k,
        bins, groups);
    checkArgument(weights == null || weights.length == values.length, "%s weights for %s values",
        weights == null ? 0 : weights.length, values.length);
    int n = values.length;
    // Bin sums about each group's midpoint, which keeps the cancellation in x² - (x)²/w small.
    double[] w = new double[groups * bins];
    double[] s1 = new double[groups * bins];
    double[] s2 = new double[groups * bins];
    double[] scale = new double[groups];
    double[] centre = new double[groups];
    for (int g = 0; g < groups; g++) {
      double width = max[g] - min[g];
      scale[g] = width > 0 ? bins / width : 0;
      centre[g] = (min[g] + max[g]) / 2;
    }
    for (int i = 0; i < n; i++) {
      int g = groupOf.applyAsInt(i);
      if (!(scale[g] > 0)) {
        continue;
      }
      double x = values[i];
      int b = (int) ((x - min[g]) * scale[g]);
      b = Math.min(Math.max(b, 0), bins - 1);
      double weight = weights == null ? 1 : weights[i];
      double c = x - centre[g];
      int at = g * bins + b;
      w[at] += weight;
      s1[at] += weight * c;
      s2[at] += weight * c * c;
    }
    double total = 0;
    for (int g = 0; g < groups; g++) {
      if (scale[g] > 0) {
        total += relaxedOptimum(w, s1, s2, g * bins, bins, k);
      }
    }
    return total;
  }

  /**
   * {@code R[k][bins-1]} of the class comment over the bins at [from, from + bins) of the arrays: the
   * minimum error of k clusters of whole bins with one bin dropped before each cluster after the first.
   */
  static double relaxedOptimum(double[] w, double[] s1, double[] s2, int from, int bins, int k) {
    Layers layers = new Layers(w, s1, s2, from, bins);
    double[] prev = layers.first();
    for (int t = 2; t <= k; t++) {
      double[] cur = new double[bins + 2];
      layers.solve(prev, cur, 0, bins - 1, 0, bins + 1);
      prev = cur;
    }
    return prev[bins + 1];
  }

  /** The same by the definition, O(k · bins²): for tests. */
  static double relaxedOptimumByDefinition(double[] w, double[] s1, double[] s2, int from, int bins, int k) {
    Layers layers = new Layers(w, s1, s2, from, bins);
    double[] prev = layers.first();
    for (int t = 2; t <= k; t++) {
      double[] cur = new double[bins + 2];
      for (int r = -1; r < bins; r++) {
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i <= r + 2; i++) {
          best = Math.min(best, layers.value(prev, r, i));
        }
        cur[r + 2] = r < 0 ? 0 : best;
      }
      prev = cur;
    }
    return prev[bins + 1];
  }

  /** Prefix sums over bins and the row minima of one layer. Row r lives at index r + 2 (rows -2, -1 are 0). */
  private static final class Layers {
    private final double[] pw;
    private final double[] p1;
    private final double[] p2;
    private final int bins;

    Layers(double[] w, double[] s1, double[] s2, int from, int bins) {
      this.bins = bins;
      pw = new double[bins + 1];
      p1 = new double[bins + 1];
      p2 = new double[bins + 1];
      for (int b = 0; b < bins; b++) {
        pw[b + 1] = pw[b] + w[from + b];
        p1[b + 1] = p1[b] + s1[from + b];
        p2[b + 1] = p2[b] + s2[from + b];
      }
    }

    /** Error of bins [i, r]; 0 when empty. */
    double cost(int i, int r) {
      if (i > r) {
        return 0;
      }
      double sw = pw[r + 1] - pw[i];
      if (sw <= 0) {
        return 0;
      }
      double sx = p1[r + 1] - p1[i];
      return Math.max(0, p2[r + 1] - p2[i] - sx * sx / sw);
    }

    /** Layer 1: R[1][r] = cost(0..r). */
    double[] first() {
      double[] row = new double[bins + 2];
      for (int r = 0; r < bins; r++) {
        row[r + 2] = cost(0, r);
      }
      return row;
    }

    /** Candidate i of row r: R[t-1][i-2] + cost(i..r). */
    double value(double[] prev, int r, int i) {
      return prev[i] + cost(i, r);
    }

    /** Row minima of rows [rLo, rHi], whose argmins lie in [cLo, cHi] (columns up to r + 2 exist). */
    void solve(double[] prev, double[] cur, int rLo, int rHi, int cLo, int cHi) {
      if (rLo > rHi) {
        return;
      }
      int r = (rLo + rHi) >>> 1;
      int last = Math.min(cHi, r + 2);
      int best = cLo;
      double bestValue = value(prev, r, cLo);
      for (int i = cLo + 1; i <= last; i++) {
        double v = value(prev, r, i);
        if (v < bestValue) {
          bestValue = v;
          best = i;
        }
      }
      cur[r + 2] = bestValue;
      solve(prev, cur, rLo, r - 1, cLo, best);
      solve(prev, cur, r + 1, rHi, best, cHi);
    }
  }
}

package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * One-dimensional k-means over the values of one tensor.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>If the values have at most {@code k} distinct values (compared with {@code ==}, so -0.0 and
 *       +0.0 are one value), the centroids are exactly those values, ascending, every value maps to
 *       itself, the SSE is 0 and {@link Clustering#keptOriginalValues()} is true.
 *   <li>Otherwise the result has exactly {@code k} distinct centroids, ascending: k-means++ seeding
 *       followed by Lloyd iterations until no assignment changes or the iteration limit is hit.
 *       At convergence every centroid is the mean of its members (rounded to float) and every value
 *       is assigned to its nearest centroid (ties to the lower one); no cluster is empty.
 *   <li>Deterministic: the same values, {@code k}, seed and limit give an identical result.
 * </ul>
 *
 * <p>Cost: radix sort O(n), seeding O(m·k) and O(m log k) per iteration, where m is the number of
 * distinct values; values are not compared against every centroid.
 */
public final class KMeans1D {

  /** Lloyd iteration limit used by {@link #cluster(float[], int, long)}. */
  public static final int DEFAULT_MAX_ITERATIONS = 300;

  private KMeans1D() {}

  /** Clusters {@code values} into at most {@code k} centroids, with at most 300 Lloyd iterations. */
  public static Clustering cluster(float[] values, int k, long seed) {
    return cluster(values, k, seed, DEFAULT_MAX_ITERATIONS);
  }

  /**
   * Clusters {@code values} into at most {@code k} centroids.
   *
   * @param values the tensor's values; all finite, at least one
   * @param k the number of clusters, at least 2
   * @param seed seed of the k-means++ sampling
   * @param maxIterations Lloyd iteration limit, at least 1
   * @throws IllegalArgumentException if an argument is out of range or a value is NaN or infinite
   */
  public static Clustering cluster(float[] values, int k, long seed, int maxIterations) {
    checkArguments(values, k, maxIterations);
    Distinct distinct = Distinct.of(values);
    if (distinct.size() <= k) {
      return keepOriginalValues(distinct);
    }
    float[] seeds = kMeansPlusPlus(distinct, k, new SplittableRandom(seed));
    return lloyd(distinct, seeds, maxIterations);
  }

  /**
   * Lloyd iterations from given initial centroids (sorted here; duplicates allowed). Package-private
   * so tests can start from centroids that produce empty clusters.
   */
  static Clustering refine(float[] values, float[] initialCentroids, int maxIterations) {
    checkNotNull(initialCentroids, "initialCentroids");
    checkArguments(values, initialCentroids.length, maxIterations);
    for (float c : initialCentroids) {
      checkArgument(Float.isFinite(c), "initial centroid %s is not finite", c);
    }
    Distinct distinct = Distinct.of(values);
    if (distinct.size() <= initialCentroids.length) {
      return keepOriginalValues(distinct);
    }
    return lloyd(distinct, initialCentroids.clone(), maxIterations);
  }

  static void checkArguments(float[] values, int k, int maxIterations) {
    checkArgument(k >= 2, "k must be >= 2, got k=%s", k);
    checkNotNull(values, "values");
    checkArgument(values.length > 0, "values must not be empty");
    checkArgument(maxIterations >= 1, "maxIterations must be >= 1, got %s", maxIterations);
    int bad = indexOfFirstNonFinite(values);
    checkArgument(
        bad < 0,
        "values[%s] is not finite (%s)",
        bad,
        bad < 0 ? null : Float.valueOf(values[bad]));
  }

  private static int indexOfFirstNonFinite(float[] values) {
    for (int i = 0; i < values.length; i++) {
      if (!Float.isFinite(values[i])) {
        return i;
      }
    }
    return -1;
  }

  static Clustering keepOriginalValues(Distinct distinct) {
    // valueIndex already points into the sorted distinct values, which are the centroids.
    return new Clustering(distinct.values, distinct.valueIndex, 0.0, 0, true);
  }

  /**
   * k-means++ on the distinct values weighted by multiplicity: same distribution as on the raw
   * values, but the O(m·k) distance updates do not pay for duplicates.
   */
  static float[] kMeansPlusPlus(Distinct d, int k, SplittableRandom random) {
    int m = d.size();
    double[] weight = new double[m];
    for (int j = 0; j < m; j++) {
      weight[j] = d.counts[j];
    }
    float[] seeds = new float[k];
    int first = sample(weight, random);
    seeds[0] = d.values[first];
    double[] nearest = new double[m];
    for (int j = 0; j < m; j++) {
      nearest[j] = square(d.values[j] - (double) seeds[0]);
    }
    double[] p = new double[m];
    for (int s = 1; s < k; s++) {
      for (int j = 0; j < m; j++) {
        p[j] = weight[j] * nearest[j];
      }
      // m > k distinct values guarantee some p[j] > 0: a chosen seed has distance 0, the rest don't.
      int next = sample(p, random);
      float c = d.values[next];
      seeds[s] = c;
      for (int j = 0; j < m; j++) {
        double dist = square(d.values[j] - (double) c);
        if (dist < nearest[j]) {
          nearest[j] = dist;
        }
      }
    }
    Arrays.sort(seeds);
    return seeds;
  }

  /** Index j drawn with probability p[j] / sum(p); p must have a positive entry. */
  static int sample(double[] p, SplittableRandom random) {
    double total = 0;
    for (double x : p) {
      total += x;
    }
    double r = random.nextDouble() * total;
    double cumulative = 0;
    int lastPositive = -1;
    for (int j = 0; j < p.length; j++) {
      if (p[j] > 0) {
        cumulative += p[j];
        lastPositive = j;
        if (cumulative > r) {
          return j;
        }
      }
    }
    // Rounding can leave the running sum just below r; never fall back to a zero-weight entry,
    // which would duplicate a seed.
    return lastPositive;
  }

  /**
   * Lloyd iterations over the distinct values from {@code centroids} (sorted in place, then
   * updated in place; duplicates allowed), re-seeding empty clusters. Requires more distinct values
   * than centroids.
   */
  static Clustering lloyd(Distinct d, float[] centroids, int maxIterations) {
    int m = d.size();
    int k = centroids.length;
    Arrays.sort(centroids);
    int[] assignment = new int[m];
    Arrays.fill(assignment, -1);
    assign(d.values, centroids, assignment);

    double[] sum = new double[k];
    long[] count = new long[k];
    float[] lo = new float[k];
    float[] hi = new float[k];
    int iterations = 0;
    while (iterations < maxIterations) {
      iterations++;
      Arrays.fill(sum, 0);
      Arrays.fill(count, 0);
      for (int j = 0; j < m; j++) {
        int c = assignment[j];
        if (count[c] == 0) {
          lo[c] = d.values[j]; // ascending values: the first member is the smallest
        }
        hi[c] = d.values[j];
        sum[c] += (double) d.counts[j] * d.values[j];
        count[c] += d.counts[j];
      }
      int empty = 0;
      for (int c = 0; c < k; c++) {
        if (count[c] == 0) {
          empty++;
          continue;
        }
        // Clamping to the members' range keeps rounding from pushing a mean past a neighbouring
        // cluster's values, so non-empty clusters keep distinct, ordered centroids.
        double mean = sum[c] / count[c];
        centroids[c] = (float) Math.min(hi[c], Math.max(lo[c], mean));
      }
      if (empty > 0) {
        reseedEmpty(d.values, assignment, centroids, count, empty);
        Arrays.sort(centroids);
      }
      boolean changed = assign(d.values, centroids, assignment);
      // After a re-seed, cluster labels were reshuffled by the sort, so an unchanged label array
      // would not mean a fixed point.
      if (!changed && empty == 0) {
        break;
      }
    }

    int[] indices = new int[d.valueIndex.length];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = assignment[d.valueIndex[i]];
    }
    double sse = 0;
    for (int j = 0; j < m; j++) {
      sse += d.counts[j] * square(d.values[j] - (double) centroids[assignment[j]]);
    }
    return new Clustering(centroids, indices, sse, iterations, false);
  }

  /**
   * Moves every empty cluster's centroid onto a distinct value with the largest squared error to
   * its (updated) centroid. Such values exist: with m > k distinct values spread over at most
   * k - empty non-empty clusters, at least empty + 1 of them differ from their centroid. A value
   * with positive error lies outside every other cluster's member range, so the moved centroids
   * never coincide with an existing one.
   */
  private static void reseedEmpty(
      float[] values, int[] assignment, float[] centroids, long[] count, int empty) {
    int m = values.length;
    double[] error = new double[m];
    for (int j = 0; j < m; j++) {
      error[j] = square(values[j] - (double) centroids[assignment[j]]);
    }
    int c = 0;
    for (int e = 0; e < empty; e++) {
      while (count[c] != 0) {
        c++;
      }
      int worst = 0;
      for (int j = 1; j < m; j++) {
        if (error[j] > error[worst]) {
          worst = j;
        }
      }
      centroids[c] = values[worst];
      error[worst] = -1; // taken; the next empty cluster gets the next-worst value
      c++;
    }
  }

  /**
   * Assigns each value to its nearest centroid (ties to the lower): the first midpoint between
   * consecutive sorted centroids that is not below it, found by a merged pass over ascending values
   * and by binary search otherwise. Returns whether any assignment changed.
   */
  static boolean assign(float[] values, float[] sortedCentroids, int[] assignment) {
    int k = sortedCentroids.length;
    double[] midpoints = new double[k - 1];
    for (int c = 0; c + 1 < k; c++) {
      midpoints[c] = ((double) sortedCentroids[c] + sortedCentroids[c + 1]) * 0.5;
    }
    boolean changed = false;
    int low = 0;
    double previous = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < values.length; j++) {
      double v = values[j];
      // First midpoint >= v; values beyond the last midpoint go to the last cluster. Ascending values
      // (every caller's sorted distinct values) continue from the last one's midpoint in one merged
      // pass; any other value is searched for.
      if (v >= previous) {
        while (low < k - 1 && midpoints[low] < v) {
          low++;
        }
      } else {
        low = 0;
        int high = k - 1;
        while (low < high) {
          int mid = (low + high) >>> 1;
          if (midpoints[mid] >= v) {
            high = mid;
          } else {
            low = mid + 1;
          }
        }
      }
      previous = v;
      if (assignment[j] != low) {
        assignment[j] = low;
        changed = true;
      }
    }
    return changed;
  }

  private static double square(double x) {
    return x * x;
  }

  /** The sorted distinct values, their multiplicities, and where each input value went. */
  static final class Distinct {
    final float[] values;
    final int[] counts;
    /** For each input value, the index of its distinct value. */
    final int[] valueIndex;

    private Distinct(float[] values, int[] counts, int[] valueIndex) {
      this.values = values;
      this.counts = counts;
      this.valueIndex = valueIndex;
    }

    /**
     * The distinct values of {@code input} (finite), ascending. A stable LSD radix sort of
     * order-preserving integer keys carries each value's position along, so {@code valueIndex}
     * comes out of the same pass: O(n), no per-value binary search.
     */
    static Distinct of(float[] input) {
      int n = input.length;
      int[] keys = new int[n];
      int[] order = new int[n];
      for (int i = 0; i < n; i++) {
        // Adding +0.0f turns -0.0f into +0.0f: the two must be one value, or a cluster is spent
        // on a sign bit.
        keys[i] = sortableKey(input[i] + 0.0f);
        order[i] = i;
      }
      int[] keyBuffer = new int[n];
      int[] orderBuffer = new int[n];
      int[] histogram = new int[1 << RADIX_BITS];
      for (int shift = 0; shift < 32; shift += RADIX_BITS) {
        Arrays.fill(histogram, 0);
        for (int key : keys) {
          histogram[(key >>> shift) & RADIX_MASK]++;
        }
        if (histogram[(keys.length == 0 ? 0 : keys[0] >>> shift) & RADIX_MASK] == n) {
          continue; // every key has this digit: the pass would not move anything
        }
        int sum = 0;
        for (int d = 0; d < histogram.length; d++) {
          int c = histogram[d];
          histogram[d] = sum;
          sum += c;
        }
        for (int i = 0; i < n; i++) {
          int key = keys[i];
          int to = histogram[(key >>> shift) & RADIX_MASK]++;
          keyBuffer[to] = key;
          orderBuffer[to] = order[i];
        }
        int[] t = keys;
        keys = keyBuffer;
        keyBuffer = t;
        t = order;
        order = orderBuffer;
        orderBuffer = t;
      }
      int m = 0;
      for (int i = 0; i < n; i++) {
        if (i == 0 || keys[i] != keys[i - 1]) {
          m++;
        }
      }
      float[] values = new float[m];
      int[] counts = new int[m];
      int[] valueIndex = new int[n];
      int j = -1;
      for (int i = 0; i < n; i++) {
        if (i == 0 || keys[i] != keys[i - 1]) {
          values[++j] = fromSortableKey(keys[i]);
        }
        counts[j]++;
        valueIndex[order[i]] = j;
      }
      return new Distinct(values, counts, valueIndex);
    }

    private static final int RADIX_BITS = 11;
    private static final int RADIX_MASK = (1 << RADIX_BITS) - 1;

    /** An int whose unsigned order is the numeric order of finite floats (+0.0 above -0.0). */
    private static int sortableKey(float v) {
      int bits = Float.floatToRawIntBits(v);
      // Non-negative: set the sign bit. Negative: flip every bit (larger magnitude sorts first).
      return bits ^ ((bits >> 31) | 0x80000000);
    }

    private static float fromSortableKey(int key) {
      return Float.intBitsToFloat(key < 0 ? key ^ 0x80000000 : ~key);
    }

    int size() {
      return values.length;
    }
  }
}

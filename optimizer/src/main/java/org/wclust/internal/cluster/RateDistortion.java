package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Entropy-constrained 1-D clustering: the clustering of one codebook that minimises
 * {@code SSE + λ · R}, where R is the bits an ideal entropy coder needs for the indices,
 * {@code Σ_c n_c · log2(N / n_c)}. Uneven cluster populations code (and deflate) smaller, so at the
 * same k this trades a little squared error for a lot of size.
 *
 * <p>The optimum's clusters are intervals of the sorted values (each value goes to the centroid with
 * the least {@code (x − c)² + λ·bits(c)}, a lower envelope of lines in x), so a dynamic program over
 * the sorted distinct values finds it exactly: {@code f[c][j] = min_i f[c−1][i] + cost(i, j)} with
 * {@code cost} the interval's SSE plus λ times its index bits, exactly k intervals (or one per
 * distinct value when there are fewer): the user asked for k, and a codebook the entropy term
 * collapsed to one or two values could not be fine-tuned back. That is
 * O(k · m²) for m distinct values; beyond a work budget they are grouped into
 * equal-count runs ("atoms") whose boundaries are the only cut points, and an entropy-constrained
 * Lloyd pass ({@link EntropyConstrained}) then polishes the cuts on the full values.
 *
 * <p>The result is <b>re-assigned to the nearest centroid</b> (centroids kept): fine-tuning
 * re-assigns every weight to its nearest centroid, so an assignment that leans on the entropy term
 * would be undone by the first step. What survives fine-tuning is the placement of the centroids —
 * spaced more evenly than minimum-SSE centroids, so the central clusters are wide and hold most
 * weights — and that is what this clustering keeps.
 */
public final class RateDistortion {
  /**
   * The default's multiplier: one bit of index entropy per weight is worth this many times the
   * optimal (minimum-SSE) mean squared error at the same k. Chosen on the Fashion-MNIST benchmark
   * (README, "Clustering methods"): it is the rate-distortion knee there.
   */
  public static final double KNEE_WEIGHT = 16.0;

  /**
   * Work budget (k · atoms²) per codebook for the dynamic program: up to 700 distinct values at
   * k = 8 and 350 at k = 32 it is exact; beyond, the Lloyd polish refines the atoms' cuts.
   */
  private static final long WORK_LIMIT = 4_000_000L;

  private RateDistortion() {}

  /**
   * Clusters {@code d} into {@code k} clusters at the rate-distortion knee: λ is
   * {@code weight} times the optimal mean squared error at k ({@link OptimalKMeans1D}), so the
   * setting means the same for any scale and any k. Requires {@code d.size() > k}.
   */
  static Clustering atWeight(KMeans1D.Distinct d, int k, double weight) {
    return atWeight(d, k, weight, OptimalKMeans1D.cluster(d, k));
  }

  /** As {@link #atWeight(KMeans1D.Distinct, int, double)}, given {@code optimal}, the optimal clustering of d at k. */
  static Clustering atWeight(KMeans1D.Distinct d, int k, double weight, Clustering optimal) {
    return atWeight(d, k, weight, optimal.sse(), () -> optimal);
  }

  /**
   * As {@link #atWeight(KMeans1D.Distinct, int, double, Clustering)}, given the optimal clustering's SSE and a
   * way to make that clustering, which is only made when it is the answer (rate weight 0, or no error).
   */
  static Clustering atWeight(KMeans1D.Distinct d, int k, double weight, double optimalSse,
      Supplier<Clustering> optimal) {
    checkArgument(weight >= 0 && Double.isFinite(weight), "rate weight must be finite and >= 0, got %s", weight);
    if (weight == 0) {
      return optimal.get();
    }
    long n = total(d);
    double lambda = weight * optimalSse / n;
    if (lambda <= 0) {
      return optimal.get();
    }
    return nearest(d, centroids(d, k, lambda, atomsFor(d.size(), k), true));
  }

  /**
   * The entropy-constrained optimum for an absolute λ, without nearest re-assignment: with
   * {@code exactlyK} false, the minimum of SSE + λ·R over every clustering into at most k clusters
   * (its clusters are intervals, see the class comment); with {@code exactlyK} true, the minimum over
   * partitions into exactly {@code min(k, distinct values)} intervals of the sorted values (with the
   * count fixed the optimum need not be intervals: a repeated value can make a middle value the best
   * singleton; intervals are what the knee uses). Exact below the work budget.
   */
  public static Clustering solve(float[] values, int k, double lambda, boolean exactlyK) {
    KMeans1D.checkArguments(values, k, KMeans1D.DEFAULT_MAX_ITERATIONS);
    KMeans1D.Distinct d = KMeans1D.Distinct.of(values);
    if (d.size() <= k && lambda == 0) {
      return KMeans1D.keepOriginalValues(d);
    }
    return solve(d, k, lambda, atomsFor(d.size(), k), exactlyK);
  }

  private static int atomsFor(int distinct, int k) {
    int byWork = (int) Math.sqrt(WORK_LIMIT / (double) k);
    return Math.max(k + 1, Math.min(distinct, byWork));
  }

  /**
   * The dynamic program: the minimum of SSE + λ · index bits over partitions of the sorted values into
   * exactly {@code min(k, atoms)} intervals (or, without {@code exactlyK}, at most that many) whose cuts lie
   * on atom boundaries.
   */
  private static Cuts cuts(KMeans1D.Distinct d, int k, double lambda, int atoms, boolean exactlyK) {
    int m = d.size();
    // Atom boundaries: atom t covers distinct values [start[t], start[t + 1]).
    int[] start = atomStarts(d, atoms);
    int a = start.length - 1;
    long n = total(d);
    // Prefix sums over atoms, values centred for accuracy.
    double mean = 0;
    for (int j = 0; j < m; j++) {
      mean += d.counts[j] * (double) d.values[j];
    }
    mean /= n;
    long[] cnt = new long[a + 1];
    double[] s1 = new double[a + 1];
    double[] s2 = new double[a + 1];
    for (int t = 0; t < a; t++) {
      long c = 0;
      double x1 = 0;
      double x2 = 0;
      for (int j = start[t]; j < start[t + 1]; j++) {
        double v = d.values[j] - mean;
        c += d.counts[j];
        x1 += d.counts[j] * v;
        x2 += d.counts[j] * v * v;
      }
      cnt[t + 1] = cnt[t] + c;
      s1[t + 1] = s1[t] + x1;
      s2[t + 1] = s2[t] + x2;
    }
    double log2n = log2(n);
    int kk = Math.min(k, a);
    // The cost of atoms [i, j) is the same in every layer: computed once, row j at j(j−1)/2 + i.
    double[] costs = new double[kk < 2 ? 0 : rowStart(a + 1)];
    for (int j = 1; j <= a && kk >= 2; j++) {
      int row = rowStart(j);
      for (int i = 0; i < j; i++) {
        costs[row + i] = cost(cnt, s1, s2, i, j, lambda, log2n);
      }
    }
    double[] prev = new double[a + 1];
    double[] cur = new double[a + 1];
    int[][] from = new int[kk + 1][a + 1];
    // One cluster.
    for (int j = 1; j <= a; j++) {
      prev[j] = cost(cnt, s1, s2, 0, j, lambda, log2n);
    }
    double best = prev[a];
    int bestClusters = 1;
    for (int c = 2; c <= kk; c++) {
      Arrays.fill(cur, Double.POSITIVE_INFINITY);
      for (int j = c; j <= a; j++) {
        double min = Double.POSITIVE_INFINITY;
        int arg = -1;
        int row = rowStart(j);
        for (int i = c - 1; i < j; i++) {
          double v = prev[i] + costs[row + i];
          if (v < min) {
            min = v;
            arg = i;
          }
        }
        cur[j] = min;
        from[c][j] = arg;
      }
      // Strictly better only: ties keep fewer clusters.
      if (exactlyK || cur[a] < best) {
        best = cur[a];
        bestClusters = c;
      }
      double[] swap = prev;
      prev = cur;
      cur = swap;
    }
    // Back-track the cuts of the best number of clusters.
    int[] cuts = new int[bestClusters + 1];
    cuts[bestClusters] = a;
    for (int c = bestClusters; c >= 2; c--) {
      cuts[c - 1] = from[c][cuts[c]];
    }
    float[] centroids = new float[bestClusters];
    int[] populations = new int[bestClusters];
    for (int c = 0; c < bestClusters; c++) {
      double sum = 0;
      long count = 0;
      for (int j = start[cuts[c]]; j < start[cuts[c + 1]]; j++) {
        sum += d.counts[j] * (double) d.values[j];
        count += d.counts[j];
      }
      centroids[c] = (float) (sum / count);
      populations[c] = (int) count;
    }
    return new Cuts(start, cuts, centroids, populations);
  }

  /** The dynamic program's clusters: cluster c is the atoms [cuts[c], cuts[c + 1]), with its mean and population. */
  private record Cuts(int[] atomStart, int[] cuts, float[] centroids, int[] populations) {
    /** Whether every distinct value of d was an atom: the dynamic program was exact, and nothing is polished. */
    boolean exact(KMeans1D.Distinct d) {
      return atomStart.length - 1 == d.size();
    }

    /** The clustering of d these cuts make. */
    Clustering clustering(KMeans1D.Distinct d) {
      int[] clusterOf = new int[d.size()];
      for (int c = 0; c + 1 < cuts.length; c++) {
        Arrays.fill(clusterOf, atomStart[cuts[c]], atomStart[cuts[c + 1]], c);
      }
      return of(d, centroids, clusterOf);
    }
  }

  /**
   * The minimum of SSE + λ · index bits over partitions of the sorted values into exactly
   * {@code min(k, atoms)} intervals whose cuts lie on atom boundaries; exact when {@code atoms >= d.size()}. Then, when
   * atoms were used, polished by entropy-constrained Lloyd iterations on the full values.
   */
  static Clustering solve(KMeans1D.Distinct d, int k, double lambda, int atoms, boolean exactlyK) {
    Cuts dp = cuts(d, k, lambda, atoms, exactlyK);
    if (dp.exact(d)) {
      return dp.clustering(d);
    }
    // The polish drops clusters that empty; with exactly k asked for, keep the cuts then (the polish
    // stops at the first drop: its result would not be used).
    Clustering polished = EntropyConstrained.refineWithLambda(d, dp.centroids(), dp.populations(), lambda, exactlyK);
    return polished != null ? polished : dp.clustering(d);
  }

  /**
   * The centroids of {@link #solve(KMeans1D.Distinct, int, double, int, boolean)}'s clustering, without building its
   * indices (the knee re-assigns to the nearest centroid anyway).
   */
  static float[] centroids(KMeans1D.Distinct d, int k, double lambda, int atoms, boolean exactlyK) {
    Cuts dp = cuts(d, k, lambda, atoms, exactlyK);
    if (dp.exact(d)) {
      return dp.centroids();
    }
    float[] polished = EntropyConstrained.refinedCentroids(d, dp.centroids(), dp.populations(), lambda, exactlyK);
    return polished != null ? polished : dp.centroids();
  }

  /** Where row j (the intervals [i, j), i < j) starts in the triangular cost table. */
  private static int rowStart(int j) {
    return (int) ((long) j * (j - 1) / 2);
  }

  /** SSE of the atoms [i, j) about their mean plus λ times their index bits. */
  private static double cost(long[] cnt, double[] s1, double[] s2, int i, int j, double lambda, double log2n) {
    long c = cnt[j] - cnt[i];
    double s = s1[j] - s1[i];
    double sse = Math.max(0, (s2[j] - s2[i]) - s * s / c);
    return sse + lambda * c * (log2n - log2OfCount(c));
  }

  /**
   * Every value assigned to its nearest centroid (ties to the lower), centroids kept; centroids that
   * get no value are dropped.
   */
  static Clustering nearest(KMeans1D.Distinct d, float[] centroids) {
    int[] assignment = new int[d.size()];
    KMeans1D.assign(d.values, centroids, assignment);
    boolean[] used = new boolean[centroids.length];
    for (int c : assignment) {
      used[c] = true;
    }
    int[] remap = new int[centroids.length];
    int kept = 0;
    for (int c = 0; c < centroids.length; c++) {
      remap[c] = kept;
      if (used[c]) {
        centroids[kept++] = centroids[c];
      }
    }
    for (int j = 0; j < assignment.length; j++) {
      assignment[j] = remap[assignment[j]];
    }
    return of(d, Arrays.copyOf(centroids, kept), assignment);
  }

  /** The clustering of the input values from an assignment of the distinct values. */
  static Clustering of(KMeans1D.Distinct d, float[] centroids, int[] clusterOfDistinct) {
    int[] indices = new int[d.valueIndex.length];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = clusterOfDistinct[d.valueIndex[i]];
    }
    double sse = 0;
    for (int j = 0; j < d.size(); j++) {
      double e = d.values[j] - (double) centroids[clusterOfDistinct[j]];
      sse += d.counts[j] * e * e;
    }
    return new Clustering(centroids, indices, sse, 0, false);
  }

  /** Bits an ideal entropy coder needs for the indices: {@code Σ_c n_c · log2(N / n_c)}. */
  public static double indexBits(int[] indices, int codebookSize) {
    long[] counts = new long[codebookSize];
    for (int i : indices) {
      counts[i]++;
    }
    return entropyBits(counts);
  }

  /** {@code Σ_s n_s · log2(N / n_s)} over the symbols' counts. */
  public static double entropyBits(long[] counts) {
    long n = 0;
    for (long c : counts) {
      n += c;
    }
    double bits = 0;
    for (long c : counts) {
      if (c > 0) {
        bits += c * (log2(n) - log2(c));
      }
    }
    return bits;
  }

  /**
   * Boundaries of at most {@code atoms} runs of the sorted distinct values holding about equal counts:
   * run t covers distinct values {@code [start[t], start[t + 1])}; one run per value when
   * {@code atoms >= d.size()}. The dynamic programs cut only on these boundaries.
   */
  static int[] atomStarts(KMeans1D.Distinct d, int atoms) {
    int m = d.size();
    if (atoms >= m) {
      int[] start = new int[m + 1];
      for (int t = 0; t <= m; t++) {
        start[t] = t;
      }
      return start;
    }
    long n = total(d);
    int[] start = new int[atoms + 1];
    long seen = 0;
    int t = 1;
    for (int j = 0; j < m && t < atoms; j++) {
      seen += d.counts[j];
      if (seen * atoms >= (long) t * n && j + 1 < m) {
        start[t++] = j + 1;
      }
    }
    start = Arrays.copyOf(start, t + 1);
    start[t] = m;
    return start;
  }

  private static long total(KMeans1D.Distinct d) {
    long n = 0;
    for (int c : d.counts) {
      n += c;
    }
    return n;
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  /**
   * {@link #log2} of the population counts up to {@link #COUNT_TABLE}, computed once: the dynamic program
   * takes one per cost-table entry (atoms² / 2 per codebook, most of its time for small codebooks), and a
   * count's log is the same number whichever codebook asks.
   */
  private static final int COUNT_TABLE = 1 << 18;

  private static final double[] LOG2_OF_COUNT = new double[COUNT_TABLE];

  static {
    for (int c = 1; c < COUNT_TABLE; c++) {
      LOG2_OF_COUNT[c] = log2(c);
    }
  }

  /** {@code log2(c)} of a count (c >= 1), from the table where it holds it: the same value as {@link #log2}. */
  private static double log2OfCount(long c) {
    return c < COUNT_TABLE ? LOG2_OF_COUNT[(int) c] : log2(c);
  }
}

package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;

/**
 * Globally optimal one-dimensional k-means: the partition of the values into {@code k} clusters
 * with the minimum within-cluster sum of squared errors (SSE).
 *
 * <h2>Dynamic program</h2>
 *
 * <p>In one dimension some optimal clustering is contiguous in sorted order, and equal values
 * always share a cluster, so the input is the sorted distinct values {@code x[0..n)} with their
 * multiplicities {@code w[j]} as weights. With prefix sums (in double) of {@code w}, {@code w·x}
 * and {@code w·x²} — of the values minus their weighted mean, which keeps the sums and hence the
 * cancellation small — the SSE of a segment {@code [i, j]} costs O(1):
 *
 * <pre>
 *   cost(i, j) = Σ w·x² − (Σ w·x)² / Σ w      (clamped at 0: cancellation can make it negative)
 *   D[1][j] = cost(0, j)
 *   D[m][j] = min over i in [m-1, j] of  D[m-1][i-1] + cost(i, j)      (i: start of cluster m)
 * </pre>
 *
 * <p>The answer is {@code D[k][n-1]}; rows of layer {@code m} only run over {@code j ∈ [m-1,
 * n-1-(k-m)]}. {@code cost} satisfies the (concave) Monge / quadrangle inequality, so the matrix
 * {@code A[j][i] = D[m-1][i-1] + cost(i, j)} (with {@code +∞} for {@code i > j}) is totally
 * monotone: each layer is a row-minima problem. By default it is solved by divide and conquer over
 * the monotone argmins, O(n log n) evaluations per layer (SMAWK, O(n), is kept as an option: it
 * evaluates less but was slower here).
 *
 * <h2>Bounds of the unpruned DP</h2>
 *
 * <p>In the unrestricted DP the leftmost argmins also grow with the layer (Knuth's bounds from the
 * quadrangle inequality, as in Ckmeans.1d.dp): {@code opt[m-1][j] <= opt[m][j] <= opt[m][j+1]}. So
 * row j of layer m is only searched from {@code opt[m-1][j]}. Early layers, where this bound is
 * loose, still use divide and conquer; once consecutive layers are close, a sweep down the rows,
 * each searching {@code [opt[m-1][j], opt[m][j+1]]}, costs one to a few evaluations per row. Each
 * layer takes whichever was (or would have been) cheaper on the layer before.
 *
 * <p>{@code D[m][j]} grows with j, and the first m clusters of an optimal solution cost at most the
 * optimum. So with U the cost of a good clustering (equal-weight groups refined by Lloyd steps),
 * each layer stops at its last row with {@code D <= U} (plus a rounding tolerance), found by
 * probing; this drops most rows of the early layers, which are the expensive ones. And layer k-1
 * only needs the rows from {@code opt[k-1][top] - 1} on, top its last row, as
 * {@code opt[k][n-1] >= opt[k-1][top]}.
 *
 * <p>Together these make small problems, like per-channel codebooks, two to three times as fast.
 * Pruned windows restrict the DP, which can break the cross-layer bound, so they are only used
 * without pruning.
 *
 * <h2>Pruning (exact)</h2>
 *
 * <p>For large inputs ({@code n >= 25·k^1.5}, and at least 256 values; below, the unpruned DP with
 * its bounds is faster) most rows of a layer cannot be where cluster {@code m} ends in an optimal
 * solution. They are skipped using bounds that never exclude an optimal solution, so the result is
 * the same as without pruning (tests compare the two):
 *
 * <ul>
 *   <li><b>Lower bounds.</b> Cut the values into consecutive groups. SSE only decreases on a
 *       subset, so a cluster costs at least the SSE of the groups lying wholly inside it; dropping
 *       the group each boundary falls in gives a <em>relaxed</em> DP over groups, {@code R[1][r] =
 *       cost(groups 0..r)}, {@code R[t][r] = min over i ≤ r+2 of R[t-1][i-2] + cost(groups i..r)}
 *       (an empty range costs 0), with {@code D[m][j] ≥ R[m][group(j) − 1]}. The extended cost
 *       still satisfies the quadrangle inequality, so the same row-minima code solves it. Run once
 *       from the left and once from the right (bounding the cost of the {@code k − m} clusters
 *       after {@code j}).
 *   <li><b>Upper bound.</b> {@code U} = the exact SSE of a real clustering read off a relaxed
 *       solution (each dropped group joins the next cluster).
 *   <li>A row {@code j} stays in layer {@code m}'s window only when its two lower bounds add up to
 *       at most {@code U} (plus a rounding tolerance); each layer keeps the hull of its rows. The
 *       states of an optimal solution always pass, so the DP restricted to the windows still finds
 *       an optimum.
 *   <li><b>Levels.</b> The first level uses about 4k equal-count groups. Each further level cuts
 *       every cluster of the best clustering so far into 4× as many groups as the level before
 *       (16, 64, ...; equal shares of each cluster rather than equal counts, so the dropped groups
 *       cost a similar small fraction everywhere, including sparse tails), and runs its relaxed
 *       DPs only over the previous level's windows — a relaxation of the window-restricted problem
 *       still bounds the optimum. Levels stop once groups have at most 16 values; then the exact
 *       DP runs over the final windows. As a safeguard, a level whose bounds are inconsistent is
 *       ignored, and a restricted optimum above {@code U} would be recomputed unpruned.
 * </ul>
 *
 * <p>Each level roughly halves the windows. For 1.27 M Gaussian values and k = 32 the final
 * windows hold about 0.7% of the rows, and the levels together evaluate a few percent of what the
 * unpruned DP would (about 20× faster overall). Pruning adapts: where the bounds are weak (k large
 * relative to n; k = 256 on the same values keeps ~5%), windows stay wider and the cost tends
 * towards the plain O(k·n).
 *
 * <h2>Backtracking and memory</h2>
 *
 * <p>Recovering the partition needs each kept row's minimising {@code i}. When that table (the
 * kept rows of layers 2..k-1) fits in {@link Options#tableLimit()} ints it is stored and walked
 * back from {@code (k, n-1)}. Otherwise the forward pass instead carries, for every row, where up
 * to {@link Options#maxTracked()} evenly spaced intermediate clusters end in that row's optimal
 * solution (Hirschberg-style; two int rows per tracked cluster). Those ends split the problem into
 * independent sub-problems — an optimal solution restricted to a range of values is optimal for
 * that range — each solved the same way (and pruned again), so memory stays O(n) plus the pruning
 * bounds (floats for the window rows of one level) whatever k is. All state lives in a per-call
 * solver (small problems borrow its arrays from a per-thread {@link Scratch}): the class is
 * thread-safe.
 *
 * <p>Floating point: costs are evaluated in double; rounding can perturb the Monge property by a
 * few ulps, which can only cost an SSE difference of the same order. The reported centroids are
 * the members' weighted means computed directly (not from prefix sums), rounded to float and
 * clamped to the members' range — exactly what a Lloyd step would produce for the same partition
 * — and the reported SSE is recomputed from them.
 */
final class OptimalKMeans1D {

  /** Row-minima algorithm for one DP layer. */
  enum RowMinima {
    /** SMAWK: O(rows + columns) per layer. For checking; no cross-layer bounds. */
    SMAWK,
    /**
     * Divide and conquer over monotone argmins: O((rows + columns) log rows), and the cross-layer
     * bounds when unpruned. The default.
     */
    DIVIDE_AND_CONQUER
  }

  /**
   * Tuning knobs; tests change them to exercise every path on small inputs.
   *
   * @param rowMinima row-minima algorithm for every layer
   * @param prune whether to prune rows with the coarse bounds
   * @param pruneMinSize smallest (sub-)problem, in distinct values, that is pruned
   * @param pruneMinRatio a (sub-)problem of n values and k clusters is only pruned when also
   *     {@code n >= pruneMinRatio · k^1.5}: below, the bounds are too weak to pay for themselves
   *     and the unpruned DP, with its own bounds, is faster
   * @param groupSize values per group at the first pruning level, or 0 for {@code n / 4k}
   * @param finalGroupSize the last pruning level has groups of at most this many values
   * @param tableLimit largest backtracking table (ints) kept in one piece
   * @param maxTracked cluster ends carried through a forward pass when the table would be larger
   */
  record Options(
      RowMinima rowMinima,
      boolean prune,
      int pruneMinSize,
      double pruneMinRatio,
      int groupSize,
      int finalGroupSize,
      long tableLimit,
      int maxTracked) {
    Options {
      checkArgument(pruneMinSize >= 1, "pruneMinSize must be >= 1");
      checkArgument(pruneMinRatio >= 0, "pruneMinRatio must be >= 0");
      checkArgument(groupSize >= 0, "groupSize must be >= 0");
      checkArgument(finalGroupSize >= 2, "finalGroupSize must be >= 2");
      checkArgument(tableLimit >= 0, "tableLimit must be >= 0");
      checkArgument(maxTracked >= 1, "maxTracked must be >= 1");
    }

    /** Pruning decided by size alone ({@code pruneMinRatio} 0). */
    Options(
        RowMinima rowMinima,
        boolean prune,
        int pruneMinSize,
        int groupSize,
        int finalGroupSize,
        long tableLimit,
        int maxTracked) {
      this(rowMinima, prune, pruneMinSize, 0, groupSize, finalGroupSize, tableLimit, maxTracked);
    }

    boolean prunes(int size, int clusters) {
      return prune && size >= pruneMinSize && size >= pruneMinRatio * Math.pow(clusters, 1.5);
    }
  }

  /**
   * Divide and conquer, pruning from 256 values and 25·k^1.5, groups n/4k down to 16, 16 MiB
   * table, 7 tracked ends. (Measured on Gaussian values, pruning starts to pay at about 15·k^1.5
   * values for k = 8 and 25·k^1.5 for k = 32 to 256.)
   */
  static final Options DEFAULT_OPTIONS =
      new Options(RowMinima.DIVIDE_AND_CONQUER, true, 256, 25, 0, 16, 1L << 22, 7);

  private OptimalKMeans1D() {}

  /**
   * The optimal clustering of the distinct values {@code d} into exactly {@code k} non-empty
   * clusters; requires {@code d.size() > k}. {@code iterations} is 0.
   */
  static Clustering cluster(KMeans1D.Distinct d, int k) {
    int n = d.size();
    checkArgument(k >= 2 && n > k, "need more distinct values (%s) than clusters (%s)", n, k);
    return fromStarts(d, segmentStarts(d.values, d.counts, k));
  }

  /**
   * The clustering of {@code d} whose clusters begin at {@code starts} (as {@link #segmentStarts}
   * returns them): what {@link #cluster} returns when they are the optimal ones, so a partition found
   * once can be turned into the same result again ({@link OptimalPartitions}).
   */
  static Clustering fromStarts(KMeans1D.Distinct d, int[] starts) {
    int n = d.size();
    int k = starts.length;
    float[] centroids = centroidsOf(d, starts);
    int[] clusterOf = new int[n];
    for (int c = 0; c < k; c++) {
      Arrays.fill(clusterOf, starts[c], c + 1 < k ? starts[c + 1] : n, c);
    }
    double sse = sseOf(d, starts, centroids);
    int[] indices = new int[d.valueIndex.length];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = clusterOf[d.valueIndex[i]];
    }
    return new Clustering(centroids, indices, sse, 0, false, 0);
  }

  /**
   * The SSE of {@link #fromStarts}'s clustering (the same number), without building its indices: what
   * the knee needs of the optimum.
   */
  static double sseOfStarts(KMeans1D.Distinct d, int[] starts) {
    return sseOf(d, starts, centroidsOf(d, starts));
  }

  /** Each cluster's centroid: the members' weighted mean, rounded to float, clamped to their range. */
  private static float[] centroidsOf(KMeans1D.Distinct d, int[] starts) {
    int n = d.size();
    int k = starts.length;
    float[] centroids = new float[k];
    for (int c = 0; c < k; c++) {
      int from = starts[c];
      int to = c + 1 < k ? starts[c + 1] : n;
      double sum = 0;
      long count = 0;
      for (int j = from; j < to; j++) {
        sum += (double) d.counts[j] * d.values[j];
        count += d.counts[j];
      }
      // Same arithmetic and clamp as KMeans1D.lloyd, so centroids are strictly ascending.
      double mean = sum / count;
      centroids[c] = (float) Math.min(d.values[to - 1], Math.max(d.values[from], mean));
    }
    return centroids;
  }

  /** The SSE of the values about their clusters' centroids, summed in value order. */
  private static double sseOf(KMeans1D.Distinct d, int[] starts, float[] centroids) {
    int n = d.size();
    int k = starts.length;
    double sse = 0;
    for (int c = 0; c < k; c++) {
      float centroid = centroids[c];
      for (int j = starts[c], to = c + 1 < k ? starts[c + 1] : n; j < to; j++) {
        double e = d.values[j] - (double) centroid;
        sse += d.counts[j] * (e * e);
      }
    }
    return sse;
  }

  /** {@link #segmentStarts(float[], int[], int, Options)} with {@link #DEFAULT_OPTIONS}. */
  static int[] segmentStarts(float[] sortedDistinct, int[] counts, int k) {
    return segmentStarts(sortedDistinct, counts, k, DEFAULT_OPTIONS);
  }

  /**
   * The first index of each of the {@code k} clusters of an optimal partition of
   * {@code sortedDistinct} (strictly ascending, weights {@code counts}, all positive):
   * {@code starts[0] == 0}, strictly ascending, {@code starts[k-1] < n}. Requires
   * {@code 1 <= k <= n}.
   */
  static int[] segmentStarts(float[] sortedDistinct, int[] counts, int k, Options options) {
    int n = sortedDistinct.length;
    checkArgument(counts.length == n, "counts.length %s != values.length %s", counts.length, n);
    checkArgument(k >= 1 && k <= n, "k=%s outside [1, %s]", k, n);
    Scratch scratch = Scratch.acquire(n);
    try {
      Solver solver = new Solver(sortedDistinct, counts, k, options, scratch);
      solver.solve(0, n - 1, k, 0);
      if (scratch != null) {
        solver.release(scratch);
      }
      return solver.starts;
    } finally {
      if (scratch != null) {
        scratch.inUse = false;
      }
    }
  }

  /**
   * Arrays the solvers of one thread reuse: for the many small problems of per-channel codebooks,
   * allocating and zeroing them afresh took about 10% of the time. Only problems of at most
   * {@link #MAX_VALUES} values use it, and it keeps a table of at most {@link #MAX_TABLE} ints, so
   * it holds at most about 1.2 MiB per thread.
   */
  private static final class Scratch {
    static final int MAX_VALUES = 4096;
    static final int MAX_TABLE = 1 << 18;
    private static final ThreadLocal<Scratch> PER_THREAD = ThreadLocal.withInitial(Scratch::new);

    double[] fw;
    double[] f1;
    double[] f2;
    double[] costs;
    double[] prev;
    double[] cur;
    int[] arg;
    int[] argPrev;
    int[] table;
    boolean inUse;

    /** This thread's scratch for a problem of n values, or null (too large, or in use). */
    static Scratch acquire(int n) {
      if (n > MAX_VALUES) {
        return null;
      }
      Scratch scratch = PER_THREAD.get();
      if (scratch.inUse) {
        return null; // not expected: nothing calls back into the solver
      }
      scratch.inUse = true;
      return scratch;
    }

    static double[] doubles(double[] cached, int length) {
      return cached != null && cached.length >= length ? cached : new double[length];
    }

    static int[] ints(int[] cached, int length) {
      return cached != null && cached.length >= length ? cached : new int[length];
    }
  }

  /** One run's state; never shared between threads. */
  private static final class Solver {
    /** Row r of a DP layer lives at index r + OFF: the relaxed DP reads rows -1 and -2. */
    private static final int OFF = 2;

    private final Options options;
    /** Number of values; the arrays below may be longer (reused, see {@link Scratch}). */
    private final int n;
    /** The values, and their weighted mean, which the prefix sums are centred on. */
    private final float[] values;
    private final double mean;

    /** Prefix sums over the first t values: weight, weight·x, weight·x² (x centred). */
    private final double[] fw;
    private final double[] f1;
    private final double[] f2;
    /** {@link #scanFineLongRow}'s segment costs, by column. */
    private final double[] costs;

    // The row-minima engine works on whichever DP the fields below describe: the fine DP
    // (prefix sums of the values; column i reads row i-1 and is finite up to the row) or a coarse
    // relaxed DP (prefix sums of groups; column i reads row i-2, dropping group i-1, and is finite
    // up to row + 2, where the cluster is empty and costs 0).
    private double[] pw;
    private double[] p1;
    private double[] p2;
    /** Column i reads row i - lag of the previous layer. */
    private int lag;
    /** Column i is finite in rows r with i <= r + reach. */
    private int reach;
    private double[] prev;
    private double[] cur;
    private int[] arg;
    /** The previous fine layer's argmins, when they bound this layer's (see {@link #forward}). */
    private int[] argPrev;
    /** Values evaluated by the last divide-and-conquer pass. */
    private long evaluations;

    /** SMAWK column lists of all recursion levels. */
    private int[] cols;
    /** SMAWK REDUCE: the value of each stack column at its row. */
    private double[] stackValue;

    private int[] table;
    private int[][] trackPrev;
    private int[][] trackCur;

    final int[] starts;

    /** A solver for the values x with weights w; takes its arrays from scratch if not null. */
    Solver(float[] x, int[] w, int k, Options options, Scratch scratch) {
      this.options = options;
      int n = x.length;
      this.n = n;
      double total = 0;
      double weighted = 0;
      for (int j = 0; j < n; j++) {
        checkArgument(w[j] > 0, "counts[%s] = %s is not positive", j, w[j]);
        checkArgument(j == 0 || x[j - 1] < x[j], "values not strictly ascending at %s", j);
        total += w[j];
        weighted += (double) w[j] * x[j];
      }
      double mean = weighted / total;
      this.values = x;
      this.mean = mean;
      Scratch from = scratch != null ? scratch : new Scratch();
      fw = Scratch.doubles(from.fw, n + 1);
      f1 = Scratch.doubles(from.f1, n + 1);
      f2 = Scratch.doubles(from.f2, n + 1);
      costs = Scratch.doubles(from.costs, n + 1);
      fw[0] = 0;
      f1[0] = 0;
      f2[0] = 0;
      for (int j = 0; j < n; j++) {
        double v = x[j] - mean;
        double wj = w[j];
        fw[j + 1] = fw[j] + wj;
        f1[j + 1] = f1[j] + wj * v;
        f2[j + 1] = f2[j] + wj * v * v;
      }
      // Every entry of these is written before it is read, so reused ones need no clearing.
      prev = Scratch.doubles(from.prev, n + OFF + 1);
      cur = Scratch.doubles(from.cur, n + OFF + 1);
      arg = Scratch.ints(from.arg, n + OFF + 1);
      argPrev = Scratch.ints(from.argPrev, n + OFF + 1);
      table = from.table;
      starts = new int[k];
    }

    /** Hands the arrays back to scratch (which they may have outgrown) for the next solver. */
    void release(Scratch scratch) {
      scratch.fw = fw;
      scratch.f1 = f1;
      scratch.f2 = f2;
      scratch.costs = costs;
      scratch.prev = prev;
      scratch.cur = cur;
      scratch.arg = arg;
      scratch.argPrev = argPrev;
      if (table != null && table.length <= Scratch.MAX_TABLE) {
        scratch.table = table;
      }
    }

    /** SSE of the values [i, j] about their mean (0 when empty). */
    double fineCost(int i, int j) {
      return segmentCost(fw, f1, f2, i, j);
    }

    private static double segmentCost(double[] pw, double[] p1, double[] p2, int i, int j) {
      double w = pw[j + 1] - pw[i];
      if (!(w > 0)) {
        return 0;
      }
      double s1 = p1[j + 1] - p1[i];
      double c = (p2[j + 1] - p2[i]) - s1 * s1 / w;
      return c > 0 ? c : 0;
    }

    /** The current DP matrix: column i (start of the last cluster) at row r (its last index). */
    private double value(int r, int i) {
      if (i > r + reach) {
        return Double.POSITIVE_INFINITY;
      }
      double w = pw[r + 1] - pw[i];
      double c = 0;
      if (w > 0) {
        double s1 = p1[r + 1] - p1[i];
        c = (p2[r + 1] - p2[i]) - s1 * s1 / w;
        if (c < 0) {
          c = 0;
        }
      }
      return prev[OFF + i - lag] + c;
    }

    private void useFine() {
      pw = fw;
      p1 = f1;
      p2 = f2;
      lag = 1;
      reach = 0;
    }

    private void swapRows() {
      double[] t = prev;
      prev = cur;
      cur = t;
    }

    // ---------------------------------------------------------------------------------------------
    // Fine DP

    /**
     * Fills {@code starts[first .. first+clusters)} with an optimal split of the values
     * {@code [a, b]} into {@code clusters} non-empty clusters.
     */
    void solve(int a, int b, int clusters, int first) {
      int size = b - a + 1;
      if (clusters == 1) {
        starts[first] = a;
        return;
      }
      if (clusters == size) {
        for (int c = 0; c < clusters; c++) {
          starts[first + c] = a + c;
        }
        return;
      }
      if (options.prunes(size, clusters)) {
        Windows pruned = prunedWindows(a, b, clusters);
        if (pruned != null && forward(a, b, clusters, first, pruned, false)) {
          return;
        }
        // No usable bounds (too few values for groups, or inconsistent through rounding), or — not
        // expected — a restricted optimum above the upper bound: solve unpruned.
      }
      // Not expected: an optimum above the heuristic's cost (rounding) would be redone uncut.
      boolean solved =
          forward(a, b, clusters, first, Windows.natural(a, b, clusters), true)
              || forward(a, b, clusters, first, Windows.natural(a, b, clusters), false);
      if (!solved) {
        throw new AssertionError("unpruned DP cannot fail");
      }
    }

    /**
     * Rows of each layer the fine DP visits: {@code lo[m]..hi[m]} for m = 1..clusters
     * ({@code lo[clusters] = hi[clusters] = b}), the best upper bound found, the bound (with
     * rounding tolerance) the optimum must not exceed, the clustering (cluster starts
     * {@code [1..k]}, then b+1) that achieved the upper bound, or null, and whether these are the
     * natural windows (every feasible row, so the DP values are the unrestricted ones).
     */
    private record Windows(
        int[] lo, int[] hi, double upper, double bound, int[] starts, boolean natural) {
      static Windows natural(int a, int b, int clusters) {
        int[] lo = new int[clusters + 1];
        int[] hi = new int[clusters + 1];
        for (int m = 1; m <= clusters; m++) {
          lo[m] = a + m - 1;
          hi[m] = b - (clusters - m);
        }
        return new Windows(
            lo, hi, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, null, true);
      }
    }

    /** Runs the fine DP over the windows; false if the optimum exceeds {@code windows.bound}. */
    private boolean forward(
        int a, int b, int clusters, int first, Windows windows, boolean cutAboveUpperBound) {
      int[] lo = windows.lo();
      int[] hi = windows.hi();
      long tableSize = 0;
      for (int m = 2; m < clusters; m++) {
        tableSize += hi[m] - lo[m] + 1;
      }
      boolean withTable = tableSize <= options.tableLimit();
      int q = 0;
      int[] tracked = null;
      int[] offset = null;
      if (withTable) {
        if (table == null || table.length < tableSize) {
          table = new int[(int) tableSize];
        }
        offset = new int[clusters];
        for (int m = 3; m < clusters; m++) {
          offset[m] = offset[m - 1] + (hi[m - 1] - lo[m - 1] + 1);
        }
      } else {
        q = Math.min(clusters - 1, options.maxTracked());
        tracked = new int[q]; // cluster counts after which an end is tracked, ascending
        for (int s = 0; s < q; s++) {
          tracked[s] = (int) ((long) (s + 1) * clusters / (q + 1));
        }
        ensureTracks(q);
      }

      useFine();
      // Over the natural windows the layers hold the unrestricted DP, whose leftmost argmins also
      // grow with the layer (quadrangle inequality; as in Ckmeans.1d.dp): opt[m-1][j] <= opt[m][j].
      // So layer m >= 3 only searches from the previous layer's argmin (a row j past the previous
      // layer's last row uses that row's). Pruned windows restrict the DP, which can break this.
      boolean floored =
          windows.natural() && options.rowMinima() == RowMinima.DIVIDE_AND_CONQUER;
      // D[m][j] grows with j, and the first m clusters of an optimal solution cost at most the
      // optimum, so rows whose D exceeds a known clustering's cost (plus rounding tolerance) are on
      // no optimal path: each layer stops at its last row within that limit. The limit is tight,
      // so this drops most rows of the early layers (m clusters cannot cover much at the cost of
      // k), which are the expensive ones.
      double limit = Double.POSITIVE_INFINITY;
      if (floored && cutAboveUpperBound) {
        limit = heuristicCost(a, b, clusters) + tolerance(a, b);
      }
      int top = hi[1]; // last row of the layer before
      if (limit < Double.POSITIVE_INFINITY) {
        top = Math.max(lo[1], lastWithin(a, lo[1], hi[1], limit));
      }
      for (int j = lo[1]; j <= top; j++) {
        prev[OFF + j] = fineCost(a, j);
      }
      // A sweep row searches [opt[m-1][j], opt[m][j+1]]: about one evaluation per row plus the
      // gap between the layers, which shrinks as m grows. Divide and conquer costs about log n
      // per row. Each layer takes the one that was (or would have been) cheaper on the last one.
      long sweepCost = 0; // evaluations a sweep took (or would have) on the last layer, from 3 on
      long divideCost = 0; // evaluations of the last divide-and-conquer layer
      for (int m = 2; m < clusters; m++) {
        int rLo = lo[m];
        int cLo = lo[m - 1] + 1;
        int cHi = Math.min(top + 1, hi[m]);
        int rHi = hi[m];
        if (limit < Double.POSITIVE_INFINITY) {
          rHi = lastRowWithin(limit, rLo, hi[m], cLo, cHi, m >= 3 ? top : -1);
        }
        boolean sweep = m >= 4 && sweepCost < divideCost;
        if (!floored) {
          rowMinima(rLo, rHi, cLo, cHi);
        } else if (sweep && m == clusters - 1) {
          // The last cluster starts at opt[k][b] >= opt[k-1][rHi], which this sweep finds first:
          // the rows before opt[k-1][rHi] - 1 cannot precede it, so skip them.
          sweepFloored(rHi, rHi, cLo, cHi, top);
          int lastFloor = arg[OFF + rHi];
          int from = Math.max(rLo, lastFloor - 1);
          sweepFloored(from, rHi - 1, cLo, lastFloor, top);
          rLo = from;
        } else if (sweep) {
          sweepCost = sweepFloored(rLo, rHi, cLo, cHi, top);
        } else {
          evaluations = 0;
          divideAndConquer(rLo, rHi, cLo, cHi, m >= 3 ? argPrev : null, top);
          divideCost = evaluations;
          if (m >= 3) {
            sweepCost = sweepEvaluations(rLo, rHi, cLo, cHi, top);
          }
        }
        if (withTable) {
          System.arraycopy(arg, OFF + rLo, table, offset[m] + (rLo - lo[m]), rHi - rLo + 1);
        } else {
          for (int s = 0; s < q && tracked[s] < m; s++) {
            int[] from = trackPrev[s];
            int[] to = trackCur[s];
            if (tracked[s] == m - 1) {
              for (int j = rLo; j <= rHi; j++) {
                to[j] = arg[OFF + j] - 1;
              }
            } else {
              for (int j = rLo; j <= rHi; j++) {
                to[j] = from[arg[OFF + j] - 1];
              }
            }
            trackPrev[s] = to;
            trackCur[s] = from;
          }
        }
        swapRows();
        int[] t = argPrev;
        argPrev = arg;
        arg = t;
        top = rHi;
      }
      int lastLo = lo[clusters - 1] + 1;
      if (floored && clusters >= 3) {
        // opt[k][b] >= opt[k-1][b] >= opt[k-1][top], the last row of layer k-1.
        lastLo = Math.max(lastLo, argPrev[OFF + top]);
      }
      int last = scanRow(b, lastLo, Math.min(top + 1, b));
      double optimum = cur[OFF + b];
      if (!(optimum <= Math.min(windows.bound(), limit))) {
        return false;
      }

      if (withTable) {
        // Walk back: cluster m (1-based) starts at i, so cluster m-1 ends at i-1.
        int i = last;
        starts[first + clusters - 1] = i;
        for (int m = clusters - 1; m >= 2; m--) {
          int j = i - 1;
          i = table[offset[m] + (j - lo[m])];
          starts[first + m - 1] = i;
        }
        starts[first] = a;
        return true;
      }
      int[] ends = new int[q];
      for (int s = 0; s < q; s++) {
        ends[s] = tracked[s] == clusters - 1 ? last - 1 : trackPrev[s][last - 1];
      }
      // The tracking rows are reused by the sub-problems, so the ends were copied out first.
      int from = a;
      int done = 0;
      for (int s = 0; s < q; s++) {
        solve(from, ends[s], tracked[s] - done, first + done);
        from = ends[s] + 1;
        done = tracked[s];
      }
      solve(from, b, clusters - done, first + done);
      return true;
    }

    /** The last j in [from, to] with cost(a, j) <= limit (from - 1 if none): layer 1's rows. */
    private int lastWithin(int a, int from, int to, double limit) {
      int low = from - 1; // cost(a, low) <= limit, or low = from - 1
      int high = to;
      while (low < high) {
        int mid = (low + high + 1) >>> 1;
        if (fineCost(a, mid) <= limit) {
          low = mid;
        } else {
          high = mid - 1;
        }
      }
      return low;
    }

    /**
     * The last row of the current layer, in [rLo, rHi], whose D is within limit; rows up to the
     * previous layer's last + 1 (cHi) are (a single-value last cluster costs nothing). Found by
     * probing rows above that, doubling the step, then bisecting: D grows with the row.
     */
    private int lastRowWithin(double limit, int rLo, int rHi, int cLo, int cHi, int top) {
      int good = Math.max(rLo, Math.min(cHi, rHi));
      int bad = rHi + 1;
      for (int step = 1; good + step < bad; step *= 2) {
        if (probe(good + step, cLo, cHi, top) <= limit) {
          good += step;
        } else {
          bad = good + step;
          break;
        }
      }
      while (bad - good > 1) {
        int mid = (good + bad) >>> 1;
        if (probe(mid, cLo, cHi, top) <= limit) {
          good = mid;
        } else {
          bad = mid;
        }
      }
      return good;
    }

    /**
     * D of row r in the current layer, floored by the previous layer's argmins up to its last row
     * top (none if top < 0: layer 1 has no argmins).
     */
    private double probe(int r, int cLo, int cHi, int top) {
      int hi = Math.min(cHi, r);
      int lo = top < 0 ? cLo : Math.min(Math.max(cLo, argPrev[OFF + Math.min(r, top)]), hi);
      scanRow(r, lo, hi);
      return cur[OFF + r];
    }

    /** Rounding allowance for comparing DP values with a directly computed clustering cost. */
    private double tolerance(int a, int b) {
      return 1e-9 * fineCost(a, b) + 1e-12 * f2[n] + Double.MIN_NORMAL;
    }

    /**
     * The cost of a good clustering of [a, b] into at most {@code clusters} clusters: equal-weight
     * groups refined by Lloyd steps (boundaries at the midpoints of adjacent means) until they
     * settle. Empty clusters just mean fewer clusters, whose cost still bounds the optimum.
     */
    private double heuristicCost(int a, int b, int clusters) {
      int[] s = new int[clusters + 1]; // cluster c is [s[c], s[c+1])
      double total = fw[b + 1] - fw[a];
      for (int c = 0; c < clusters; c++) {
        s[c] = firstAbove(fw, a, b + 1, fw[a] + total * c / clusters);
      }
      s[clusters] = b + 1;
      double[] means = new double[clusters];
      double best = Double.POSITIVE_INFINITY;
      for (int iteration = 0; iteration < 20; iteration++) {
        double cost = 0;
        for (int c = 0; c < clusters; c++) {
          if (s[c + 1] > s[c]) {
            means[c] = (f1[s[c + 1]] - f1[s[c]]) / (fw[s[c + 1]] - fw[s[c]]);
            cost += fineCost(s[c], s[c + 1] - 1);
          }
        }
        best = Math.min(best, cost);
        boolean moved = false;
        for (int c = 1; c < clusters; c++) {
          int start = firstAboveValue(a, b + 1, (means[c - 1] + means[c]) / 2);
          start = Math.max(start, s[c - 1]); // keep them ordered if a mean is stale
          moved |= start != s[c];
          s[c] = start;
        }
        if (!moved) {
          break;
        }
      }
      return best;
    }

    /** The first t in [from, to) with p[t + 1] > target, or to. */
    private static int firstAbove(double[] p, int from, int to, double target) {
      int low = from;
      int high = to;
      while (low < high) {
        int mid = (low + high) >>> 1;
        if (p[mid + 1] > target) {
          high = mid;
        } else {
          low = mid + 1;
        }
      }
      return low;
    }

    /** The first value index in [from, to) whose centred value exceeds t, or to. */
    private int firstAboveValue(int from, int to, double t) {
      int low = from;
      int high = to;
      while (low < high) {
        int mid = (low + high) >>> 1;
        if (values[mid] - mean > t) {
          high = mid;
        } else {
          low = mid + 1;
        }
      }
      return low;
    }

    private void ensureTracks(int q) {
      if (trackPrev != null && trackPrev.length >= q) {
        return;
      }
      int have = trackPrev == null ? 0 : trackPrev.length;
      int[][] prevTracks = new int[q][];
      int[][] curTracks = new int[q][];
      for (int s = 0; s < q; s++) {
        prevTracks[s] = s < have ? trackPrev[s] : new int[n];
        curTracks[s] = s < have ? trackCur[s] : new int[n];
      }
      trackPrev = prevTracks;
      trackCur = curTracks;
    }

    // ---------------------------------------------------------------------------------------------
    // Pruning

    /**
     * Windows from the coarse lower bounds and the upper bound (see the class comment), or null if
     * not even the first level could be used. Levels go from about 4k groups to groups of at most
     * {@link Options#finalGroupSize()} values, each level's relaxed DP restricted to the windows
     * of the level before; a level whose bounds come out inconsistent (rounding) is ignored.
     */
    private Windows prunedWindows(int a, int b, int clusters) {
      int size = b - a + 1;
      Windows windows = Windows.natural(a, b, clusters);
      boolean refined = false;
      int g = options.groupSize() > 0 ? options.groupSize() : size / (4 * clusters);
      int[] q = uniformGroups(a, b, Math.max(2, g));
      int perCluster = 16;
      while (q != null) {
        Windows next = refineWindows(a, b, clusters, windows, q);
        if (next == null) {
          break;
        }
        windows = next;
        refined = true;
        if (maxGroupSize(q) <= options.finalGroupSize()) {
          break;
        }
        // Next level: groups a fixed fraction of each cluster of the best solution so far, so a
        // dropped group costs about the same small share of every cluster's SSE (equal counts
        // would make it a large share for the small clusters of sparse tails).
        q = adaptiveGroups(b, windows.starts(), perCluster);
        perCluster = (int) Math.min(1 << 30, 4L * perCluster);
      }
      return refined ? windows : null;
    }

    /** Group bounds {@code q[0] = a < ... < q[M] = b+1} of M ≥ 2 groups of about g values. */
    private static int[] uniformGroups(int a, int b, int g) {
      int size = b - a + 1;
      int groups = (size + g - 1) / g;
      if (groups < 2) {
        return null;
      }
      int[] q = new int[groups + 1];
      for (int t = 0; t <= groups; t++) {
        q[t] = a + (int) ((long) t * size / groups);
      }
      return q;
    }

    /**
     * {@code perCluster} equal-count groups (or one per value, if fewer) inside each non-empty
     * cluster of {@code starts[1..K]} ({@code starts[K+1] = b+1}).
     */
    private static int[] adaptiveGroups(int b, int[] starts, int perCluster) {
      int clusters = starts.length - 2;
      long groups = 0;
      for (int m = 1; m <= clusters; m++) {
        groups += partsOf(starts[m + 1] - starts[m], perCluster);
      }
      if (groups < 2 || groups > Integer.MAX_VALUE - 2) {
        return null;
      }
      int[] q = new int[(int) groups + 1];
      int t = 0;
      for (int m = 1; m <= clusters; m++) {
        int from = starts[m];
        int count = starts[m + 1] - from;
        int parts = partsOf(count, perCluster);
        for (int p = 0; p < parts; p++) {
          q[t++] = from + (int) ((long) p * count / parts);
        }
      }
      q[t] = b + 1;
      return q;
    }

    private static int partsOf(int count, int perCluster) {
      return Math.min(count, perCluster);
    }

    private static int maxGroupSize(int[] q) {
      int max = 0;
      for (int t = 0; t + 1 < q.length; t++) {
        max = Math.max(max, q[t + 1] - q[t]);
      }
      return max;
    }

    /**
     * One level: the relaxed DP over the groups {@code q} ({@code q[0] = a < ... < q[M] = b+1}),
     * from the left and from the right, restricted to {@code windows}; returns the narrower windows
     * it proves, or null if its bounds are inconsistent.
     *
     * <p>The relaxed DP: {@code R[t][r]} bounds from below the cost of any t clusters (within the
     * windows) whose last one ends inside group r+1, counting only whole groups: {@code R[1][r] =
     * cost(groups 0..r)}, {@code R[t][r] = min over i ≤ r+2 of R[t-1][i-2] + cost(groups i..r)}
     * (0 when i > r). A real solution whose cluster t ends at value e maps onto rows
     * {@code group(e) − 1} with group {@code group(e)} dropped at each boundary, so {@code D[m][j]
     * ≥ R[m][group(j) − 1]}; the same from the right bounds the rest.
     */
    private Windows refineWindows(int a, int b, int clusters, Windows windows, int[] q) {
      int size = b - a + 1;
      int groups = q.length - 1; // group t is values [q[t], q[t+1])
      int[] lo = windows.lo();
      int[] hi = windows.hi();

      // Forward: rows of layer t are group(j) - 1 for the window's j.
      int[] rLo = new int[clusters + 1];
      int[] rHi = new int[clusters + 1];
      for (int t = 1; t < clusters; t++) {
        rLo[t] = groupOf(q, lo[t]) - 1;
        rHi[t] = groupOf(q, hi[t]) - 1;
      }
      rLo[clusters] = groups - 1;
      rHi[clusters] = groups - 1;
      for (int t = 2; t <= clusters; t++) {
        rLo[t] = Math.max(rLo[t], rLo[t - 1]); // the first column, rLo[t-1] + 2, must be finite
        if (rLo[t] > rHi[t]) {
          return null;
        }
      }
      int[] lowerAt = new int[clusters]; // layer t's bounds start at lower[lowerAt[t]]
      int[] choiceAt = new int[clusters]; // layer t's argmins start at choice[choiceAt[t]]
      int lowerSize = 0;
      int choiceSize = 0;
      for (int t = 1; t < clusters; t++) {
        lowerAt[t] = lowerSize;
        lowerSize += rHi[t] - rLo[t] + 1;
        if (t >= 2) {
          choiceAt[t] = choiceSize;
          choiceSize += rHi[t] - rLo[t] + 1;
        }
      }
      float[] lower = new float[lowerSize];
      int[] choice = new int[choiceSize];
      double[] cw = new double[groups + 1];
      double[] c1 = new double[groups + 1];
      double[] c2 = new double[groups + 1];
      for (int t = 0; t <= groups; t++) {
        cw[t] = fw[q[t]];
        c1[t] = f1[q[t]];
        c2[t] = f2[q[t]];
      }
      useRelaxed(cw, c1, c2);
      firstRelaxedLayer(rLo[1], rHi[1]);
      storeLower(lower, lowerAt[1], rLo[1], rHi[1]);
      int lastChoice = -1;
      for (int t = 2; t <= clusters; t++) {
        int cLo = rLo[t - 1] + 2;
        int cHi = Math.min(rHi[t - 1] + 2, rHi[t] + 2);
        if (t < clusters) {
          rowMinima(rLo[t], rHi[t], cLo, cHi);
          System.arraycopy(arg, OFF + rLo[t], choice, choiceAt[t], rHi[t] - rLo[t] + 1);
        } else {
          lastChoice = scanRow(groups - 1, cLo, cHi);
        }
        swapRows();
        if (t < clusters) {
          storeLower(lower, lowerAt[t], rLo[t], rHi[t]);
        }
      }
      double relaxedOptimum = prev[OFF + groups - 1];

      // Upper bound: the relaxed solution as a real clustering, each dropped group joining the
      // next cluster. Walking back, cluster t takes groups [i-1, r] and the state before it is
      // (t-1, i-2). Repeated starts are empty clusters: a k' < k clustering is still an upper
      // bound, as splitting clusters never costs more.
      int[] bounds = new int[clusters + 2];
      bounds[clusters + 1] = b + 1;
      int i = lastChoice;
      for (int t = clusters; t >= 2; t--) {
        if (t < clusters) {
          i = choice[choiceAt[t] + (i - 2) - rLo[t]];
        }
        bounds[t] = q[i - 1]; // columns are >= 1: the first is rLo[t-1] + 2 >= 1
      }
      bounds[1] = a;
      double upper = windows.upper();
      double levelUpper = 0;
      for (int m = 1; m <= clusters; m++) {
        if (bounds[m + 1] > bounds[m]) {
          levelUpper += fineCost(bounds[m], bounds[m + 1] - 1);
        }
      }
      int[] bestStarts = windows.starts();
      if (levelUpper < upper || bestStarts == null) {
        upper = Math.min(upper, levelUpper);
        bestStarts = bounds;
      }
      double limit = upper + tolerance(a, b);
      if (!(relaxedOptimum <= limit)) {
        return null;
      }

      // Backward, on the groups in reverse order: layer u bounds the last u clusters, which start
      // after j for the j of window m = clusters - u, at reversed row groups - 2 - group(j+1).
      double[] rw = new double[groups + 1];
      double[] r1 = new double[groups + 1];
      double[] r2 = new double[groups + 1];
      for (int u = 0; u <= groups; u++) {
        rw[u] = fw[b + 1] - fw[q[groups - u]];
        r1[u] = f1[b + 1] - f1[q[groups - u]];
        r2[u] = f2[b + 1] - f2[q[groups - u]];
      }
      int[] bLo = new int[clusters];
      int[] bHi = new int[clusters];
      for (int u = 1; u < clusters; u++) {
        int m = clusters - u;
        bLo[u] = groups - 2 - groupOf(q, hi[m] + 1);
        bHi[u] = groups - 2 - groupOf(q, lo[m] + 1);
        if (u >= 2) {
          bLo[u] = Math.max(bLo[u], bLo[u - 1]);
        }
        if (bLo[u] > bHi[u]) {
          return null;
        }
      }
      int[] newLo = new int[clusters + 1];
      int[] newHi = new int[clusters + 1];
      useRelaxed(rw, r1, r2);
      firstRelaxedLayer(bLo[1], bHi[1]);
      for (int u = 1; u < clusters; u++) {
        if (u >= 2) {
          rowMinima(bLo[u], bHi[u], bLo[u - 1] + 2, Math.min(bHi[u - 1] + 2, bHi[u] + 2));
          swapRows();
        }
        int m = clusters - u;
        int keptLo = Integer.MAX_VALUE;
        int keptHi = Integer.MIN_VALUE;
        int j = lo[m];
        while (j <= hi[m]) {
          int group = groupOf(q, j);
          int last = q[group + 1] - 1; // j+1 leaves the group after this value
          int end = Math.min(hi[m], last);
          int r = group - 1;
          double before =
              r >= rLo[m] && r <= rHi[m]
                  ? lower[lowerAt[m] + r - rLo[m]]
                  : Double.POSITIVE_INFINITY;
          int interiorEnd = Math.min(end, last - 1);
          if (j <= interiorEnd) {
            // j+1 in the same group: the rest starts in it.
            int rr = groups - 2 - group;
            if (rr >= bLo[u] && rr <= bHi[u] && before + prev[OFF + rr] <= limit) {
              keptLo = Math.min(keptLo, j);
              keptHi = Math.max(keptHi, interiorEnd);
            }
          }
          if (end == last) {
            int rr = groups - 3 - group;
            if (rr >= bLo[u] && rr <= bHi[u] && before + prev[OFF + rr] <= limit) {
              keptLo = Math.min(keptLo, last);
              keptHi = Math.max(keptHi, last);
            }
          }
          j = end + 1;
        }
        if (keptLo > keptHi) {
          return null;
        }
        newLo[m] = keptLo;
        newHi[m] = keptHi;
      }
      newLo[clusters] = b;
      newHi[clusters] = b;
      // Rows no later layer can extend, or that no earlier layer can reach, go too.
      for (int m = clusters - 1; m >= 1; m--) {
        newHi[m] = Math.min(newHi[m], newHi[m + 1] - 1);
      }
      for (int m = 2; m <= clusters; m++) {
        newLo[m] = Math.max(newLo[m], newLo[m - 1] + 1);
      }
      for (int m = 1; m <= clusters; m++) {
        if (newLo[m] > newHi[m]) {
          return null;
        }
      }
      return new Windows(newLo, newHi, upper, limit, bestStarts, false);
    }

    /** The group containing value j: the last t with q[t] <= j. */
    private static int groupOf(int[] q, int j) {
      int low = 0;
      int high = q.length - 2;
      while (low < high) {
        int mid = (low + high + 1) >>> 1;
        if (q[mid] <= j) {
          low = mid;
        } else {
          high = mid - 1;
        }
      }
      return low;
    }

    private void useRelaxed(double[] w, double[] s1, double[] s2) {
      pw = w;
      p1 = s1;
      p2 = s2;
      lag = 2;
      reach = 2;
    }

    /** Layer 1 of a relaxed DP into prev, rows [rLo, rHi]: the cost of groups [0, r]. */
    private void firstRelaxedLayer(int rLo, int rHi) {
      for (int r = rLo; r <= rHi; r++) {
        prev[OFF + r] = r < 0 ? 0 : segmentCost(pw, p1, p2, 0, r);
      }
    }

    /** prev rows [rLo, rHi] as floats rounded down, so still lower bounds. */
    private void storeLower(float[] lower, int at, int rLo, int rHi) {
      for (int r = rLo; r <= rHi; r++) {
        double v = prev[OFF + r];
        float x = (float) v;
        lower[at + r - rLo] = x > v ? Math.nextDown(x) : x;
      }
    }

    // ---------------------------------------------------------------------------------------------
    // Row minima of the current DP matrix

    /** Leftmost minimum of row r over columns [cLo, cHi] into cur and arg; returns the column. */
    private int scanRow(int r, int cLo, int cHi) {
      if (lag == 1) {
        return scanFineRow(r, cLo, cHi);
      }
      int best = cLo;
      double bestValue = value(r, cLo);
      for (int i = cLo + 1; i <= cHi; i++) {
        double v = value(r, i);
        if (v < bestValue) {
          bestValue = v;
          best = i;
        }
      }
      cur[OFF + r] = bestValue;
      arg[OFF + r] = best;
      return best;
    }

    /**
     * {@link #scanRow} for the fine DP, where this is the hot loop: every column is finite there
     * (cLo <= cHi <= r) and every segment has weight, so {@link #value}'s checks are dropped; the
     * arithmetic, and so the result, is the same.
     */
    private int scanFineRow(int r, int cLo, int cHi) {
      if (cHi - cLo >= 32) {
        return scanFineLongRow(r, cLo, cHi);
      }
      double[] fw = this.fw;
      double[] f1 = this.f1;
      double[] f2 = this.f2;
      double[] prev = this.prev;
      double w = fw[r + 1];
      double s1 = f1[r + 1];
      double s2 = f2[r + 1];
      int best = cLo;
      double bestValue = Double.POSITIVE_INFINITY;
      for (int i = cLo; i <= cHi; i++) {
        double d1 = s1 - f1[i];
        double c = (s2 - f2[i]) - d1 * d1 / (w - fw[i]);
        double v = prev[OFF - 1 + i] + (c > 0 ? c : 0);
        if (v < bestValue) {
          bestValue = v;
          best = i;
        }
      }
      cur[OFF + r] = bestValue;
      arg[OFF + r] = best;
      return best;
    }

    /**
     * {@link #scanFineRow} for long rows: the segment costs first, in a loop the JIT vectorizes,
     * then the minimum (about twice as fast from a few dozen columns on).
     */
    private int scanFineLongRow(int r, int cLo, int cHi) {
      double[] fw = this.fw;
      double[] f1 = this.f1;
      double[] f2 = this.f2;
      double[] costs = this.costs;
      double w = fw[r + 1];
      double s1 = f1[r + 1];
      double s2 = f2[r + 1];
      for (int i = cLo; i <= cHi; i++) {
        double d1 = s1 - f1[i];
        costs[i] = (s2 - f2[i]) - d1 * d1 / (w - fw[i]);
      }
      double[] prev = this.prev;
      int best = cLo;
      double bestValue = Double.POSITIVE_INFINITY;
      for (int i = cLo; i <= cHi; i++) {
        double c = costs[i];
        double v = prev[OFF - 1 + i] + (c > 0 ? c : 0);
        if (v < bestValue) {
          bestValue = v;
          best = i;
        }
      }
      cur[OFF + r] = bestValue;
      arg[OFF + r] = best;
      return best;
    }

    /**
     * {@link #scanFineRow} without a branch on the comparison, for short rows whose range does not
     * depend on the previous row's result (the levels of {@link #divideAndConquer}). There the
     * branch, taken until the minimum and not after, mispredicts about once per short row; without
     * it the rows overlap (about 20% faster). Long rows are faster with the branch (fewer
     * instructions, well predicted). In {@link #sweepFloored} each row's range depends on the
     * previous row's argmin, and predicting it is better than waiting for it.
     */
    private int scanFineRowBranchFree(int r, int cLo, int cHi) {
      double[] fw = this.fw;
      double[] f1 = this.f1;
      double[] f2 = this.f2;
      double[] prev = this.prev;
      double w = fw[r + 1];
      double s1 = f1[r + 1];
      double s2 = f2[r + 1];
      int best = cLo;
      double bestValue = Double.POSITIVE_INFINITY;
      for (int i = cLo; i <= cHi; i++) {
        double d1 = s1 - f1[i];
        double c = (s2 - f2[i]) - d1 * d1 / (w - fw[i]);
        double v = prev[OFF - 1 + i] + Math.max(c, 0.0);
        // take = -1 exactly when v < bestValue: values are never NaN, and the difference of two
        // distinct doubles is never zero, so its sign bit decides.
        int take = (int) (Double.doubleToRawLongBits(v - bestValue) >> 63);
        best = (i & take) | (best & ~take);
        bestValue = Math.min(v, bestValue);
      }
      cur[OFF + r] = bestValue;
      arg[OFF + r] = best;
      return best;
    }

    /**
     * Row minima of rows [rLo, rHi] over columns [cLo, cHi] into cur and arg. Requires column cLo
     * to be finite in row rLo ({@code cLo <= rLo + reach}), so that every row has a finite entry.
     */
    private void rowMinima(int rLo, int rHi, int cLo, int cHi) {
      if (options.rowMinima() == RowMinima.DIVIDE_AND_CONQUER) {
        divideAndConquer(rLo, rHi, cLo, cHi, null, 0);
        return;
      }
      int rows = rHi - rLo + 1;
      int columns = cHi - cLo + 1;
      // Level 0 holds `columns`, every deeper level at most as many columns as rows, which halve.
      int need = columns + 2 * rows + 64;
      if (cols == null || cols.length < need) {
        cols = new int[Math.max(need, cols == null ? 0 : cols.length * 3 / 2)];
      }
      if (stackValue == null || stackValue.length < rows + 1) {
        int grown = stackValue == null ? 0 : stackValue.length * 3 / 2;
        stackValue = new double[Math.max(rows + 1, grown)];
      }
      for (int t = 0; t < columns; t++) {
        cols[t] = cLo + t;
      }
      smawk(rLo, 1, rows, 0, columns, columns);
    }

    /**
     * SMAWK on the rows {@code rLo + t·stride} for {@code t ∈ [0, rowCount)} and the ascending
     * columns {@code cols[colOff .. colOff+colCount)}; {@code cols} from {@code freeOff} on is
     * free.
     */
    private void smawk(int rLo, int stride, int rowCount, int colOff, int colCount, int freeOff) {
      int[] cols = this.cols;
      // REDUCE: keep at most rowCount columns that can still hold a row minimum. Stack entry s is
      // a candidate for the rows from s on and is compared at row s. Ties keep the left column.
      int top = 0;
      if (colCount <= rowCount) {
        // Not needed for the linear bound when there are no more columns than rows.
        System.arraycopy(cols, colOff, cols, freeOff, colCount);
        top = colCount;
      } else {
        double[] stackValue = this.stackValue;
        for (int c = 0; c < colCount; c++) {
          int col = cols[colOff + c];
          while (top > 0) {
            int row = rLo + (top - 1) * stride;
            if (stackValue[top - 1] <= value(row, col)) {
              break;
            }
            top--;
          }
          if (top < rowCount) {
            cols[freeOff + top] = col;
            stackValue[top] = value(rLo + top * stride, col);
            top++;
          }
        }
      }
      int reducedOff = freeOff;
      int reducedCount = top;
      if (rowCount > 1) {
        smawk(rLo + stride, 2 * stride, rowCount / 2, reducedOff, reducedCount, freeOff + top);
      }
      // Even rows: the minimum lies between the minima of the odd rows around them. The first
      // candidate of each is finite: the previous odd row's minimum, or for the first row the
      // first column, which REDUCE only replaces by a column that is finite and smaller there.
      int c = reducedOff;
      int end = reducedOff + reducedCount - 1;
      for (int t = 0; t < rowCount; t += 2) {
        int row = rLo + t * stride;
        int stop = t + 1 < rowCount ? arg[OFF + row + stride] : cols[end];
        int bestCol = cols[c];
        double best = value(row, bestCol);
        while (cols[c] != stop) {
          c++;
          int col = cols[c];
          double v = value(row, col);
          if (v < best) {
            best = v;
            bestCol = col;
          }
        }
        arg[OFF + row] = bestCol;
        cur[OFF + row] = best;
      }
    }

    /**
     * Row minima of rows [rLo, rHi] with the minimum known to lie in columns [cLo, cHi] and, if
     * {@code floor} is not null, at or after {@code floor[OFF + min(r, floorHi)]} in row r.
     *
     * <p>Divide and conquer over the monotone argmins, level by level instead of recursively: with
     * rows numbered from 0, the level of stride s solves rows s-1, 3s-1, 5s-1, ..., each between
     * the argmins of its neighbours s rows away, solved at coarser levels. The rows of one level
     * are independent, so the processor can overlap them.
     */
    private void divideAndConquer(int rLo, int rHi, int cLo, int cHi, int[] floor, int floorHi) {
      int rows = rHi - rLo + 1;
      for (int s = Integer.highestOneBit(rows); s >= 1; s >>= 1) {
        for (int p = s - 1; p < rows; p += 2 * s) {
          int r = rLo + p;
          int lo = p >= s ? arg[OFF + r - s] : cLo;
          int hi = Math.min(p + s < rows ? arg[OFF + r + s] : cHi, r + reach);
          if (floor != null) {
            // min: rounding could in principle cross the bounds; keep a finite column.
            lo = Math.min(Math.max(lo, floor[OFF + Math.min(r, floorHi)]), hi);
          }
          evaluations += hi - lo + 1;
          if (lag == 1 && hi - lo < 16) {
            scanFineRowBranchFree(r, lo, hi);
          } else {
            scanRow(r, lo, hi);
          }
        }
      }
    }

    /**
     * Row minima of rows [rLo, rHi] over columns [cLo, cHi], row r searching only from
     * {@code argPrev[OFF + min(r, floorHi)]} up to the argmin of row r + 1 (Knuth's bounds);
     * returns the number of evaluations.
     */
    private long sweepFloored(int rLo, int rHi, int cLo, int cHi, int floorHi) {
      long cost = 0;
      int ceiling = cHi;
      for (int r = rHi; r >= rLo; r--) {
        int hi = Math.min(ceiling, r + reach);
        int lo = Math.min(Math.max(cLo, argPrev[OFF + Math.min(r, floorHi)]), hi);
        cost += hi - lo + 1;
        ceiling = scanRow(r, lo, hi);
      }
      return cost;
    }

    /** The evaluations {@link #sweepFloored} would have taken for the argmins now in arg. */
    private long sweepEvaluations(int rLo, int rHi, int cLo, int cHi, int floorHi) {
      long cost = 0;
      int ceiling = cHi;
      for (int r = rHi; r >= rLo; r--) {
        int hi = Math.min(ceiling, r + reach);
        int lo = Math.min(Math.max(cLo, argPrev[OFF + Math.min(r, floorHi)]), hi);
        cost += hi - lo + 1;
        ceiling = arg[OFF + r];
      }
      return cost;
    }
  }
}

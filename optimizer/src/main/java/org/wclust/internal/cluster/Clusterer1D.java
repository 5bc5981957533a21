package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Per-tensor one-dimensional clustering with a choice of centroid initialisation
 * ({@link InitMethod}), optionally refined by Lloyd iterations.
 *
 * <p>Stateless and thread-safe: tensors may be clustered in parallel.
 */
public final class Clusterer1D {

  private Clusterer1D() {}

  /**
   * Clusters one tensor's values into at most {@code k} centroids.
   *
   * <p>With min and max the smallest and largest value, m the number of distinct values and N the
   * number of values:
   *
   * <ul>
   *   <li>If m ≤ k the values are kept for every method: the centroids are the distinct values
   *       ({@link Clustering#keptOriginalValues()}), as {@link KMeans1D}.
   *   <li>{@link InitMethod#LINEAR}: {@code centroids[i] = (float) (min + (max − min) · i /
   *       (k − 1))} evaluated in double, left to right, except {@code centroids[0] = min} and
   *       {@code centroids[k−1] = max} exactly.
   *   <li>{@link InitMethod#RANDOM}: {@code (float) (min + (max − min) · u)} for k draws {@code u =
   *       nextDouble()} of {@code new SplittableRandom(seed)}, then sorted; so in [min, max].
   *   <li>{@link InitMethod#DENSITY}: the (i + 0.5)/k quantiles, lower empirical, no
   *       interpolation: {@code centroids[i] = sorted[floor((2i + 1) · N / (2k))]}, where
   *       {@code sorted} is the values ascending with duplicates (and -0.0 read as +0.0). Values
   *       repeated more than N/k times give repeated centroids.
   *   <li>{@link InitMethod#KMEANS_PP}: k-means++ seeding on the distinct values weighted by
   *       multiplicity; with {@code refine} the result equals {@link KMeans1D#cluster(float[], int,
   *       long)} for the same seed.
   *   <li>{@link InitMethod#OPTIMAL}: the partition with the minimum SSE ({@link OptimalKMeans1D});
   *       {@code refine} is ignored (an optimum is already a Lloyd fixed point), iterations is 0
   *       and exactly k non-empty clusters with strictly ascending centroids are returned.
   *   <li>{@link InitMethod#KNEE}: the entropy-constrained clustering of {@link RateDistortion}
   *       with the default rate weight, values at their nearest centroid; k non-empty (rarely fewer)
   *       clusters, ascending; {@code refine} is ignored.
   * </ul>
   *
   * <p>Refinement, for every method but optimal:
   *
   * <ul>
   *   <li>{@code refine = true}: Lloyd iterations from the initial centroids as
   *       {@link KMeans1D}, at most {@link KMeans1D#DEFAULT_MAX_ITERATIONS}; empty clusters are
   *       re-seeded onto the worst-fitting values, so a converged result has k non-empty clusters.
   *   <li>{@code refine = false} (tfmot's behaviour): the centroids stay exactly as initialised
   *       (ascending, possibly repeated) and each value goes to the nearest one, ties to the lower;
   *       iterations is 0. Centroids that get no value — in a gap of the distribution, or a
   *       repeat — are kept and counted in {@link Clustering#emptyClusters()}.
   * </ul>
   *
   * <p>{@link Clustering#sse()} is always the SSE of {@link Clustering#reconstruct()} against the
   * input. The input is not modified.
   *
   * @param values the tensor's values; finite, at least one
   * @param k the number of clusters, at least 2
   * @param init how the initial centroids are placed
   * @param refine whether Lloyd iterations follow the initialisation (ignored for optimal)
   * @param seed seed of the random and k-means++ initialisations; the result is deterministic for
   *     the same arguments
   * @throws IllegalArgumentException if {@code k < 2}, {@code values} is empty or holds NaN or an
   *     infinity
   */
  public static Clustering cluster(
      float[] values, int k, InitMethod init, boolean refine, long seed) {
    return cluster(values, k, init, refine, seed, RateDistortion.KNEE_WEIGHT);
  }

  /**
   * As {@link #cluster(float[], int, InitMethod, boolean, long)}; {@link InitMethod#KNEE} uses
   * {@code rateWeight} ({@link RateDistortion}), the other methods ignore it.
   */
  public static Clustering cluster(
      float[] values, int k, InitMethod init, boolean refine, long seed, double rateWeight) {
    return cluster(values, k, init, refine, seed, rateWeight, null, 0);
  }

  /**
   * As {@link #cluster(float[], int, InitMethod, boolean, long, double)}; {@link InitMethod#OPTIMAL} and
   * {@link InitMethod#KNEE} take the optimal partition from {@code partitions}' group {@code group} when it
   * holds the one of these values, and record it there otherwise (null: solve, record nothing). The result
   * is the same either way.
   */
  static Clustering cluster(float[] values, int k, InitMethod init, boolean refine, long seed, double rateWeight,
      OptimalPartitions partitions, int group) {
    checkNotNull(init, "init");
    KMeans1D.checkArguments(values, k, KMeans1D.DEFAULT_MAX_ITERATIONS);
    KMeans1D.Distinct distinct = KMeans1D.Distinct.of(values);
    if (distinct.size() <= k) {
      return KMeans1D.keepOriginalValues(distinct);
    }
    if (init == InitMethod.OPTIMAL || init == InitMethod.KNEE) {
      int[] starts = partitions == null ? OptimalKMeans1D.segmentStarts(distinct.values, distinct.counts, k)
          : partitions.starts(group, values, distinct, k);
      if (init == InitMethod.OPTIMAL) {
        return OptimalKMeans1D.fromStarts(distinct, starts);
      }
      // The knee needs the optimum's SSE; its clustering only where the knee returns it.
      return RateDistortion.atWeight(distinct, k, rateWeight, OptimalKMeans1D.sseOfStarts(distinct, starts),
          () -> OptimalKMeans1D.fromStarts(distinct, starts));
    }
    float[] centroids = initialCentroids(distinct, k, init, seed);
    if (refine) {
      return KMeans1D.lloyd(distinct, centroids, KMeans1D.DEFAULT_MAX_ITERATIONS);
    }
    return assignToFixedCentroids(distinct, centroids);
  }

  /** The ascending initial centroids of a non-optimal method; requires more than k values. */
  static float[] initialCentroids(KMeans1D.Distinct d, int k, InitMethod init, long seed) {
    float min = d.values[0];
    float max = d.values[d.size() - 1];
    float[] centroids = new float[k];
    switch (init) {
      case LINEAR -> {
        double lo = min;
        double range = (double) max - lo;
        for (int i = 1; i < k - 1; i++) {
          centroids[i] = (float) (lo + range * i / (k - 1));
        }
        centroids[0] = min;
        centroids[k - 1] = max;
      }
      case RANDOM -> {
        SplittableRandom random = new SplittableRandom(seed);
        double lo = min;
        double range = (double) max - lo;
        for (int i = 0; i < k; i++) {
          centroids[i] = (float) (lo + range * random.nextDouble());
        }
      }
      case DENSITY -> {
        long total = 0;
        for (int c : d.counts) {
          total += c;
        }
        int j = 0;
        long below = 0; // values before distinct value j
        for (int i = 0; i < k; i++) {
          // floor((i + 0.5) N / k) in exact integer arithmetic; < N because 2i + 1 < 2k.
          long rank = (2L * i + 1) * total / (2L * k);
          while (below + d.counts[j] <= rank) {
            below += d.counts[j];
            j++;
          }
          centroids[i] = d.values[j];
        }
      }
      case KMEANS_PP -> centroids = KMeans1D.kMeansPlusPlus(d, k, new SplittableRandom(seed));
      case OPTIMAL, KNEE -> throw new IllegalArgumentException(init.cliName() + " has no initial centroids");
      default -> throw new AssertionError(init);
    }
    // A no-op except for random draws (and a guard against rounding in linear).
    Arrays.sort(centroids);
    return centroids;
  }

  /**
   * Nearest-centroid assignment, ties to the lower index, with the centroids left as they are: of
   * several equal centroids only the first gets members, the others count as empty.
   */
  private static Clustering assignToFixedCentroids(KMeans1D.Distinct d, float[] centroids) {
    int[] assignment = new int[d.size()];
    KMeans1D.assign(d.values, centroids, assignment);
    // assign() resolves ties between equal centroids by the midpoint search, which can pick a
    // later copy; move every value to the first copy.
    int[] firstEqual = new int[centroids.length];
    for (int c = 1; c < centroids.length; c++) {
      firstEqual[c] = centroids[c] == centroids[c - 1] ? firstEqual[c - 1] : c;
    }
    for (int j = 0; j < assignment.length; j++) {
      assignment[j] = firstEqual[assignment[j]];
    }
    int[] indices = new int[d.valueIndex.length];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = assignment[d.valueIndex[i]];
    }
    double sse = 0;
    for (int j = 0; j < d.size(); j++) {
      double e = d.values[j] - (double) centroids[assignment[j]];
      sse += d.counts[j] * (e * e);
    }
    // The five-component constructor counts the centroids nothing was assigned to.
    return new Clustering(centroids, indices, sse, 0, false);
  }
}

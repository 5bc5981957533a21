package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;

/**
 * The result of clustering one tensor's values: {@code values[i]} is replaced by
 * {@code centroids[indices[i]]}.
 *
 * <p>The arrays are held, not copied (tensors can be large); callers must not mutate them.
 * {@code equals}/{@code hashCode} compare array contents, so two results can be compared directly.
 *
 * @param centroids the cluster centres, sorted ascending
 * @param indices for every input value, the index of its centroid
 * @param sse sum of squared errors between the input values and their centroids
 * @param iterations Lloyd iterations run (0 when the values were kept as they were); equal to the
 *     iteration limit when the limit was reached before convergence
 * @param keptOriginalValues true when there were no more distinct values than clusters, so every
 *     value is its own centroid and {@code sse} is 0
 * @param emptyClusters number of centroids that no value maps to. Always 0 for converged Lloyd
 *     (empty clusters are re-seeded) and for the optimal method; can be positive when initial
 *     centroids are used without refinement (e.g. a linear centroid in a gap of the
 *     distribution), or when an iteration limit stopped Lloyd early. The five-component
 *     constructor counts it from {@code indices}; the canonical one takes it as given (range
 *     checked only), so a producer is responsible for it matching {@code indices}.
 */
public record Clustering(
    float[] centroids,
    int[] indices,
    double sse,
    int iterations,
    boolean keptOriginalValues,
    int emptyClusters) {

  public Clustering {
    checkNotNull(centroids, "centroids");
    checkNotNull(indices, "indices");
    checkArgument(iterations >= 0, "iterations must be >= 0, got %s", iterations);
    checkArgument(sse >= 0, "sse must be >= 0, got %s", sse);
    checkArgument(
        emptyClusters >= 0 && emptyClusters <= centroids.length,
        "emptyClusters = %s is outside [0, %s]",
        emptyClusters,
        centroids.length);
    // Checked once here so that reconstruct() cannot fail half-way through a large tensor.
    for (int i = 0; i < indices.length; i++) {
      int c = indices[i];
      if (c < 0 || c >= centroids.length) {
        throw new IllegalArgumentException(
            "indices[" + i + "] = " + c + " is outside [0, " + centroids.length + ")");
      }
    }
  }

  /**
   * The original five components; {@link #emptyClusters()} is counted from {@code indices}.
   */
  public Clustering(
      float[] centroids, int[] indices, double sse, int iterations, boolean keptOriginalValues) {
    this(
        centroids, indices, sse, iterations, keptOriginalValues, countEmpty(centroids, indices));
  }

  /** Centroids no index refers to; out-of-range indices are left to the canonical constructor. */
  private static int countEmpty(float[] centroids, int[] indices) {
    if (centroids == null || indices == null) {
      return 0; // the canonical constructor throws the NullPointerException
    }
    boolean[] used = new boolean[centroids.length];
    int usedCount = 0;
    for (int c : indices) {
      if (c >= 0 && c < used.length && !used[c]) {
        used[c] = true;
        usedCount++;
      }
    }
    return centroids.length - usedCount;
  }

  /** Number of clusters, including any empty ones (see {@link #emptyClusters()}). */
  public int k() {
    return centroids.length;
  }

  /** The clustered values: {@code centroids[indices[i]]} for every {@code i}. */
  public float[] reconstruct() {
    float[] out = new float[indices.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = centroids[indices[i]];
    }
    return out;
  }

  /** Number of distinct values (by {@code ==}) in {@link #reconstruct()}. */
  public int distinctValues() {
    // Only centroids can appear in the reconstruction, so look at the used ones instead of
    // sorting a copy of the whole tensor.
    boolean[] used = new boolean[centroids.length];
    int usedCount = 0;
    for (int c : indices) {
      if (!used[c]) {
        used[c] = true;
        usedCount++;
      }
    }
    float[] values = new float[usedCount];
    int n = 0;
    for (int c = 0; c < centroids.length; c++) {
      if (used[c]) {
        values[n++] = centroids[c];
      }
    }
    Arrays.sort(values);
    int distinct = 0;
    for (int i = 0; i < n; i++) {
      // == rather than Float.compare: -0.0 and +0.0 reconstruct to the same number.
      if (i == 0 || values[i] != values[i - 1]) {
        distinct++;
      }
    }
    return distinct;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Clustering other
        && Arrays.equals(centroids, other.centroids)
        && Arrays.equals(indices, other.indices)
        && Double.compare(sse, other.sse) == 0
        && iterations == other.iterations
        && keptOriginalValues == other.keptOriginalValues
        && emptyClusters == other.emptyClusters;
  }

  @Override
  public int hashCode() {
    int h = Arrays.hashCode(centroids);
    h = 31 * h + Arrays.hashCode(indices);
    h = 31 * h + Double.hashCode(sse);
    h = 31 * h + iterations;
    h = 31 * h + Boolean.hashCode(keptOriginalValues);
    return 31 * h + emptyClusters;
  }

  @Override
  public String toString() {
    // Not the arrays: a tensor's indices can have millions of entries.
    return "Clustering[k="
        + centroids.length
        + ", n="
        + indices.length
        + ", sse="
        + sse
        + ", iterations="
        + iterations
        + ", keptOriginalValues="
        + keptOriginalValues
        + ", emptyClusters="
        + emptyClusters
        + "]";
  }
}

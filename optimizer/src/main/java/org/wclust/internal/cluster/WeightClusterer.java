package org.wclust.internal.cluster;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.RecursiveAction;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightDiscovery;

/**
 * Clusters one weight tensor under {@link ClusterSettings}: splits it into its codebook groups (whole
 * tensor, output channel or group of channels), optionally sets exact zeros aside around a centroid
 * pinned at 0, runs the 1-D clustering on each group and joins the results into one
 * {@link TensorClustering}.
 */
public final class WeightClusterer {
  private WeightClusterer() {}

  public static TensorClustering cluster(float[] values, OutputChannels channels, ClusterSettings settings) {
    return cluster(values, null, channels, settings);
  }

  /**
   * As {@link #cluster(float[], OutputChannels, ClusterSettings)}, minimising each value's squared
   * error times its {@code importance} (same length as {@code values}; null: all equal) with
   * {@link WeightedClusterer1D}.
   */
  public static TensorClustering cluster(float[] values, float[] importance, OutputChannels channels,
      ClusterSettings settings) {
    return cluster(values, importance, channels, settings, null);
  }

  /**
   * As {@link #cluster(float[], float[], OutputChannels, ClusterSettings)}, unweighted; the optimal and knee
   * clusterings take each codebook's optimal partition from {@code partitions} where it holds the one of the
   * same values and record it there otherwise (null, or partitions of another granularity or k: neither).
   * The result is the same with or without.
   */
  public static TensorClustering cluster(float[] values, OutputChannels channels, ClusterSettings settings,
      OptimalPartitions partitions) {
    return cluster(values, null, channels, settings, partitions);
  }

  private static TensorClustering cluster(float[] values, float[] importance, OutputChannels channels,
      ClusterSettings settings, OptimalPartitions partitions) {
    Granularity granularity = settings.granularity();
    int groups = granularity.groups(channels.count());
    // Members of each group, in element order.
    int[] sizes = new int[groups];
    int[] groupOf;
    if (groups == 1) {
      groupOf = new int[values.length];
      sizes[0] = values.length;
    } else {
      groupOf = channels.channelOfEach(values.length);
      for (int i = 0; i < values.length; i++) {
        int g = granularity.groupOf(groupOf[i]);
        groupOf[i] = g;
        sizes[g]++;
      }
    }
    float[][] members = new float[groups][];
    float[][] memberWeights = importance == null ? null : new float[groups][];
    for (int g = 0; g < groups; g++) {
      members[g] = new float[sizes[g]];
      if (importance != null) {
        memberWeights[g] = new float[sizes[g]];
      }
    }
    int[] fill = new int[groups];
    for (int i = 0; i < values.length; i++) {
      int g = groupOf[i];
      if (importance != null) {
        memberWeights[g][fill[g]] = importance[i];
      }
      members[g][fill[g]++] = values[i];
    }

    // Groups are independent: cluster them in parallel. Results go by group index and are
    // combined in order below, so the output is the same as sequentially; so is a failure: the
    // first failing group's exception, as thrown.
    Clustering[] results = new Clustering[groups];
    int[] distinct = new int[groups];
    RuntimeException[] failures = new RuntimeException[groups];
    // Recorded partitions are of unweighted codebooks of all the values (not of the non-zeros alone).
    OptimalPartitions known = importance == null && !settings.preserveSparsity() && partitions != null
        && partitions.fits(settings, groups) ? partitions : null;
    new GroupTask(members, memberWeights, settings, known, results, distinct, failures, 0, groups).invoke();
    for (RuntimeException e : failures) {
      if (e != null) {
        throw e;
      }
    }

    List<float[]> codebooks = new ArrayList<>();
    int[][] localIndices = new int[groups][];
    double sse = 0;
    int maxDistinct = 0;
    int empty = 0;
    boolean kept = false;
    for (int g = 0; g < groups; g++) {
      Clustering c = results[g];
      codebooks.add(c.centroids());
      localIndices[g] = c.indices();
      sse += c.sse();
      maxDistinct = Math.max(maxDistinct, distinct[g]);
      kept |= c.keptOriginalValues();
      empty += c.emptyClusters();
    }

    int[] offsets = new int[groups];
    int total = 0;
    for (int g = 0; g < groups; g++) {
      offsets[g] = total;
      total += codebooks.get(g).length;
    }
    float[] codebook = new float[total];
    for (int g = 0; g < groups; g++) {
      System.arraycopy(codebooks.get(g), 0, codebook, offsets[g], codebooks.get(g).length);
    }
    int[] indices = new int[values.length];
    Arrays.fill(fill, 0);
    for (int i = 0; i < values.length; i++) {
      int g = groupOf[i];
      indices[i] = offsets[g] + localIndices[g][fill[g]++];
    }
    return new TensorClustering(codebook, indices, groups, sse, maxDistinct, kept, empty);
  }

  /**
   * Clusters groups [from, to), halving the range while it holds more than one group and
   * {@link #SPLIT_VALUES} values. Forks run in the caller's fork-join pool (the common pool for
   * other threads), so a caller that clusters tensors in parallel spreads a large tensor's channels
   * over its cores too. Fine-grained on purpose: a parallel stream would cut the groups into only
   * 4 × (common pool parallelism) chunks, too coarse to keep every core busy to the end.
   */
  private static final class GroupTask extends RecursiveAction {
    private static final int SPLIT_VALUES = 1024;

    private final float[][] members;
    /** Each member's importance, or null for unweighted clustering. */
    private final float[][] weights;
    private final ClusterSettings settings;
    /** Optimal partitions to reuse and record, or null. */
    private final OptimalPartitions partitions;
    private final Clustering[] results;
    /** Each result's {@link Clustering#distinctValues()}, O(group size), so also computed here. */
    private final int[] distinct;
    private final RuntimeException[] failures;
    private final int from;
    private final int to;

    GroupTask(float[][] members, float[][] weights, ClusterSettings settings, OptimalPartitions partitions,
        Clustering[] results, int[] distinct, RuntimeException[] failures, int from, int to) {
      this.members = members;
      this.weights = weights;
      this.settings = settings;
      this.partitions = partitions;
      this.results = results;
      this.distinct = distinct;
      this.failures = failures;
      this.from = from;
      this.to = to;
    }

    @Override
    protected void compute() {
      long values = 0;
      for (int g = from; g < to && values <= SPLIT_VALUES; g++) {
        values += members[g].length;
      }
      if (to - from > 1 && values > SPLIT_VALUES) {
        int mid = (from + to) >>> 1;
        invokeAll(new GroupTask(members, weights, settings, partitions, results, distinct, failures, from, mid),
            new GroupTask(members, weights, settings, partitions, results, distinct, failures, mid, to));
        return;
      }
      for (int g = from; g < to; g++) {
        try {
          float[] w = weights == null ? null : weights[g];
          results[g] = settings.preserveSparsity()
              ? clusterKeepingZeros(members[g], w, settings, g)
              : partitions != null
              ? Clusterer1D.cluster(members[g], settings.clusters(), settings.init(), settings.refine(),
                  settings.seed() + g, settings.rateWeight(), partitions, g)
              : cluster1D(members[g], w, settings.clusters(), settings, g);
          distinct[g] = results[g].distinctValues();
        } catch (RuntimeException e) {
          failures[g] = e;
        }
      }
    }
  }

  /**
   * Zeros map to a centroid pinned at 0; the other values share the remaining k - 1 centroids, so
   * pruned weights stay pruned and the number of non-zeros is unchanged.
   */
  private static Clustering cluster1D(float[] values, float[] weights, int k, ClusterSettings settings, int group) {
    return weights == null
        ? Clusterer1D.cluster(values, k, settings.init(), settings.refine(), settings.seed() + group,
            settings.rateWeight())
        : WeightedClusterer1D.cluster(values, weights, k, settings.init(), settings.refine(),
            settings.seed() + group, settings.rateWeight());
  }

  private static Clustering clusterKeepingZeros(float[] values, float[] weights, ClusterSettings settings,
      int group) {
    int zeros = 0;
    for (float v : values) {
      if (v == 0f) {
        zeros++;
      }
    }
    if (zeros == 0 || zeros == values.length) {
      return cluster1D(values, weights, settings.clusters(), settings, group);
    }
    float[] nonZero = new float[values.length - zeros];
    float[] nonZeroWeights = weights == null ? null : new float[nonZero.length];
    int n = 0;
    for (int i = 0; i < values.length; i++) {
      if (values[i] != 0f) {
        if (weights != null) {
          nonZeroWeights[n] = weights[i];
        }
        nonZero[n++] = values[i];
      }
    }
    int k = settings.clusters() - 1;
    float[] centroids;
    int[] nonZeroIndices;
    double sse;
    boolean kept;
    if (k == 1) {
      double mean = 0;
      double total = 0;
      for (int i = 0; i < nonZero.length; i++) {
        double w = weights == null ? 1 : nonZeroWeights[i];
        mean += w * nonZero[i];
        total += w;
      }
      mean = total > 0 ? mean / total : 0;
      centroids = new float[] {(float) mean};
      nonZeroIndices = new int[nonZero.length];
      sse = 0;
      for (float v : nonZero) {
        sse += (v - (float) mean) * (double) (v - (float) mean);
      }
      kept = WeightDiscovery.distinct(nonZero) == 1;
    } else {
      Clustering c = cluster1D(nonZero, nonZeroWeights, k, settings, group);
      centroids = c.centroids();
      nonZeroIndices = c.indices();
      sse = c.sse();
      kept = c.keptOriginalValues();
    }
    // Insert 0 into the ascending centroids, unless a centroid is exactly 0 already.
    int zeroAt = 0;
    while (zeroAt < centroids.length && centroids[zeroAt] < 0f) {
      zeroAt++;
    }
    boolean hasZero = zeroAt < centroids.length && centroids[zeroAt] == 0f;
    float[] withZero;
    if (hasZero) {
      withZero = centroids;
    } else {
      withZero = new float[centroids.length + 1];
      System.arraycopy(centroids, 0, withZero, 0, zeroAt);
      System.arraycopy(centroids, zeroAt, withZero, zeroAt + 1, centroids.length - zeroAt);
    }
    int[] indices = new int[values.length];
    n = 0;
    for (int i = 0; i < values.length; i++) {
      if (values[i] == 0f) {
        indices[i] = zeroAt;
      } else {
        int local = nonZeroIndices[n++];
        indices[i] = hasZero || local < zeroAt ? local : local + 1;
      }
    }
    // The five-component constructor counts empty clusters from the final indices.
    return new Clustering(withZero, indices, sse, 0, kept);
  }
}

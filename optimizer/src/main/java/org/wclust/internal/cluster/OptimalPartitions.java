package org.wclust.internal.cluster;

import java.util.Arrays;

/**
 * The optimal (minimum-SSE) partitions of one weight's codebooks at one granularity and k, kept from a
 * clustering that solved them for a later clustering of the same codebooks. BatchNorm-safe codebooks
 * ({@code FoldedCodebooks}) cluster each folded kernel optimally to compare codebook layouts; the
 * clustering at the chosen layout then needs the same optima again, as its result
 * ({@link InitMethod#OPTIMAL}) or for the knee's λ ({@link RateDistortion#atWeight}). Solving the 1-D
 * optimum is most of a codebook's clustering time, while turning a known partition back into the
 * clustering ({@link OptimalKMeans1D#fromStarts}) is one pass over the values with the identical result.
 *
 * <p>A group's partition is only reused for the same values: each is recorded with the number and a hash
 * of the values it was found for, and anything else is solved afresh (and recorded). Each group is
 * written by the task that clusters it and read by a later clustering, after the first was joined.
 */
public final class OptimalPartitions {
  private final Granularity granularity;
  private final int clusters;
  private final Group[] groups;

  /** Where a group's optimal clusters start in its sorted distinct values, and which values those were. */
  private record Group(int size, int hash, int[] starts) {}

  /**
   * An empty record for {@code groups} codebooks of {@code granularity}, {@code clusters} clusters each
   * (a clustering with these settings fills it).
   */
  public OptimalPartitions(Granularity granularity, int clusters, int groups) {
    this.granularity = granularity;
    this.clusters = clusters;
    this.groups = new Group[groups];
  }

  /** Whether these are partitions of the codebooks {@code settings} ask for: same granularity and k. */
  boolean fits(ClusterSettings settings, int groupCount) {
    return settings.clusters() == clusters && settings.granularity().equals(granularity)
        && groupCount == groups.length;
  }

  /**
   * Where group {@code group}'s optimal clusters of {@code values} start in {@code d}, their distinct values
   * (more than k), as {@link OptimalKMeans1D#segmentStarts} gives them: the recorded partition when it was
   * found for these values, else solved and recorded.
   */
  int[] starts(int group, float[] values, KMeans1D.Distinct d, int k) {
    int hash = Arrays.hashCode(values);
    Group known = groups[group];
    if (known != null && known.size == values.length && known.hash == hash && known.starts.length == k) {
      return known.starts;
    }
    int[] starts = OptimalKMeans1D.segmentStarts(d.values, d.counts, k);
    groups[group] = new Group(values.length, hash, starts);
    return starts;
  }
}

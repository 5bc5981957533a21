package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * Which codebook entries each element of a clustered tensor may use, laid out for re-assignment as
 * dense {@code [groups, members]} and {@code [groups, entries]} matrices, so that one batched search
 * over the sorted centroids of every group re-assigns the whole tensor.
 *
 * <p>An element of group {@code g} may only take an entry of its own group's codebook (a per-channel
 * weight stays per-channel). Groups of unequal size are padded: {@code order} repeats the group's first
 * element, {@code entryTable} its last entry; padded results are never read back.
 *
 * @param groups number of codebooks
 * @param members elements per group after padding (the largest group)
 * @param order for row-major {@code [groups, members]}, the tensor element at each position; null when
 *     {@code identity} (the position is the element: two n-element arrays a per-tensor codebook of a
 *     big model would hold for nothing, 200 MB on ResNet50)
 * @param position for each tensor element, its position in {@code order}; null when {@code identity}
 * @param entries entries per group after padding (the largest codebook)
 * @param entryTable for row-major {@code [groups, entries]}, the index into the concatenated codebook
 * @param identity true when there is one group and {@code order} is the identity (no gathers needed)
 * @param strided true when element {@code e} belongs to group {@code e % groups} and every group has
 *     {@code members} elements (one codebook per channel of the last axis): {@code order} is then the
 *     transpose of a row-major {@code [members, groups]}, which a transpose lays out without gathers
 */
public record CodebookLayout(int groups, int members, int[] order, int[] position, int entries,
    int[] entryTable, boolean identity, boolean strided) {

  /**
   * The layout of a clustering: element {@code e} belongs to group {@code groupOf(e)}; a group's
   * entries are the codebook indices its elements use (entries nobody uses are left out).
   */
  public static CodebookLayout of(int[] indices, int groups, IntUnaryOperator groupOf) {
    checkArgument(groups >= 1, "groups must be positive, got %s", groups);
    int n = indices.length;
    boolean identity = groups == 1;
    int[] sizes = new int[groups];
    int[] groupOfElement = identity ? null : new int[n];
    int minIndex = Integer.MAX_VALUE;
    int maxIndex = Integer.MIN_VALUE;
    for (int e = 0; e < n; e++) {
      int g = identity ? 0 : groupOf.applyAsInt(e);
      if (!identity) {
        groupOfElement[e] = g;
      }
      sizes[g]++;
      minIndex = Math.min(minIndex, indices[e]);
      maxIndex = Math.max(maxIndex, indices[e]);
    }
    int members = Arrays.stream(sizes).max().orElse(0);
    int[] order = identity ? null : new int[groups * members];
    int[] position = identity ? null : new int[n];
    int[] fill = new int[groups];
    int[] first = new int[groups];
    Arrays.fill(first, -1);
    if (identity) {
      fill[0] = n;
    }
    for (int e = 0; e < n && !identity; e++) {
      int g = groupOfElement[e];
      int p = g * members + fill[g]++;
      order[p] = e;
      position[e] = p;
      if (first[g] < 0) {
        first[g] = e;
      }
    }
    // The entries each group uses, ascending: its elements are together in order, so one stamp array
    // (the group that last saw an entry) finds them without a set per group.
    int[][] used = new int[groups][];
    int[] seenBy = new int[n == 0 ? 0 : maxIndex - minIndex + 1];
    Arrays.fill(seenBy, -1);
    int[] found = new int[seenBy.length];
    for (int g = 0; g < groups; g++) {
      int count = 0;
      for (int p = g * members; p < g * members + fill[g]; p++) {
        int entry = indices[identity ? p : order[p]];
        if (seenBy[entry - minIndex] != g) {
          seenBy[entry - minIndex] = g;
          found[count++] = entry;
        }
      }
      used[g] = Arrays.copyOf(found, count);
      Arrays.sort(used[g]);
    }
    int entries = Arrays.stream(used).mapToInt(u -> u.length).max().orElse(0);
    int[] entryTable = new int[groups * entries];
    for (int g = 0; g < groups; g++) {
      for (int p = fill[g]; p < members && !identity; p++) {
        order[g * members + p] = Math.max(first[g], 0);
      }
      int j = 0;
      int last = 0;
      for (int entry : used[g]) {
        entryTable[g * entries + j++] = entry;
        last = entry;
      }
      for (; j < entries; j++) {
        entryTable[g * entries + j] = last;
      }
    }
    return new CodebookLayout(groups, members, order, position, entries, entryTable, identity,
        !identity && isStrided(position, groups, members));
  }

  private static boolean isStrided(int[] position, int groups, int members) {
    if (position.length != (long) groups * members) {
      return false;
    }
    for (int e = 0; e < position.length; e++) {
      if (position[e] != (e % groups) * members + e / groups) {
        return false;
      }
    }
    return true;
  }

  /**
   * The layout of a tensor clustered with {@code granularity} over {@code channels}: one group per
   * codebook as {@link WeightClusterer} made them.
   */
  public static CodebookLayout of(int[] indices, Granularity granularity,
      org.wclust.internal.graph.OutputChannels channels) {
    int groups = granularity.groups(channels.count());
    return of(indices, groups, e -> groups == 1 ? 0 : granularity.groupOf(channels.channelOf(e)));
  }
}

package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightTensor;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The layout's entry table against the entries each group uses, found with a sorted set per group. */
class CodebookLayoutTest {

  @Test
  void entryTableListsEachGroupsUsedEntriesAscendingThenRepeatsTheLast() {
    Random r = new Random(5);
    for (int trial = 0; trial < 300; trial++) {
      int groups = 1 + r.nextInt(6);
      int n = r.nextInt(200);
      int entriesPerGroup = 1 + r.nextInt(9);
      int[] groupOf = new int[n];
      int[] indices = new int[n];
      for (int e = 0; e < n; e++) {
        groupOf[e] = r.nextInt(groups);
        indices[e] = groupOf[e] * entriesPerGroup + r.nextInt(entriesPerGroup);
      }
      CodebookLayout layout = CodebookLayout.of(indices, groups, e -> groupOf[e]);
      @SuppressWarnings("unchecked")
      TreeSet<Integer>[] used = new TreeSet[groups];
      int widest = 0;
      for (int g = 0; g < groups; g++) {
        used[g] = new TreeSet<>();
        for (int e = 0; e < n; e++) {
          if (groupOf[e] == g) {
            used[g].add(indices[e]);
          }
        }
        widest = Math.max(widest, used[g].size());
      }
      assertEquals(widest, layout.entries(), "trial " + trial);
      for (int g = 0; g < groups; g++) {
        int[] expected = new int[widest];
        int j = 0;
        int last = 0;
        for (int entry : used[g]) {
          expected[j++] = entry;
          last = entry;
        }
        for (; j < widest; j++) {
          expected[j] = last;
        }
        int[] row = java.util.Arrays.copyOfRange(layout.entryTable(), g * widest, (g + 1) * widest);
        assertArrayEquals(expected, row, "trial " + trial + " group " + g);
      }
    }
  }

  /** One group per channel of the last axis is strided: order is the transpose of [members, groups]. */
  @Test
  void oneGroupPerLastAxisChannelIsStridedAndOthersAreNot() {
    int rows = 6;
    int channels = 5;
    int[] indices = new int[rows * channels];
    for (int e = 0; e < indices.length; e++) {
      indices[e] = (e % channels) * 3 + e % 3;
    }
    CodebookLayout perChannel = CodebookLayout.of(indices, channels, e -> e % channels);
    assertTrue(perChannel.strided());
    for (int g = 0; g < channels; g++) {
      for (int p = 0; p < rows; p++) {
        assertEquals(p * channels + g, perChannel.order()[g * rows + p]);
      }
    }
    assertFalse(CodebookLayout.of(indices, 2, e -> (e % channels) / 3).strided(), "groups of unequal size");
    assertFalse(CodebookLayout.of(indices, 1, e -> 0).strided(), "one codebook");
    assertFalse(CodebookLayout.of(indices, rows, e -> e / channels).strided(), "groups along the first axis");
  }

  @Test
  void aLayersLazyLayoutIsTheLayoutOfItsClusteringMadeOnce() {
    int rows = 4;
    int channels = 6;
    int[] indices = new int[rows * channels];
    for (int e = 0; e < indices.length; e++) {
      indices[e] = (e % channels) / 2 * 4 + e % 3; // three groups of two channels, entries 0-2 of four each
    }
    OutputChannels out = new OutputChannels(channels, 1);
    WeightTensor w = new WeightTensor("dense/kernel", "dense/kernel_handle", "MatMul", new long[] {rows, channels},
        indices.length, 12, "DT_FLOAT", true, "clusterable", out);
    Granularity grouped = Granularity.byChannel(new int[] {0, 0, 1, 1, 2, 2});
    java.util.function.Supplier<CodebookLayout> lazy = ClusteredLayer.layoutOf(indices, grouped, w);
    CodebookLayout eager = CodebookLayout.of(indices, grouped, out);
    CodebookLayout first = lazy.get();
    assertEquals(eager.groups(), first.groups());
    assertEquals(3, first.groups());
    assertArrayEquals(eager.order(), first.order());
    assertArrayEquals(eager.position(), first.position());
    assertArrayEquals(eager.entryTable(), first.entryTable());
    assertTrue(first == lazy.get(), "made once");
  }
}

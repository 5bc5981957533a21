package org.wclust.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
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
}

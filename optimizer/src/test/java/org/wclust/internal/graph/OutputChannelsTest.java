package org.wclust.internal.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class OutputChannelsTest {

  @Test
  void channelOfEachCountsAlongTheLayoutAsChannelOfDividesIt() {
    int[][] layouts = {{1, 1}, {5, 1}, {4, 5}, {3, 7}, {16, 64}, {1, 9}};
    for (int[] layout : layouts) {
      OutputChannels channels = new OutputChannels(layout[0], layout[1]);
      for (int length : new int[] {0, 1, 35, 3 * 3 * 4 * 5, 1000}) {
        int[] each = channels.channelOfEach(length);
        assertEquals(length, each.length);
        for (int i = 0; i < length; i++) {
          assertEquals(channels.channelOf(i), each[i], channels + ", element " + i);
        }
      }
    }
  }
}

package org.wclust.internal.data;

import java.util.Random;

/**
 * The order in which an epoch visits the examples. With buffer 0 every permutation is equally likely
 * (Fisher-Yates over all examples); with buffer n the order is that of {@code tf.data}'s
 * {@code shuffle(n)} over the examples in file order: a buffer is filled with the first n, and each
 * next example is drawn at random from the buffer and replaced by the next one in file order. Files are
 * then read almost sequentially, at the price of a weaker shuffle.
 */
public final class ShuffleOrder {
  private ShuffleOrder() {}

  /** Reorders {@code order} (all examples, any prior order) for the next epoch. */
  public static void next(int[] order, Random random, int buffer) {
    if (buffer <= 0 || buffer >= order.length) {
      for (int i = order.length - 1; i > 0; i--) {
        swap(order, i, random.nextInt(i + 1));
      }
      return;
    }
    int n = order.length;
    int[] pool = new int[buffer];
    int filled = 0;
    int nextInFile = 0;
    while (filled < buffer) {
      pool[filled++] = nextInFile++;
    }
    for (int out = 0; out < n; out++) {
      int pick = random.nextInt(filled);
      order[out] = pool[pick];
      if (nextInFile < n) {
        pool[pick] = nextInFile++;
      } else {
        pool[pick] = pool[--filled];
      }
    }
  }

  private static void swap(int[] a, int i, int j) {
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

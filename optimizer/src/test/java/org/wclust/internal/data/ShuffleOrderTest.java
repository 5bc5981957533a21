package org.wclust.internal.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Epoch orders through a shuffle buffer, and the bounded background prefetch of batches. */
class ShuffleOrderTest {
  @ParameterizedTest
  @ValueSource(ints = {0, 1, 7, 100, 1000, 5000})
  void everyBufferSizeGivesAPermutation(int buffer) {
    int[] order = IntStream.range(0, 1000).toArray();
    ShuffleOrder.next(order, new Random(3), buffer);
    assertArrayEquals(IntStream.range(0, 1000).toArray(), Arrays.stream(order).sorted().toArray());
  }

  @Test
  void bufferOfOneKeepsFileOrder() {
    int[] order = new int[50];
    ShuffleOrder.next(order, new Random(3), 1);
    assertArrayEquals(IntStream.range(0, 50).toArray(), order);
  }

  @Test
  void aBufferBoundsHowFarAheadOfFileOrderAnExampleComes() {
    int[] order = new int[10_000];
    ShuffleOrder.next(order, new Random(5), 64);
    for (int pos = 0; pos < order.length; pos++) {
      // the example at position pos was in the buffer, filled from the first pos + 64 in file order
      assertTrue(order[pos] < pos + 64, "position " + pos + " holds " + order[pos]);
    }
    assertTrue(IntStream.range(0, 100).anyMatch(i -> order[i] != i), "not shuffled at all");
  }

  @Test
  void fullShuffleIsTheFisherYatesOfBefore() {
    // buffer 0 must keep the batch order that fine-tuning runs had before shuffle buffers existed
    int[] order = IntStream.range(0, 200).toArray();
    int[] expected = order.clone();
    Random r = new Random(11);
    for (int i = expected.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = expected[i];
      expected[i] = expected[j];
      expected[j] = t;
    }
    ShuffleOrder.next(order, new Random(11), 0);
    assertArrayEquals(expected, order);
  }

  @Test
  void prefetcherHandsOutItemsInOrderAndStaysBounded() {
    AtomicInteger made = new AtomicInteger();
    AtomicInteger taken = new AtomicInteger();
    int[] maxAhead = {0};
    try (Prefetcher<Integer> p = new Prefetcher<>(100, 3, i -> {
      maxAhead[0] = Math.max(maxAhead[0], made.incrementAndGet() - taken.get());
      return i * i;
    })) {
      for (int i = 0; i < 100; i++) {
        assertEquals(i * i, p.next());
        taken.incrementAndGet();
      }
    }
    // up to 3 queued plus one being made
    assertTrue(maxAhead[0] <= 5, "made " + maxAhead[0] + " ahead");
  }

  @Test
  void prefetcherRethrowsAFailureForItsItem() {
    try (Prefetcher<Integer> p = new Prefetcher<>(10, 2, i -> {
      if (i == 4) {
        throw new IllegalArgumentException("cannot decode image 4");
      }
      return i;
    })) {
      for (int i = 0; i < 4; i++) {
        assertEquals(i, p.next());
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::next);
      assertEquals("cannot decode image 4", e.getMessage());
    }
  }
}

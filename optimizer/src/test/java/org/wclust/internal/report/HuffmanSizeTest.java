package org.wclust.internal.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Huffman code lengths on hand-computed histograms, and the bounds any optimal prefix code obeys. */
class HuffmanSizeTest {
  @Test
  void skewedHistogram() {
    // a:5 b:2 c:1 d:1 -> merge c+d (2), then b+(cd) (4), then a+(bcd) (9): lengths 1, 2, 3, 3.
    long[] counts = {5, 2, 1, 1};
    assertArrayEquals(new int[] {1, 2, 3, 3}, HuffmanSize.codeLengths(counts));
    assertEquals(5 * 1 + 2 * 2 + 1 * 3 + 1 * 3, HuffmanSize.bits(counts));
    assertEquals(15, HuffmanSize.bits(counts));
  }

  @Test
  void uniformEightSymbolsTakeThreeBitsEach() {
    long[] counts = {10, 10, 10, 10, 10, 10, 10, 10};
    assertArrayEquals(new int[] {3, 3, 3, 3, 3, 3, 3, 3}, HuffmanSize.codeLengths(counts));
    assertEquals(80 * 3, HuffmanSize.bits(counts));
  }

  @Test
  void twoSymbolsTakeOneBitEach() {
    assertEquals(1 + 99, HuffmanSize.bits(new long[] {1, 99}));
  }

  @Test
  void unusedSymbolsGetNoCode() {
    // {a:5, b:2, c:1, d:1} with unused symbols interleaved: same lengths for the used ones.
    assertArrayEquals(new int[] {0, 1, 0, 2, 3, 0, 3},
        HuffmanSize.codeLengths(new long[] {0, 5, 0, 2, 1, 0, 1}));
  }

  @Test
  void singleSymbolCostsOneBitPerOccurrence() {
    assertArrayEquals(new int[] {0, 1, 0}, HuffmanSize.codeLengths(new long[] {0, 7, 0}));
    assertEquals(7, HuffmanSize.bits(new long[] {0, 7, 0}));
  }

  @Test
  void emptyHistogramCostsNothing() {
    assertEquals(0, HuffmanSize.bits(new long[0]));
    assertEquals(0, HuffmanSize.bits(new long[] {0, 0}));
  }

  @Test
  void negativeCountsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> HuffmanSize.codeLengths(new long[] {3, -1}));
  }

  /**
   * On random histograms: Kraft equality (a full binary tree), the Shannon bound H <= L < H + 1 per
   * symbol, and never more than a fixed-length code of ceil(log2 m) bits.
   */
  @Test
  void randomHistogramsObeyTheBoundsOfAnOptimalPrefixCode() {
    Random random = new Random(1);
    for (int trial = 0; trial < 500; trial++) {
      int m = 2 + random.nextInt(40);
      long[] counts = new long[m];
      long total = 0;
      int used = 0;
      for (int s = 0; s < m; s++) {
        counts[s] = random.nextInt(4) == 0 ? 0 : 1 + (long) Math.pow(random.nextInt(1000), random.nextDouble() * 2);
        total += counts[s];
        used += counts[s] > 0 ? 1 : 0;
      }
      if (used < 2) {
        continue;
      }
      int[] lengths = HuffmanSize.codeLengths(counts);
      double kraft = 0;
      double entropyBits = 0;
      for (int s = 0; s < m; s++) {
        if (counts[s] > 0) {
          kraft += Math.pow(2, -lengths[s]);
          double p = (double) counts[s] / total;
          entropyBits -= counts[s] * Math.log(p) / Math.log(2);
        }
      }
      long bits = HuffmanSize.bits(counts);
      assertEquals(1.0, kraft, 1e-12, "Kraft sum");
      assertTrue(bits >= entropyBits - 1e-6, bits + " < entropy " + entropyBits);
      assertTrue(bits < entropyBits + total, bits + " >= entropy + 1 bit per symbol");
      int fixed = 32 - Integer.numberOfLeadingZeros(used - 1);
      assertTrue(bits <= (long) fixed * total, bits + " > fixed-length " + fixed * total);
    }
  }
}

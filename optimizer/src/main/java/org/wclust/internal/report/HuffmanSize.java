package org.wclust.internal.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Optimal (Huffman) code lengths of a symbol histogram: the size of the last stage of Deep Compression,
 * which Huffman-codes the cluster indices.
 */
public final class HuffmanSize {
  private HuffmanSize() {}

  /**
   * Code length in bits of every symbol of {@code counts} under a Huffman code built over the symbols
   * with a positive count (the standard construction: repeatedly merge the two lightest subtrees). A
   * symbol with count 0 gets length 0; a histogram with a single used symbol gets length 1 (one bit per
   * occurrence, as a decoder still needs to read something per weight).
   */
  public static int[] codeLengths(long[] counts) {
    int n = counts.length;
    int[] lengths = new int[n];
    List<Integer> used = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      if (counts[s] < 0) {
        throw new IllegalArgumentException("negative count " + counts[s] + " for symbol " + s);
      }
      if (counts[s] > 0) {
        used.add(s);
      }
    }
    if (used.size() == 1) {
      lengths[used.get(0)] = 1;
    }
    if (used.size() <= 1) {
      return lengths;
    }
    // Nodes 0..n-1 are the leaves (symbols), later ones internal; ties broken by node id, so the
    // construction is deterministic (any tie-breaking gives the same total length).
    int maxNodes = n + used.size() - 1;
    long[] weight = Arrays.copyOf(counts, maxNodes);
    int[] parent = new int[maxNodes];
    Arrays.fill(parent, -1);
    PriorityQueue<Integer> queue = new PriorityQueue<>(
        (a, b) -> weight[a] != weight[b] ? Long.compare(weight[a], weight[b]) : Integer.compare(a, b));
    queue.addAll(used);
    int next = n;
    while (queue.size() > 1) {
      int a = queue.poll();
      int b = queue.poll();
      weight[next] = weight[a] + weight[b];
      parent[a] = next;
      parent[b] = next;
      queue.add(next++);
    }
    for (int s : used) {
      int depth = 0;
      for (int node = s; parent[node] >= 0; node = parent[node]) {
        depth++;
      }
      lengths[s] = depth;
    }
    return lengths;
  }

  /** Total bits of the Huffman-coded sequence: the sum over symbols of count × code length. */
  public static long bits(long[] counts) {
    int[] lengths = codeLengths(counts);
    long bits = 0;
    for (int s = 0; s < counts.length; s++) {
      bits += counts[s] * lengths[s];
    }
    return bits;
  }
}

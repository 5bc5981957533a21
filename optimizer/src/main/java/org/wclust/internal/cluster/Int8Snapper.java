package org.wclust.internal.cluster;

import java.util.HashMap;
import java.util.Map;
import org.wclust.internal.graph.OutputChannels;

/**
 * Makes a clustered tensor exact under TFLite's symmetric int8 weight quantization. The converter
 * quantizes conv, depthwise and dense weights per output channel with scale {@code max|w| / 127}; a
 * centroid between two grid points is rounded, so the int8 model no longer computes the clustered
 * model. Snapping every centroid onto its channel's grid ({@code round(c / scale) * scale}) removes
 * that error, and since the largest |centroid| of a channel maps to exactly ±127 · scale, the scale
 * the converter computes from the snapped weights is the one used here. Each channel keeps at most as
 * many distinct values as it had, but a codebook shared by several channels becomes one per channel.
 */
public final class Int8Snapper {
  private static final int QMAX = 127;

  private Int8Snapper() {}

  public static TensorClustering snap(TensorClustering clustering, OutputChannels channels) {
    int[] indices = clustering.indices();
    float[] codebook = clustering.codebook();
    int c = channels.count();
    float[] maxAbs = new float[c];
    for (int i = 0; i < indices.length; i++) {
      int ch = channels.channelOf(i);
      maxAbs[ch] = Math.max(maxAbs[ch], Math.abs(codebook[indices[i]]));
    }
    // One new codebook entry per (channel, old entry) in use, in order of first appearance.
    Map<Long, Integer> entries = new HashMap<>();
    // At most one entry per element, and at most one per (channel, old entry).
    float[] snapped = new float[(int) Math.min((long) c * codebook.length, indices.length)];
    int size = 0;
    int[] newIndices = new int[indices.length];
    for (int i = 0; i < indices.length; i++) {
      int ch = channels.channelOf(i);
      long key = (long) ch * codebook.length + indices[i];
      Integer entry = entries.get(key);
      if (entry == null) {
        entry = size++;
        entries.put(key, entry);
        snapped[entry] = onGrid(codebook[indices[i]], maxAbs[ch]);
      }
      newIndices[i] = entry;
    }
    float[] newCodebook = java.util.Arrays.copyOf(snapped, size);
    return new TensorClustering(newCodebook, newIndices, clustering.groups(), clustering.sse(),
        clustering.maxDistinctPerGroup(), clustering.keptOriginalValues(), clustering.emptyClusters());
  }

  /**
   * Snaps a codebook in place of its entries, for a clustering whose entries each serve one output
   * channel (as {@link #snap} makes them, and as fine-tuning keeps them): each entry goes onto the
   * grid of the channel that uses it. Indices are unchanged.
   */
  public static float[] snapCodebook(float[] codebook, int[] indices, OutputChannels channels) {
    float[] maxAbs = new float[channels.count()];
    int[] channelOf = new int[codebook.length];
    java.util.Arrays.fill(channelOf, -1);
    for (int i = 0; i < indices.length; i++) {
      int ch = channels.channelOf(i);
      maxAbs[ch] = Math.max(maxAbs[ch], Math.abs(codebook[indices[i]]));
      channelOf[indices[i]] = ch;
    }
    float[] snapped = codebook.clone();
    for (int j = 0; j < codebook.length; j++) {
      if (channelOf[j] >= 0) {
        snapped[j] = onGrid(codebook[j], maxAbs[channelOf[j]]);
      }
    }
    return snapped;
  }

  /** {@code value} rounded to the nearest multiple of {@code maxAbs / 127}. */
  static float onGrid(float value, float maxAbs) {
    if (maxAbs == 0f) {
      return 0f;
    }
    double scale = maxAbs / (double) QMAX;
    return (float) (Math.round(value / scale) * scale);
  }
}

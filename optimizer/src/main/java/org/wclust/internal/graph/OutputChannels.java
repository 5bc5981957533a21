package org.wclust.internal.graph;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * Where the output channels of a weight tensor lie in its row-major layout: element {@code i} belongs
 * to channel {@code (i / stride) % count}. A Conv2D filter {@code [h, w, in, out]} has
 * {@code count = out, stride = 1}; a transposed-conv filter {@code [h, w, out, in]} has
 * {@code count = out, stride = in}; a depthwise filter {@code [h, w, in, multiplier]} has
 * {@code in * multiplier} output channels with stride 1.
 */
public record OutputChannels(int count, long stride) {
  public OutputChannels {
    checkArgument(count >= 1 && stride >= 1, "count %s and stride %s must be positive", count, stride);
  }

  public int channelOf(long flatIndex) {
    return (int) ((flatIndex / stride) % count);
  }

  /**
   * {@link #channelOf} of every element of a tensor of {@code length} elements, counted along the layout
   * (a long division per element costs more than the clustering's per-element work).
   */
  public int[] channelOfEach(int length) {
    int[] out = new int[length];
    int channel = 0;
    long inStride = 0;
    for (int i = 0; i < length; i++) {
      out[i] = channel;
      if (++inStride == stride) {
        inStride = 0;
        if (++channel == count) {
          channel = 0;
        }
      }
    }
    return out;
  }

  /** The whole tensor as one channel. */
  public static OutputChannels single(long size) {
    return new OutputChannels(1, Math.max(1, size));
  }
}

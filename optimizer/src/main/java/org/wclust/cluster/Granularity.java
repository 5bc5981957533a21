package org.wclust.cluster;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * How many codebooks a weight tensor gets: one for the whole tensor, one per output channel, or one
 * per group of {@code groupSize} consecutive output channels (as coremltools' per-grouped-channel
 * palettization). Per tensor is {@code groupSize == 0}; per channel is {@code groupSize == 1}.
 */
public record Granularity(int groupSize) {
  public static final Granularity TENSOR = new Granularity(0);
  public static final Granularity CHANNEL = new Granularity(1);

  public Granularity {
    checkArgument(groupSize >= 0, "group size must be positive, got %s", groupSize);
  }

  /** Parses {@code tensor}, {@code channel} or {@code group:G}. */
  public static Granularity parse(String text) {
    if (text.equals("tensor")) {
      return TENSOR;
    }
    if (text.equals("channel")) {
      return CHANNEL;
    }
    if (text.startsWith("group:")) {
      int g;
      try {
        g = Integer.parseInt(text.substring("group:".length()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("granularity '" + text + "': G must be a whole number");
      }
      checkArgument(g >= 1, "granularity '%s': G must be at least 1", text);
      return new Granularity(g);
    }
    throw new IllegalArgumentException(
        "unknown granularity '" + text + "'; expected tensor, channel or group:G");
  }

  /** The number of codebooks for a tensor with {@code channels} output channels. */
  public int groups(int channels) {
    return groupSize == 0 ? 1 : (channels + groupSize - 1) / groupSize;
  }

  /** The codebook of output channel {@code channel}. */
  public int groupOf(int channel) {
    return groupSize == 0 ? 0 : channel / groupSize;
  }

  @Override
  public String toString() {
    return groupSize == 0 ? "tensor" : groupSize == 1 ? "channel" : "group:" + groupSize;
  }
}

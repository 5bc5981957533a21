package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * How many codebooks a weight tensor gets: one for the whole tensor, one per output channel, or one
 * per group of {@code groupSize} consecutive output channels (as coremltools' per-grouped-channel
 * palettization). Per tensor is {@code groupSize == 0}; per channel is {@code groupSize == 1}.
 * Or an explicit codebook per output channel, {@code channelGroups} (BatchNorm-safe folding groups
 * channels whose factors are alike, {@code org.wclust.internal.fold.FoldedCodebooks}); {@code groupSize} is 0
 * then.
 */
public record Granularity(int groupSize, int[] channelGroups) {
  public static final Granularity TENSOR = new Granularity(0);
  public static final Granularity CHANNEL = new Granularity(1);

  public Granularity {
    checkArgument(groupSize >= 0, "group size must be positive, got %s", groupSize);
    checkArgument(channelGroups == null || groupSize == 0, "explicit channel groups have no group size");
    if (channelGroups != null) {
      channelGroups = channelGroups.clone();
      int max = java.util.Arrays.stream(channelGroups).max().orElse(0);
      boolean[] seen = new boolean[max + 1];
      for (int g : channelGroups) {
        checkArgument(g >= 0, "channel group %s is negative", g);
        seen[g] = true;
      }
      for (int g = 0; g <= max; g++) {
        checkArgument(seen[g], "channel groups skip group %s", g);
      }
    }
  }

  public Granularity(int groupSize) {
    this(groupSize, null);
  }

  /** One codebook per distinct entry of {@code groupOfChannel} (0, 1, ... G − 1), indexed by output channel. */
  public static Granularity byChannel(int[] groupOfChannel) {
    return new Granularity(0, groupOfChannel);
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
    if (channelGroups != null) {
      checkArgument(channels == channelGroups.length, "%s channel groups for %s channels", channelGroups.length,
          channels);
      return java.util.Arrays.stream(channelGroups).max().orElse(0) + 1;
    }
    return groupSize == 0 ? 1 : (channels + groupSize - 1) / groupSize;
  }

  /** The codebook of output channel {@code channel}. */
  public int groupOf(int channel) {
    if (channelGroups != null) {
      return channelGroups[channel];
    }
    return groupSize == 0 ? 0 : channel / groupSize;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Granularity g && g.groupSize == groupSize
        && java.util.Arrays.equals(g.channelGroups, channelGroups);
  }

  @Override
  public int hashCode() {
    return 31 * groupSize + java.util.Arrays.hashCode(channelGroups);
  }

  @Override
  public String toString() {
    if (channelGroups != null) {
      return "channel-groups:" + groups(channelGroups.length);
    }
    return groupSize == 0 ? "tensor" : groupSize == 1 ? "channel" : "group:" + groupSize;
  }
}

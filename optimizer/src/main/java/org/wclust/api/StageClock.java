package org.wclust.api;

import com.google.common.collect.ImmutableMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Wall-clock seconds per pipeline stage, in the order the stages ran: each {@link #lap} closes the
 * stage that began at the previous lap (or at construction). A stage met twice (e.g. clustering
 * again after a size budget's retune) adds up. The report's {@code timings.stages} shows them, so
 * that a slow run tells which stage to look at.
 */
final class StageClock {
  private final Map<String, Double> seconds = new LinkedHashMap<>();
  private long last = System.nanoTime();

  /** Ends the running stage as {@code stage}; the next stage starts now. */
  void lap(String stage) {
    long now = System.nanoTime();
    seconds.merge(stage, (now - last) / 1e9, Double::sum);
    last = now;
  }

  ImmutableMap<String, Double> seconds() {
    return ImmutableMap.copyOf(seconds);
  }
}

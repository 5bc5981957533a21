package org.wclust.internal.cluster;

import java.util.function.DoubleFunction;

/**
 * The smallest multiplier whose measure is within a goal, for a measure that falls as the multiplier
 * grows (a rate against its Lagrange multiplier): from {@code from} the multiplier grows by
 * {@code growth} until the measure is within the goal, then bisects in log scale between the last
 * multiplier over it and the first within it (halfway down by {@code growth} while the lower end is
 * 0) until the measure is within the goal and close to it. Shared by the budget trim and the
 * allocation's filled step.
 */
final class FallingSearch {
  /** A multiplier, its measure, and what was measured (a clustering, layers). */
  record Point<T>(double multiplier, double value, T at) {}

  private FallingSearch() {}

  /**
   * @param lowest the lower end of the first bracket (over the goal, or 0)
   * @param from the first multiplier measured
   * @param growth what the multiplier is multiplied by until the measure is within the goal
   * @param max the largest multiplier tried while growing
   * @param bisections the most bisections
   * @param closeEnough the bisection stops within the goal and this close to it (relative)
   * @return the point within the goal with the smallest multiplier found, or the last one grown to when
   *     even that is over the goal
   */
  static <T> Point<T> smallestWithin(double lowest, double from, double growth, double max, int bisections,
      double closeEnough, double goal, DoubleFunction<Point<T>> measure) {
    double lo = lowest;
    Point<T> hi = measure.apply(from);
    while (hi.value() > goal && hi.multiplier() < max) {
      lo = hi.multiplier();
      hi = measure.apply(hi.multiplier() * growth);
    }
    if (hi.value() > goal) {
      return hi;
    }
    for (int i = 0; i < bisections && lo < hi.multiplier() && goal - hi.value() > closeEnough * goal; i++) {
      double mid = lo == 0 ? hi.multiplier() / growth : Math.sqrt(lo * hi.multiplier());
      Point<T> at = measure.apply(mid);
      if (at.value() > goal) {
        lo = mid;
      } else {
        hi = at;
      }
    }
    return hi;
  }
}

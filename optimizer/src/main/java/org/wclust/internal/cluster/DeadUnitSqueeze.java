package org.wclust.internal.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * After fine-tuning, puts every weight of each dead unit on one centroid. A unit (one output channel of
 * a clustered kernel: its slice along the last axis) is dead when no example's gradient reaches any of
 * its weights, e.g. a ReLU unit that never fires. Its weights then spend bits on nothing; all on the
 * tensor's most frequent centroid, they take the shortest code, and, being contiguous in TFLite's
 * output-channel-major kernels, deflate to almost nothing.
 *
 * <p>A collapse can revive the unit: its pre-activation moves with its weights. Moving weights that no
 * gradient reaches one by one to shorter codes, in both directions and on both sides of dead units,
 * took the benchmark CNN from 89.7 % to 54.4 % (k = 16, seed 1). So every collapse is kept only when the model's
 * outputs on the check examples stay what they were (a unit that stays dead contributes exactly zero),
 * tried for a tensor's dead units all together, then each half, on each of its {@link #CANDIDATES} most
 * frequent centroids in turn, as many times in all as the caller allows (at most {@link
 * #MAX_EVALUATIONS}); a dead unit that no try keeps stays as fine-tuning left it.
 */
public final class DeadUnitSqueeze {
  /** How many of a tensor's most frequent centroids its dead units are tried on. */
  static final int CANDIDATES = 4;
  /**
   * The most times the outputs are computed (each a pass over the check examples), whatever the caller
   * allows: a model with dead units in many tensors keeps the collapses found within them, the rest of its
   * dead units stay.
   */
  public static final int MAX_EVALUATIONS = 40;
  /** The largest change of an output, relative to its size (at least 1), that still counts as none. */
  static final double TOLERANCE = 1e-6;

  /** The model's outputs on the check examples with the given clustered layers (their indices). */
  @FunctionalInterface
  public interface Outputs {
    float[] of(List<ClusteredLayer> layers);
  }

  /**
   * @param model the squeezed model
   * @param deadUnits units no example's gradient reaches, over every tensor
   * @param collapsedUnits of those, the ones now on one centroid
   * @param weightsMoved weights whose index changed
   * @param evaluations times the outputs were computed
   */
  public record Result(ClusteredModel model, int deadUnits, int collapsedUnits, long weightsMoved,
      int evaluations) {}

  private final Outputs outputs;
  private final float[] reference;
  private final List<ClusteredLayer> layers;
  private final int maxEvaluations;
  private int evaluations;

  private DeadUnitSqueeze(ClusteredModel model, Outputs outputs, int maxEvaluations) {
    this.outputs = outputs;
    this.maxEvaluations = Math.min(maxEvaluations, MAX_EVALUATIONS);
    this.layers = new ArrayList<>(model.layers());
    this.reference = outputs.of(layers);
    this.evaluations = 1;
  }

  /**
   * @param original per clustered layer, its weights before clustering (the SSE the result reports)
   * @param reach per weight name, per weight zero where no example's gradient reaches it on the
   *     fine-tuned model (e.g. {@link org.wclust.internal.calibrate.Calibration#reach}, or the Fisher)
   * @param maxEvaluations the most times {@code outputs} may be computed, the reference included
   */
  public static Result squeeze(ClusteredModel model, List<float[]> original, Map<String, float[]> reach,
      Outputs outputs, int maxEvaluations) {
    DeadUnitSqueeze s = new DeadUnitSqueeze(model, outputs, maxEvaluations);
    int dead = 0;
    int collapsed = 0;
    long moved = 0;
    for (int t = 0; t < s.layers.size(); t++) {
      ClusteredLayer l = s.layers.get(t);
      float[] f = reach.get(l.weight().name());
      long[] shape = l.weight().shape();
      // Per tensor codebooks without a sparsity mask only: every element may take every centroid.
      if (f == null || shape.length < 2 || l.clustering().groups() != 1 || l.sparsityMasked()) {
        continue;
      }
      List<Integer> units = deadUnits(f, (int) shape[shape.length - 1]);
      if (units.isEmpty() || units.size() == shape[shape.length - 1]) {
        // No example reached any of the tensor's weights: that says more about the examples than the units.
        continue;
      }
      dead += units.size();
      int[] before = l.clustering().indices();
      int[] indices = before.clone();
      List<Integer> remaining = new ArrayList<>(units);
      for (int c : mostFrequent(indices, l.clustering().codebook().length)) {
        if (remaining.isEmpty() || s.evaluations >= s.maxEvaluations) {
          break;
        }
        List<Integer> kept = s.collapse(t, indices, remaining, c);
        remaining.removeAll(kept);
        collapsed += kept.size();
      }
      for (int i = 0; i < indices.length; i++) {
        moved += indices[i] != before[i] ? 1 : 0;
      }
    }
    return new Result(BudgetTrim.withLayers(model, s.layers, original), dead, collapsed, moved, s.evaluations);
  }

  /** The units (last-axis positions) whose every weight has zero reach. */
  static List<Integer> deadUnits(float[] reach, int units) {
    boolean[] reached = new boolean[units];
    for (int i = 0; i < reach.length; i++) {
      if (reach[i] != 0) {
        reached[i % units] = true;
      }
    }
    return IntStream.range(0, units).filter(u -> !reached[u]).boxed().toList();
  }

  /** The {@link #CANDIDATES} centroids with the most members, most first (ties: lower index). */
  static List<Integer> mostFrequent(int[] indices, int k) {
    long[] counts = new long[k];
    for (int i : indices) {
      counts[i]++;
    }
    return IntStream.range(0, k).boxed()
        .sorted(Comparator.comparingLong((Integer c) -> -counts[c]).thenComparing(c -> c))
        .limit(CANDIDATES).toList();
  }

  /**
   * Puts the weights of {@code units} of layer {@code t} on centroid {@code c} where the outputs stay:
   * all of them if they do, else each half that does. Writes what it keeps into {@code indices} and the
   * layer list, and returns the units kept.
   */
  private List<Integer> collapse(int t, int[] indices, List<Integer> units, int c) {
    if (keeps(t, indices, units, c)) {
      return List.copyOf(units);
    }
    List<Integer> kept = new ArrayList<>();
    if (units.size() > 1) {
      int half = units.size() / 2;
      for (List<Integer> part : List.of(units.subList(0, half), units.subList(half, units.size()))) {
        if (keeps(t, indices, part, c)) {
          kept.addAll(part);
        }
      }
    }
    return kept;
  }

  /** Whether the outputs stay with {@code units} on centroid {@code c}; if so, the collapse is made. */
  private boolean keeps(int t, int[] indices, List<Integer> units, int c) {
    if (evaluations >= maxEvaluations) {
      return false;
    }
    int[] trial = indices.clone();
    int n = (int) layers.get(t).weight().shape()[layers.get(t).weight().shape().length - 1];
    for (int u : units) {
      for (int i = u; i < trial.length; i += n) {
        trial[i] = c;
      }
    }
    ClusteredLayer before = layers.get(t);
    layers.set(t, withIndices(before, trial));
    evaluations++;
    if (same(outputs.of(layers), reference)) {
      System.arraycopy(trial, 0, indices, 0, trial.length);
      return true;
    }
    layers.set(t, before);
    return false;
  }

  private static boolean same(float[] now, float[] reference) {
    for (int i = 0; i < now.length; i++) {
      if (!(Math.abs(now[i] - reference[i]) <= TOLERANCE * Math.max(1, Math.abs(reference[i])))) {
        return false;
      }
    }
    return true;
  }

  private static ClusteredLayer withIndices(ClusteredLayer l, int[] indices) {
    TensorClustering c = l.clustering();
    return BudgetTrim.withClustering(l, new TensorClustering(c.codebook(), indices, c.groups(), c.sse(),
        c.maxDistinctPerGroup(), c.keptOriginalValues(), c.emptyClusters()));
  }
}

package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import org.wclust.internal.graph.WeightTensor;

/**
 * Per-layer allocation ({@code --budget}): chooses k for every layer, from the powers of two up to
 * the {@code --clusters} maximum, so that the model meets a budget ({@link RateControl.Target}) with
 * the least sensitivity-weighted squared error {@code Σ_l s_l · SSE_l(k_l)}.
 *
 * <p>The sensitivity is a data-free proxy: {@code s_l = 1 / Σ w²} of the layer, so each layer's
 * squared error counts relative to its own energy (a layer's output changes by about its relative
 * weight error, whatever its scale or size). Every layer is clustered at every candidate k with
 * minimum squared error ({@code optimal}), giving its error and its rate (index bits, or its values
 * deflated alone). For a multiplier μ each layer takes the candidate minimising {@code s_l SSE_l + μ R_l};
 * as μ grows from 0 the allocations form a path from the most accurate to the smallest, one layer
 * stepping down at a time. The allocation returned is the first on that path whose measure is within
 * the budget, found by binary search along the path with the budget's own measure: the index bits per
 * weight, or the zipped .tflite predicted by {@link ZippedSizePredictor} (the original .tflite with the
 * clustered values written over its weights, deflated whole, as {@code --target-size} measures it), so
 * a zipped-size budget is stated in, and met in, the bytes of the real file. A budget that even the
 * path's last allocation (k = 2 everywhere) exceeds is reported as not reached, with that allocation.
 */
public final class LayerAllocation {
  private LayerAllocation() {}

  /**
   * The chosen k per weight name, and what the allocation reaches.
   *
   * @param clusters k per weight name, in the order of the targets
   * @param reached bits per weight or predicted zipped bytes of the allocation
   * @param withinBudget whether {@code reached} is within the budget
   */
  public record Result(Map<String, Integer> clusters, double reached, boolean withinBudget) {}

  /**
   * @param maxK the largest k a layer may get (at least 2)
   * @param settings granularity and sparsity of the clustering (init and rate weight are ignored:
   *     each candidate is clustered with minimum squared error)
   * @param size for a zipped-size budget, the predictor of the model's zipped .tflite from the
   *     targets' values (in the order of {@code targets}); unused (may be null) for a bits budget
   */
  public static Result allocate(List<WeightTensor> targets, List<float[]> values, int maxK, ClusterSettings settings,
      RateControl.Target target, ZippedSizePredictor size) {
    checkArgument(maxK >= 2, "--clusters must be at least 2, got %s", maxK);
    boolean bits = target.kind() == RateControl.Kind.BITS_PER_WEIGHT;
    checkArgument(bits || size != null, "a zipped-size budget needs the size predictor");
    List<Integer> candidates = new ArrayList<>();
    for (int k = 2; k < maxK; k *= 2) {
      candidates.add(k);
    }
    candidates.add(maxK);
    int layers = targets.size();
    double[][] error = new double[layers][candidates.size()];
    double[][] rate = new double[layers][candidates.size()];
    float[][][] reconstructed = bits ? null : new float[layers][candidates.size()][];
    long weights = 0;
    for (int l = 0; l < layers; l++) {
      float[] v = values.get(l);
      weights += v.length;
      double energy = 0;
      for (float x : v) {
        energy += (double) x * x;
      }
      double sensitivity = energy > 0 ? 1 / energy : 1;
      for (int c = 0; c < candidates.size(); c++) {
        ClusterSettings s = new ClusterSettings(candidates.get(c), InitMethod.OPTIMAL, false, settings.granularity(),
            settings.preserveSparsity(), settings.seed());
        TensorClustering clustering = WeightClusterer.cluster(v, targets.get(l).channels(), s);
        error[l][c] = sensitivity * clustering.sse();
        if (bits) {
          rate[l][c] = RateControl.indexBits(clustering, targets.get(l), s);
        } else {
          reconstructed[l][c] = clustering.reconstruct();
          rate[l][c] = RateControl.deflatedBytes(reconstructed[l][c]);
        }
      }
    }
    long n = weights;
    ToDoubleFunction<int[]> measure = bits ? choice -> total(rate, choice) / n
        : choice -> size.predict(chosenValues(reconstructed, choice));
    List<int[]> path = lagrangianPath(error, rate);
    // The path's measure falls along it (each step lowers one layer's rate): find its first point within budget.
    int lo = 0;
    int hi = path.size() - 1;
    double atHi = measure.applyAsDouble(path.get(hi));
    if (atHi > target.value()) {
      return result(targets, candidates, path.get(hi), atHi, false);
    }
    double atLo = measure.applyAsDouble(path.get(lo));
    if (atLo <= target.value()) {
      return result(targets, candidates, path.get(lo), atLo, true);
    }
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      double atMid = measure.applyAsDouble(path.get(mid));
      if (atMid <= target.value()) {
        hi = mid;
        atHi = atMid;
      } else {
        lo = mid;
      }
    }
    return result(targets, candidates, path.get(hi), atHi, true);
  }

  /**
   * The distinct allocations {@code argmin_c error + μ · rate} per layer as μ runs from 0 to infinity,
   * in that order: one evaluated between every two consecutive multipliers where some layer's choice changes.
   */
  static List<int[]> lagrangianPath(double[][] error, double[][] rate) {
    TreeSet<Double> breaks = new TreeSet<>();
    for (int l = 0; l < error.length; l++) {
      for (int a = 0; a < error[l].length; a++) {
        for (int b = 0; b < error[l].length; b++) {
          if (rate[l][a] > rate[l][b] && error[l][a] < error[l][b]) {
            breaks.add((error[l][b] - error[l][a]) / (rate[l][a] - rate[l][b]));
          }
        }
      }
    }
    List<Double> mus = new ArrayList<>();
    mus.add(0.0);
    Double previous = null;
    for (double mu : breaks) {
      if (previous != null) {
        mus.add((previous + mu) / 2);
      }
      previous = mu;
    }
    if (previous != null) {
      mus.add(previous * 2 + 1);
    }
    List<int[]> path = new ArrayList<>();
    for (double mu : mus) {
      int[] choice = choose(error, rate, mu);
      if (path.isEmpty() || !Arrays.equals(path.get(path.size() - 1), choice)) {
        path.add(choice);
      }
    }
    return path;
  }

  private static List<float[]> chosenValues(float[][][] reconstructed, int[] choice) {
    List<float[]> chosen = new ArrayList<>(choice.length);
    for (int l = 0; l < choice.length; l++) {
      chosen.add(reconstructed[l][choice[l]]);
    }
    return chosen;
  }

  private static int[] choose(double[][] error, double[][] rate, double mu) {
    int[] choice = new int[error.length];
    for (int l = 0; l < error.length; l++) {
      double best = Double.POSITIVE_INFINITY;
      for (int c = 0; c < error[l].length; c++) {
        // Ties go to the smaller rate, so that at a breakpoint's far side the layer has stepped down.
        double v = error[l][c] + mu * rate[l][c];
        if (v < best || (v == best && rate[l][c] < rate[l][choice[l]])) {
          best = v;
          choice[l] = c;
        }
      }
    }
    return choice;
  }

  private static double total(double[][] rate, int[] choice) {
    double sum = 0;
    for (int l = 0; l < rate.length; l++) {
      sum += rate[l][choice[l]];
    }
    return sum;
  }

  private static Result result(List<WeightTensor> targets, List<Integer> candidates, int[] choice, double reached,
      boolean within) {
    Map<String, Integer> clusters = new LinkedHashMap<>();
    for (int l = 0; l < targets.size(); l++) {
      clusters.put(targets.get(l).name(), candidates.get(choice[l]));
    }
    return new Result(clusters, reached, within);
  }
}

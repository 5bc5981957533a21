package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wclust.internal.graph.WeightTensor;

/**
 * Per-layer allocation ({@code --budget}): chooses k for every layer, from the powers of two up to
 * the {@code --clusters} maximum, so that the model meets a budget ({@link RateControl.Target}) with
 * the least sensitivity-weighted squared error {@code Σ_l s_l · SSE_l(k_l)}.
 *
 * <p>The sensitivity is a data-free proxy: {@code s_l = 1 / Σ w²} of the layer, so each layer's
 * squared error counts relative to its own energy (a layer's output changes by about its relative
 * weight error, whatever its scale or size). Every layer is clustered at every candidate k with
 * minimum squared error ({@code optimal}), giving its error and its rate (index bits, or deflated
 * bytes); the allocation minimises {@code Σ s_l SSE_l + μ Σ R_l} per layer for a multiplier μ, and
 * μ is bisected to the least value whose total rate is within the budget. A budget that even k = 2
 * everywhere exceeds is reported as not reached, with k = 2 everywhere.
 */
public final class LayerAllocation {
  private static final int BISECTIONS = 60;

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
   * @param fixedBytes for a zipped-size budget, what the rest of the model adds
   */
  public static Result allocate(List<WeightTensor> targets, List<float[]> values, int maxK, ClusterSettings settings,
      RateControl.Target target, long fixedBytes) {
    checkArgument(maxK >= 2, "--clusters must be at least 2, got %s", maxK);
    List<Integer> candidates = new ArrayList<>();
    for (int k = 2; k < maxK; k *= 2) {
      candidates.add(k);
    }
    candidates.add(maxK);
    int layers = targets.size();
    double[][] error = new double[layers][candidates.size()];
    double[][] rate = new double[layers][candidates.size()];
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
        rate[l][c] = target.kind() == RateControl.Kind.BITS_PER_WEIGHT
            ? RateControl.indexBits(clustering, targets.get(l), s)
            : RateControl.deflatedBytes(clustering.reconstruct());
      }
    }
    double scale = target.kind() == RateControl.Kind.BITS_PER_WEIGHT ? 1.0 / weights : 1;
    double offset = target.kind() == RateControl.Kind.BITS_PER_WEIGHT ? 0 : fixedBytes;
    // μ = 0 takes the most accurate candidate everywhere; a large μ the smallest.
    int[] choice = choose(error, rate, 0);
    if (offset + scale * total(rate, choice) <= target.value()) {
      return result(targets, candidates, choice, offset + scale * total(rate, choice), true);
    }
    double lo = 0;
    double hi = 1e-12;
    while (offset + scale * total(rate, choose(error, rate, hi)) > target.value() && hi < 1e12) {
      lo = hi;
      hi *= 10;
    }
    for (int i = 0; i < BISECTIONS; i++) {
      double mid = lo == 0 ? hi / 2 : Math.sqrt(lo * hi);
      if (offset + scale * total(rate, choose(error, rate, mid)) > target.value()) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    choice = choose(error, rate, hi);
    double reached = offset + scale * total(rate, choice);
    return result(targets, candidates, choice, reached, reached <= target.value());
  }

  private static int[] choose(double[][] error, double[][] rate, double mu) {
    int[] choice = new int[error.length];
    for (int l = 0; l < error.length; l++) {
      double best = Double.POSITIVE_INFINITY;
      for (int c = 0; c < error[l].length; c++) {
        double v = error[l][c] + mu * rate[l][c];
        if (v < best) {
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

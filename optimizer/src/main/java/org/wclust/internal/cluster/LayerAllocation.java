package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;
import org.wclust.internal.graph.WeightTensor;

/**
 * Per-layer allocation ({@code --budget}): chooses every layer's clustering, k from the powers of two
 * up to the {@code --clusters} maximum and how much index entropy it trades for squared error, so
 * that the model meets a budget ({@link RateControl.Target}) with the least sensitivity-weighted
 * error {@code Σ_l D_l}.
 *
 * <p>The candidates of a layer are, at every k, the minimum-squared-error clustering and the knee
 * clustering ({@link RateDistortion}) at {@link #RATE_SCALES} times the layer's default rate weight
 * (its share of {@link RateDistortion#KNEE_WEIGHT}, as {@link ClusterRewriter#layerSettings} gives it):
 * at the same k a knee clustering deflates much smaller for a little more error, so a budget is
 * often met better by keeping k and lowering the entropy than by halving k. Each candidate's rate is
 * its index bits, or its values deflated alone. Its error {@code D_l} is measured where the data is:
 * with calibration data, the loss increase its clustering predicts to second order,
 * {@code ½ Σ F_i (w_i − ŵ_i)²} with the diagonal Fisher F of {@code Calibration}; without, a
 * data-free proxy, the squared error relative to the layer's weight energy ({@code SSE / Σ w²}: a
 * layer's output moves by about its relative weight error, whatever its scale or size).
 *
 * <p>For a multiplier μ each layer takes the candidate minimising {@code D_l + μ R_l}; as μ grows from
 * 0 the allocations form a path from the most accurate to the smallest, one layer stepping down at a
 * time. The allocation returned is the first on that path whose measure is within the budget, found
 * by binary search along the path with the budget's own measure: the index bits per weight, or the
 * zipped .tflite predicted by {@link ZippedSizePredictor} (the original .tflite with the clustered
 * values written over its weights, deflated whole, as {@code --target-size} measures it), so a
 * zipped-size budget is stated in, and met in, the bytes of the real file. A budget that even the
 * path's last allocation exceeds is reported as not reached, with that allocation.
 */
public final class LayerAllocation {
  /**
   * The knee multipliers tried at every k, in units of the layer's default rate weight: 0 is minimum
   * squared error, 1 the default clustering, 4 a strong knee (on the Fashion-MNIST CNN about a
   * quarter fewer zipped bytes again at k = 8).
   */
  static final double[] RATE_SCALES = {0, 1, 4};

  private LayerAllocation() {}

  /**
   * The chosen clustering per weight name, and what the allocation reaches.
   *
   * @param clusters k per weight name, in the order of the targets
   * @param rateScales per weight name, the multiple of its default knee rate weight it is clustered
   *     with (0: minimum squared error), in the order of the targets
   * @param reached bits per weight or predicted zipped bytes of the allocation
   * @param withinBudget whether {@code reached} is within the budget
   */
  public record Result(Map<String, Integer> clusters, Map<String, Double> rateScales, double reached,
      boolean withinBudget) {
    /** The settings to cluster with: knee at the default weight, each layer scaled by {@link #rateScales}. */
    public ClusterSettings settings(ClusterSettings like) {
      return kneeBase(like);
    }

    /** {@code hints} with this allocation's rate scales (and no others). */
    public LayerHints hints(LayerHints hints) {
      return new LayerHints(hints.importance(), hints.granularity(), rateScales);
    }
  }

  /**
   * @param maxK the largest k a layer may get (at least 2)
   * @param settings granularity, sparsity and seed of the clustering (init and rate weight are chosen
   *     here)
   * @param hints per-weight granularity and clustering importance, as the clustering will use them
   *     (their rate scales are ignored: the allocation chooses those)
   * @param fisher the diagonal Fisher per weight name from calibration data, or null for the data-free
   *     proxy
   * @param size for a zipped-size budget, the predictor of the model's zipped .tflite from the
   *     targets' values (in the order of {@code targets}); unused (may be null) for a bits budget
   */
  public static Result allocate(List<WeightTensor> targets, List<float[]> values, int maxK, ClusterSettings settings,
      LayerHints hints, Map<String, float[]> fisher, RateControl.Target target, ZippedSizePredictor size) {
    checkArgument(maxK >= 2, "--clusters must be at least 2, got %s", maxK);
    boolean bits = target.kind() == RateControl.Kind.BITS_PER_WEIGHT;
    checkArgument(bits || size != null, "a zipped-size budget needs the size predictor");
    List<Integer> ks = new ArrayList<>();
    for (int k = 2; k < maxK; k *= 2) {
      ks.add(k);
    }
    ks.add(maxK);
    LayerHints clusteringHints = hints.withoutRateScale();
    int layers = targets.size();
    int perLayer = ks.size() * RATE_SCALES.length;
    ClusterSettings[][] candidates = new ClusterSettings[layers][perLayer];
    for (int c = 0; c < perLayer; c++) {
      int k = ks.get(c / RATE_SCALES.length);
      double scale = RATE_SCALES[c % RATE_SCALES.length];
      Map<String, Integer> everyLayerAtK = new HashMap<>();
      targets.forEach(w -> everyLayerAtK.put(w.name(), k));
      List<ClusterSettings> shared = ClusterRewriter.layerSettings(targets, everyLayerAtK, kneeBase(settings));
      for (int l = 0; l < layers; l++) {
        ClusterSettings s = clusteringHints.apply(targets.get(l).name(), shared.get(l));
        candidates[l][c] = s.withRateWeight(s.rateWeight() * scale);
      }
    }
    double[][] error = new double[layers][perLayer];
    double[][] rate = new double[layers][perLayer];
    long weights = 0;
    for (float[] v : values) {
      weights += v.length;
    }
    // Every (layer, candidate) is independent: measure them on all cores, each into its own cell.
    IntStream.range(0, layers * perLayer).parallel().forEach(i -> {
      int l = i / perLayer;
      int c = i % perLayer;
      WeightTensor w = targets.get(l);
      TensorClustering clustering = cluster(w, values.get(l), clusteringHints, candidates[l][c]);
      float[] reconstructed = clustering.reconstruct();
      error[l][c] = fisher != null && fisher.containsKey(w.name())
          ? lossIncrease(values.get(l), reconstructed, fisher.get(w.name()))
          : relativeError(values.get(l), reconstructed);
      rate[l][c] = bits ? RateControl.indexBits(clustering, w, candidates[l][c])
          : RateControl.deflatedBytes(reconstructed);
    });
    long n = weights;
    // The zipped measure needs the clustered values; cluster again only what the search looks at.
    Map<Long, float[]> reconstructed = new HashMap<>();
    ToDoubleFunction<int[]> measure = bits ? choice -> total(rate, choice) / n
        : choice -> size.predict(IntStream.range(0, layers)
            .mapToObj(l -> reconstructed.computeIfAbsent((long) l * perLayer + choice[l],
                key -> cluster(targets.get(l), values.get(l), clusteringHints, candidates[l][choice[l]]).reconstruct()))
            .toList());
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

  /** The knee at the default weight, with the granularity, sparsity and seed of {@code like}. */
  private static ClusterSettings kneeBase(ClusterSettings like) {
    return new ClusterSettings(like.clusters(), InitMethod.KNEE, false, like.granularity(), like.preserveSparsity(),
        like.seed(), 0, RateDistortion.KNEE_WEIGHT);
  }

  /** Clusters as {@code ClusterRewriter.cluster} will, with the weight's clustering importance. */
  private static TensorClustering cluster(WeightTensor w, float[] values, LayerHints hints, ClusterSettings s) {
    return WeightClusterer.cluster(values, hints.importance().get(w.name()), w.channels(), s);
  }

  /**
   * {@code ½ Σ F_i (w_i − ŵ_i)²}: the loss increase that clustering {@code values} to {@code clustered}
   * predicts to second order, with the diagonal Fisher {@code fisher} (also the report's per-layer
   * sensitivity, {@code Calibration.layerSensitivity}).
   */
  public static double lossIncrease(float[] values, float[] clustered, float[] fisher) {
    double sum = 0;
    for (int i = 0; i < values.length; i++) {
      double e = (double) values[i] - clustered[i];
      sum += 0.5 * fisher[i] * e * e;
    }
    return sum;
  }

  /** {@code Σ (w_i − ŵ_i)² / Σ w_i²} (the squared error when the weights are all zero). */
  static double relativeError(float[] values, float[] clustered) {
    double sse = 0;
    double energy = 0;
    for (int i = 0; i < values.length; i++) {
      double e = (double) values[i] - clustered[i];
      sse += e * e;
      energy += (double) values[i] * values[i];
    }
    return energy > 0 ? sse / energy : sse;
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

  private static Result result(List<WeightTensor> targets, ClusterSettings[][] candidates, int[] choice,
      double reached, boolean within) {
    Map<String, Integer> clusters = new LinkedHashMap<>();
    Map<String, Double> rateScales = new LinkedHashMap<>();
    for (int l = 0; l < targets.size(); l++) {
      clusters.put(targets.get(l).name(), candidates[l][choice[l]].clusters());
      rateScales.put(targets.get(l).name(), RATE_SCALES[choice[l] % RATE_SCALES.length]);
    }
    return new Result(clusters, rateScales, reached, within);
  }
}

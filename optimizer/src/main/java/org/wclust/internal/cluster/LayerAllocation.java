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
 * layer's output moves by about its relative weight error, whatever its scale or size). With
 * fine-tuning to follow ({@code --data}), the pipeline measures the Fisher on a few training examples
 * when no calibration data is given, and each candidate counts only the part of its error that
 * fine-tuning is expected to leave ({@link #KNEE_EXCESS_AFTER_FINE_TUNING}).
 *
 * <p>For a multiplier μ each layer takes the candidate minimising {@code D_l + μ R_l}; as μ grows from
 * 0 the allocations form a path from the most accurate to the smallest, one layer stepping down at a
 * time. The allocation returned is the first on that path whose measure is within the budget, found
 * by binary search along the path with the budget's own measure: the index bits per weight, or the
 * zipped .tflite predicted by {@link ZippedSizePredictor} (the original .tflite with the clustered
 * values written over its weights, deflated whole, as {@code --target-size} measures it), so a
 * zipped-size budget is stated in, and met in, the bytes of the real file. The path's steps are
 * discrete, so the layer whose step crosses the budget then gets a continuous knee scale that fills
 * it ({@link #fillTheStep}). A budget that even the path's last allocation exceeds is reported as not
 * reached, with that allocation.
 */
public final class LayerAllocation {
  /**
   * The knee multipliers tried at every k, in units of the layer's default rate weight: 0 is minimum
   * squared error, 1 the default clustering, 4 a strong knee (on the Fashion-MNIST CNN about a
   * quarter fewer zipped bytes again at k = 8).
   */
  static final double[] RATE_SCALES = {0, 1, 4};

  /**
   * With fine-tuning to follow, the share of a knee clustering's error above the minimum-squared-error
   * clustering at the same k that it still counts: fine-tuning recovers most of it. Measured on the
   * benchmark CNN (seed 5, Dense kernel, k = 8): the default knee's squared error is 12 times the
   * minimum's (its output error 4.5 % against 0.57 %), yet after one epoch of fine-tuning both are
   * as accurate (five-seed means at k = 8 / 16 / 32: 89.39 / 89.58 / 89.52 % against
   * 89.29 / 89.44 / 89.53 %). Counted whole, the excess made the allocation prefer a smaller k with a
   * weak knee (the Dense kernel at k = 4) to a larger k with a strong one.
   */
  static final double KNEE_EXCESS_AFTER_FINE_TUNING = 0.1;

  /** The range of a stepping layer's continuous knee scale ({@link #fillTheStep}), and when it is close enough. */
  private static final double MIN_FILL_SCALE = 1.0 / 64;
  private static final double MAX_FILL_SCALE = 64;
  private static final int FILL_BISECTIONS = 16;
  private static final double FILL_CLOSE_ENOUGH = 0.003;

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
    return allocate(targets, values, maxK, settings, hints, fisher, target, size, false);
  }

  /**
   * As {@link #allocate(List, List, int, ClusterSettings, LayerHints, Map, RateControl.Target,
   * ZippedSizePredictor)}, and with {@code fineTuned} each candidate's error is what fine-tuning is
   * expected to leave of it: the minimum-squared-error error at its k plus
   * {@link #KNEE_EXCESS_AFTER_FINE_TUNING} of its knee's excess over that.
   */
  public static Result allocate(List<WeightTensor> targets, List<float[]> values, int maxK, ClusterSettings settings,
      LayerHints hints, Map<String, float[]> fisher, RateControl.Target target, ZippedSizePredictor size,
      boolean fineTuned) {
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
      error[l][c] = error(w, values.get(l), reconstructed, fisher);
      rate[l][c] = bits ? RateControl.indexBits(clustering, w, candidates[l][c])
          : RateControl.deflatedBytes(reconstructed);
    });
    double[][] minimumAtK = new double[layers][perLayer];
    for (int l = 0; l < layers; l++) {
      for (int c = 0; c < perLayer; c++) {
        // RATE_SCALES[0] is 0: each k's first candidate is its minimum-squared-error clustering.
        minimumAtK[l][c] = error[l][c - c % RATE_SCALES.length];
      }
      if (fineTuned) {
        for (int c = 0; c < perLayer; c++) {
          error[l][c] = afterFineTuning(minimumAtK[l][c], error[l][c]);
        }
      }
    }
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
    Result within = result(targets, candidates, path.get(hi), atHi, true);
    Result filled = fillTheStep(targets, values, clusteringHints, fisher, candidates, path.get(lo), path.get(hi),
        target, bits ? null : size, fineTuned ? minimumAtK : null);
    return filled != null && filled.reached() > within.reached() ? filled : within;
  }

  /**
   * The path moves in steps, one layer's candidate at a time, and a large layer's step can be a large
   * part of the budget (the Fashion-MNIST CNN's 205,000-weight Dense kernel at k = 8 steps from 82 KB,
   * k = 4 at minimum squared error, to 46 KB, k = 2, in a budget of 70 KB): the first point within
   * budget may fall well short of it. Between the last point over budget and the first within it, the
   * layer that stepped gets, instead of its next candidate, a continuous knee scale at its k there or
   * a larger one: at each such k the smallest scale (bisected in log scale) that brings the model
   * within budget, and of those the one with the least error. The other layers take their choice at
   * the point within budget. Null when no such scale is found.
   */
  private static Result fillTheStep(List<WeightTensor> targets, List<float[]> values, LayerHints hints,
      Map<String, float[]> fisher, ClusterSettings[][] candidates, int[] over, int[] within, RateControl.Target target,
      ZippedSizePredictor size, double[][] minimumAtK) {
    int layers = targets.size();
    // The layer that stepped (of several, at a tie, the largest: the others take their step).
    int stepped = -1;
    for (int m = 0; m < layers; m++) {
      if (over[m] != within[m] && (stepped < 0 || values.get(m).length > values.get(stepped).length)) {
        stepped = m;
      }
    }
    if (stepped < 0) {
      return null;
    }
    int l = stepped;
    WeightTensor w = targets.get(l);
    List<float[]> fixed = new ArrayList<>();
    double fixedBits = 0;
    for (int m = 0; m < layers; m++) {
      TensorClustering c = m == l ? null : cluster(targets.get(m), values.get(m), hints, candidates[m][within[m]]);
      fixed.add(c == null ? null : c.reconstruct());
      fixedBits += c == null ? 0 : RateControl.indexBits(c, targets.get(m), candidates[m][within[m]]);
    }
    long weights = values.stream().mapToLong(v -> v.length).sum();
    double bitsOfOthers = fixedBits;
    Result best = null;
    double bestError = Double.POSITIVE_INFINITY;
    // Candidates are grouped by k, RATE_SCALES.length per k: the first of the stepping layer's k over budget.
    int overK = over[l] - over[l] % RATE_SCALES.length;
    for (int atK = overK; atK < candidates[l].length; atK += RATE_SCALES.length) {
      // Scales are multiples of the layer's default knee weight at its k: its candidate at scale 1.
      ClusterSettings unit = candidates[l][atK + Arrays.binarySearch(RATE_SCALES, 1.0)];
      // At its k over budget, from the scale it had there (a larger one is what stepped); above, from any.
      double fromScale = Math.max(atK == overK ? RATE_SCALES[over[l] % RATE_SCALES.length] : 0, MIN_FILL_SCALE);
      FallingSearch.Point<TensorClustering> filled = FallingSearch.smallestWithin(fromScale, fromScale, 2,
          MAX_FILL_SCALE, FILL_BISECTIONS, FILL_CLOSE_ENOUGH, target.value(), scale -> {
            ClusterSettings s = unit.withRateWeight(unit.rateWeight() * scale);
            TensorClustering c = cluster(w, values.get(l), hints, s);
            if (size == null) {
              return new FallingSearch.Point<>(scale, (bitsOfOthers + RateControl.indexBits(c, w, s)) / weights, c);
            }
            List<float[]> all = new ArrayList<>(fixed);
            all.set(l, c.reconstruct());
            return new FallingSearch.Point<>(scale, size.predict(all), c);
          });
      if (filled.value() > target.value()) {
        continue;
      }
      double error = error(w, values.get(l), filled.at().reconstruct(), fisher);
      if (minimumAtK != null) {
        error = afterFineTuning(minimumAtK[l][atK], error);
      }
      if (error < bestError) {
        bestError = error;
        Result r = result(targets, candidates, within, filled.value(), true);
        Map<String, Integer> clusters = new LinkedHashMap<>(r.clusters());
        Map<String, Double> rateScales = new LinkedHashMap<>(r.rateScales());
        clusters.put(w.name(), unit.clusters());
        rateScales.put(w.name(), filled.multiplier());
        best = new Result(clusters, rateScales, filled.value(), true);
      }
    }
    return best;
  }

  /** A layer's error: the loss increase the Fisher predicts, or without it the data-free proxy. */
  private static double error(WeightTensor w, float[] values, float[] clustered, Map<String, float[]> fisher) {
    return fisher != null && fisher.containsKey(w.name()) ? lossIncrease(values, clustered, fisher.get(w.name()))
        : relativeError(values, clustered);
  }

  /** What fine-tuning is expected to leave of a clustering's error, given the minimum at its k. */
  static double afterFineTuning(double minimumAtK, double error) {
    return minimumAtK + KNEE_EXCESS_AFTER_FINE_TUNING * Math.max(0, error - minimumAtK);
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

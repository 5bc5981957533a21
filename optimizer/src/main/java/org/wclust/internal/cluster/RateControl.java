package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.gson.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.wclust.internal.graph.WeightTensor;

/**
 * Rate control: finds the rate weight of {@link InitMethod#KNEE} clustering (the Lagrange multiplier
 * of {@link RateDistortion}, in multiples of each codebook's optimal mean squared error, shared out
 * over the layers as {@link ClusterRewriter#layerSettings}) that meets a budget the user states:
 *
 * <ul>
 *   <li>{@link Kind#BITS_PER_WEIGHT}: entropy-coded bits per clustered weight — the ideal code length
 *       of each weight's index within its codebook, {@code Σ n_c log2(N_g / n_c)} summed over all
 *       codebooks, divided by the number of clustered weights;
 *   <li>{@link Kind#ZIPPED_BYTES}: the zipped .tflite, predicted by {@link ZippedSizePredictor}: the
 *       original model's .tflite with the clustered values written over its weights, deflated whole.
 * </ul>
 *
 * <p>Both fall as the weight grows (a larger multiplier buys fewer bits), so the search multiplies the
 * weight by 4 until the budget is met and then bisects (in log scale) between the last weight over budget
 * and the first within it; it returns the bracket's end within budget. A budget below what the
 * largest weight reaches, or above what minimum-SSE clustering needs, is reported as not reached.
 */
public final class RateControl {
  /** What a budget counts. */
  public enum Kind {
    BITS_PER_WEIGHT("target_bits"),
    ZIPPED_BYTES("target_size");

    private final String jsonName;

    Kind(String jsonName) {
      this.jsonName = jsonName;
    }
  }

  /**
   * A budget: {@code value} bits per clustered weight or zipped bytes; with {@code perLayer}, met by
   * choosing k per layer ({@link LayerAllocation}) instead of the knee's multiplier.
   */
  public record Target(Kind kind, double value, boolean perLayer) {
    public Target(Kind kind, double value) {
      this(kind, value, false);
    }

    public Target {
      checkArgument(value > 0 && Double.isFinite(value), "the budget must be a positive number, got %s", value);
    }

    @Override
    public String toString() {
      return (perLayer ? "per-layer " : "") + (kind == Kind.BITS_PER_WEIGHT ? String.format("%.4g bits per weight", value)
          : String.format("%d zipped bytes", Math.round(value)));
    }
  }

  /**
   * The search's result.
   *
   * @param target the budget asked
   * @param rateWeight the multiplier found
   * @param predicted the budget's measure at that multiplier (bits per weight, or predicted zipped bytes)
   * @param reached whether {@code predicted} is within the budget
   * @param evaluations clusterings of the whole model the search ran
   * @param aimedAt NaN, or the budget this search aimed at instead of {@code target} because a first
   *     fine-tuning moved the rate off it (see {@link #RETUNE_TOLERANCE})
   * @param firstPassReached with {@code aimedAt}: what the first fine-tuned model reached
   */
  public record Found(Target target, double rateWeight, double predicted, boolean reached, int evaluations,
      double aimedAt, double firstPassReached, Map<String, Integer> allocation,
      Map<String, Double> allocationRateScales) {
    Found(Target target, double rateWeight, double predicted, boolean reached, int evaluations) {
      this(target, rateWeight, predicted, reached, evaluations, Double.NaN, Double.NaN, null, null);
    }

    /** The result of a per-layer allocation ({@code --budget}): k and knee scale per layer, no multiplier. */
    public static Found allocated(Target target, LayerAllocation.Result result) {
      return new Found(target, Double.NaN, result.reached(), result.withinBudget(), 0, Double.NaN, Double.NaN,
          result.clusters(), result.rateScales());
    }

    /** This search, made for an aimed-off budget, reported against the budget asked. */
    public Found aimedFor(Target asked, double firstReached) {
      return new Found(asked, rateWeight, predicted, reached, evaluations, target.value(), firstReached,
          allocation, allocationRateScales);
    }

    public JsonObject toJson() {
      JsonObject o = new JsonObject();
      o.addProperty(target.kind().jsonName, target.value());
      if (!Double.isNaN(aimedAt)) {
        o.addProperty("first_fine_tuning_reached", firstPassReached);
        o.addProperty("aimed_at", aimedAt);
      }
      if (allocation != null) {
        JsonObject k = new JsonObject();
        allocation.forEach(k::addProperty);
        o.add("clusters_per_layer", k);
        JsonObject scales = new JsonObject();
        allocationRateScales.forEach(scales::addProperty);
        o.add("knee_scale_per_layer", scales);
      } else {
        o.addProperty("rate_weight", rateWeight);
        o.addProperty("evaluations", evaluations);
      }
      o.addProperty(target.kind() == Kind.BITS_PER_WEIGHT ? "bits_per_weight" : "predicted_zipped_bytes", predicted);
      o.addProperty("reached", reached);
      return o;
    }
  }

  /**
   * After fine-tuning, a rate further than this (relative) from the budget makes {@code Wclust} search
   * and fine-tune once more, aiming off by what the first fine-tuning moved.
   */
  public static final double RETUNE_TOLERANCE = 0.015;

  private static final double MAX_WEIGHT = 1e6;
  private static final int BISECTIONS = 24;
  /** The search stops when the measure is within budget and this close to it. */
  private static final double CLOSE_ENOUGH = 0.002;

  private RateControl() {}

  /**
   * The rate weight meeting {@code target} for the weights {@code targets} (values in the same order)
   * clustered with {@code settings} (init {@link InitMethod#KNEE}) and the per-weight k of {@code plan}.
   *
   * @param size for {@link Kind#ZIPPED_BYTES}: the zipped .tflite of the model with the targets' values
   */
  public static Found search(List<WeightTensor> targets, List<float[]> values, java.util.Map<String, Integer> plan,
      ClusterSettings settings, Target target, ZippedSizePredictor size) {
    return search(targets, values, plan, settings, LayerHints.NONE, target, size);
  }

  /**
   * As {@link #search(List, List, Map, ClusterSettings, Target, ZippedSizePredictor)}, clustering every
   * weight with the granularity and importance {@code hints} give it, as the rewriter will (else the
   * budget is met by other clusterings than those written, e.g. missed by 9 % with calibration data).
   */
  public static Found search(List<WeightTensor> targets, List<float[]> values, java.util.Map<String, Integer> plan,
      ClusterSettings settings, LayerHints hints, Target target, ZippedSizePredictor size) {
    checkArgument(settings.init() == InitMethod.KNEE,
        "a size budget (--target-bits, --target-size) chooses the knee clustering's multiplier; "
            + "it does not combine with --init %s", settings.init().cliName());
    int[] evaluations = {0};
    java.util.function.DoubleUnaryOperator measure = w -> {
      evaluations[0]++;
      List<ClusterSettings> layers = ClusterRewriter.layerSettings(targets, plan, settings.withRateWeight(w));
      double bits = 0;
      long weights = 0;
      List<float[]> clustered = new java.util.ArrayList<>();
      for (int t = 0; t < targets.size(); t++) {
        String name = targets.get(t).name();
        ClusterSettings layer = hints.apply(name, layers.get(t));
        TensorClustering c = WeightClusterer.cluster(values.get(t), hints.importance().get(name),
            targets.get(t).channels(), layer);
        if (target.kind() == Kind.BITS_PER_WEIGHT) {
          bits += indexBits(c, targets.get(t), layer);
          weights += values.get(t).length;
        } else {
          clustered.add(c.reconstruct());
        }
      }
      return target.kind() == Kind.BITS_PER_WEIGHT ? bits / weights : size.predict(clustered);
    };
    double goal = target.value();
    double atZero = measure.applyAsDouble(0);
    if (atZero <= goal) {
      return new Found(target, 0, atZero, true, evaluations[0]);
    }
    double lo = 0;
    double loValue = atZero;
    double hi = 1;
    double hiValue = measure.applyAsDouble(hi);
    while (hiValue > goal && hi < MAX_WEIGHT) {
      lo = hi;
      loValue = hiValue;
      hi *= 4;
      hiValue = measure.applyAsDouble(hi);
    }
    if (hiValue > goal) {
      return new Found(target, hi, hiValue, false, evaluations[0]);
    }
    for (int i = 0; i < BISECTIONS && (goal - hiValue) > CLOSE_ENOUGH * goal; i++) {
      double mid = lo == 0 ? hi / 4 : Math.sqrt(lo * hi);
      double midValue = measure.applyAsDouble(mid);
      if (midValue > goal) {
        lo = mid;
        loValue = midValue;
      } else {
        hi = mid;
        hiValue = midValue;
      }
      if (lo == 0 && hi < 1e-6) {
        break;
      }
    }
    return new Found(target, hi, hiValue, true, evaluations[0]);
  }

  /**
   * The measure of {@code kind} for clustered layers as they are (e.g. after fine-tuning): bits per
   * weight, or the zipped bytes {@code size} predicts (layers in the order {@code size} was built with).
   */
  public static double measure(List<ClusteredLayer> layers, Kind kind, ZippedSizePredictor size) {
    if (kind == Kind.ZIPPED_BYTES) {
      return size.predict(layers.stream().map(l -> l.clustering().reconstruct()).toList());
    }
    double total = 0;
    long weights = 0;
    for (ClusteredLayer l : layers) {
      total += indexBits(l.clustering(), l.weight(), l.settings());
      weights += l.weight().params();
    }
    return total / weights;
  }

  /**
   * Ideal entropy-coded bits of a clustered tensor's indices, each index taken within its own
   * codebook (per-channel and grouped codebooks are coded separately).
   */
  public static double indexBits(TensorClustering c, WeightTensor weight, ClusterSettings settings) {
    Granularity granularity = settings.granularity();
    int groups = granularity.groups(weight.channels().count());
    long[] counts = new long[c.codebook().length];
    int[] groupOfEntry = new int[c.codebook().length];
    long[] groupSize = new long[groups];
    int[] indices = c.indices();
    for (int i = 0; i < indices.length; i++) {
      int g = groups == 1 ? 0 : granularity.groupOf(weight.channels().channelOf(i));
      counts[indices[i]]++;
      groupOfEntry[indices[i]] = g;
      groupSize[g]++;
    }
    double bits = 0;
    for (int e = 0; e < counts.length; e++) {
      if (counts[e] > 0) {
        bits += counts[e] * (log2(groupSize[groupOfEntry[e]]) - log2(counts[e]));
      }
    }
    return bits;
  }

  /** The size of {@code values} as little-endian float32 (as a .tflite stores them), deflated. */
  public static long deflatedBytes(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    return ZippedSizePredictor.deflate(bytes.array());
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}

package org.wclust.internal.fold;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.wclust.internal.cluster.ClusteringLowerBound;
import org.wclust.internal.cluster.Clusterer1D;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.Clustering;
import org.wclust.internal.cluster.Granularity;
import org.wclust.internal.cluster.InitMethod;
import org.wclust.internal.cluster.LayerHints;
import org.wclust.internal.cluster.OptimalPartitions;
import org.wclust.internal.cluster.TensorClustering;
import org.wclust.internal.cluster.WeightClusterer;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightTensor;

/**
 * BatchNorm-safe codebooks for folded kernels. Folding multiplies output channel c by its factor
 * {@code s_c}; trained networks have factors over orders of magnitude, and one codebook shared by the
 * folded kernel then collapses whole low-factor channels onto a value or two. Without folding, the
 * TFLite converter folds anyway and the kernel ends with up to k × channels values.
 *
 * <p>Per folded kernel, the squared error is measured where it was without folding — on the unfolded
 * kernel, so each folded weight's error counts {@code 1 / s_c²} ({@link WeightedClusterer1D}) — and the
 * fewest codebooks are chosen whose (optimal) error stays within {@link #TOLERANCE} × the error of
 * clustering the unfolded kernel into k values: one codebook for the tensor, else G codebooks over
 * channels grouped by the size of their factor (an optimal 1-D clustering of {@code log |s_c|}, G = 2,
 * 4, 8, ...), else one per channel, which always qualifies (its error is at most the unfolded per-tensor
 * one). Every channel then holds at most k values, the tensor at most G·k, and the clustering uses the
 * {@code 1 / s_c²} weights inside each codebook. A kernel whose factors spread less than a threshold
 * ({@link #DEFAULT_SPREAD} by default) is clustered as folded, unweighted: if over {@link #SMALL_KERNEL}
 * weights, in one codebook while that codebook's error is at most {@link #OUTPUT_ERROR_RATIO} × that of
 * clustering the kernel unfolded (what not folding would give), else in the fewest factor groups that are
 * no worse ({@link #againstUnfolded}). Before all that, a small folded kernel ({@link #SMALL_KERNEL},
 * {@link #SMALL_SHARE}) gets one codebook per channel, and the folded kernels that keep one codebook per
 * tensor a larger knee rate weight ({@link #RATE_PER_SHARE}), which pays for it in bytes. When asked,
 * depthwise kernels get one codebook per channel whatever their factors ({@link #depthwise}). Only asked for per-tensor codebooks; other granularities keep theirs and get
 * the weights.
 */
public final class FoldedCodebooks {
  /**
   * How much more (inverse-squared-factor weighted) squared error than clustering without folding a
   * choice may have. The output of a layer moves with the square root: 1.5 allows ~22 % more
   * output noise from that layer, against G·k values instead of k·channels in the .tflite.
   */
  public static final double TOLERANCE = 1.5;

  /**
   * The default spread (largest / smallest |factor|) from which a kernel gets BatchNorm-safe codebooks.
   * Measured on MobileNetV2 (0.35) trained on Fashion-MNIST, whose factors spread 1.3-4.8x: there the
   * 1/s^2 weights and factor groups at every spread cost accuracy (74.80 % against 75.49 % at k = 16)
   * and size (312 KB against 298 KB), so below an order of magnitude the folded kernel is clustered
   * as it is.
   */
  public static final double DEFAULT_SPREAD = 10;

  private static final String DEPTHWISE = "DepthwiseConv2dNative";

  /** A kernel's choice and its grounds, for the report. */
  public record Choice(String kernel, int clusters, double factorSpread, Granularity granularity,
      double errorRatio, String reason) {
    public JsonObject toJson() {
      JsonObject o = new JsonObject();
      o.addProperty("kernel", kernel);
      o.addProperty("clusters", clusters);
      o.addProperty("factor_spread", factorSpread);
      o.addProperty("codebooks", granularity.toString());
      if (Double.isFinite(errorRatio)) {
        o.addProperty("error_vs_unfolded", errorRatio);
      }
      o.addProperty("reason", reason);
      return o;
    }
  }

  /** The hints for {@code ClusterRewriter} and every choice made. */
  public record Result(LayerHints hints, List<Choice> choices) {}

  private FoldedCodebooks() {}

  /**
   * @param model the folded model
   * @param folds the folds made ({@link BatchNormFolder.Result#folds()})
   * @param targets the clusterable weights of {@code model}
   * @param plan k per planned weight name
   * @param settings the asked settings (granularity, method)
   * @param minSpread the factor spread from which a kernel gets BatchNorm-safe codebooks (infinite: never)
   * @param depthwisePerChannel give folded depthwise kernels one codebook per channel
   */
  public static Result choose(FlatModel model, List<BatchNormFolder.Fold> folds, List<WeightTensor> targets,
      Map<String, Integer> plan, ClusterSettings settings, double minSpread, boolean depthwisePerChannel) {
    Map<String, WeightTensor> byName = new HashMap<>();
    targets.forEach(t -> byName.put(t.name(), t));
    Map<String, float[]> importance = new ConcurrentHashMap<>();
    Map<String, OptimalPartitions> partitions = new ConcurrentHashMap<>();
    Map<String, Granularity> granularity = new HashMap<>();
    Map<String, Double> rateScale = new HashMap<>();
    List<String> perTensor = new ArrayList<>();
    long smallWeights = 0;
    long plannedWeights = targets.stream().filter(t -> plan.containsKey(t.name())).mapToLong(WeightTensor::params).sum();
    boolean tensor = settings.granularity().equals(Granularity.TENSOR);
    List<BatchNormFolder.Fold> chosen = folds.stream().filter(fold -> {
      WeightTensor w = byName.get(fold.kernel());
      return w != null && plan.containsKey(w.name()) && fold.scale() != null;
    }).toList();
    // Kernels are independent: decide them on all cores. Each choice lands at its fold's index, so the
    // choices keep the folds' order, and a failure is the first failing fold's, as when run in turn.
    Choice[] made = new Choice[chosen.size()];
    RuntimeException[] failures = new RuntimeException[chosen.size()];
    IntStream.range(0, chosen.size()).parallel().forEach(i -> {
      BatchNormFolder.Fold fold = chosen.get(i);
      WeightTensor w = byName.get(fold.kernel());
      try {
        if (tensor && depthwisePerChannel && DEPTHWISE.equals(w.op())) {
          made[i] = depthwise(w.name(), fold.scale(), w.params() / w.channels().count(), plan.get(w.name()));
        } else if (isSmall(w, tensor, plannedWeights)) {
          made[i] = small(w.name(), fold.scale(), w.params(), plan.get(w.name()));
        } else {
          float[] values = model.variables().get(w.handleNode()).value().toFloats();
          made[i] = choose(w.name(), values, fold.scale(), w.channels(), settings.withClusters(plan.get(w.name())),
              importance, partitions, minSpread);
        }
      } catch (RuntimeException e) {
        failures[i] = e;
      }
    });
    for (RuntimeException e : failures) {
      if (e != null) {
        throw e;
      }
    }
    List<Choice> choices = new ArrayList<>();
    for (int i = 0; i < made.length; i++) {
      WeightTensor w = byName.get(chosen.get(i).kernel());
      Choice choice = made[i];
      if (!(tensor && depthwisePerChannel && DEPTHWISE.equals(w.op())) && isSmall(w, tensor, plannedWeights)) {
        smallWeights += w.params();
      }
      choices.add(choice);
      if (!choice.granularity().equals(settings.granularity())) {
        granularity.put(w.name(), choice.granularity());
      } else if (tensor) {
        perTensor.add(w.name());
      }
    }
    double scale = rateScale(smallWeights, plannedWeights);
    if (scale > 1) {
      perTensor.forEach(name -> rateScale.put(name, scale));
    }
    return new Result(new LayerHints(importance, granularity, rateScale, partitions), choices);
  }

  /** Whether a kernel gets one codebook per channel for being small ({@link #SMALL_KERNEL}, {@link #SMALL_SHARE}). */
  private static boolean isSmall(WeightTensor w, boolean tensor, long plannedWeights) {
    return tensor && w.params() <= SMALL_KERNEL && w.params() <= SMALL_SHARE * plannedWeights;
  }

  /**
   * A folded depthwise kernel gets one codebook per channel, whatever its factors: each output channel is
   * one small filter (9 weights for 3x3) that alone makes its channel, and one codebook shared by all
   * its channels costs more accuracy than any other layer type. On MobileNetV2 (0.35) trained on
   * Fashion-MNIST (79.68 %, k = 16, benchmarks/bn_layer_sensitivity.py) clustering only the depthwise
   * kernels, per folded tensor, left 74.93 %, all kernels with the depthwise ones per channel 79.43 %; with wclust's
   * default the whole network went from 75.49 % to 78.38 %, at a zipped .tflite of 382 KB instead of
   * 298 KB (the depthwise kernels are 6 % of its weights, but nearly every one of them is then a value
   * of its own in a float .tflite).
   */
  static Choice depthwise(String name, float[] scale, long weightsPerChannel, int k) {
    return new Choice(name, k, spread(scale), Granularity.CHANNEL, Double.NaN, String.format(
        "depthwise: each channel is one filter of %d weights that alone makes its output; per channel",
        weightsPerChannel));
  }

  /**
   * A folded kernel of at most this many weights (the first layers of MobileNet-style networks: the stem
   * and, at small widths, the first blocks) gets one codebook per channel whatever its factors: at most
   * 4 KB of float values more in the file, and the error of the first layers is carried by every later
   * one. On MobileNetV2 (0.35) trained on Fashion-MNIST (79.68 %, k = 16, no fine-tuning; 15 of its 52
   * folded kernels are this small: the stem, the first three blocks and three depthwise kernels) this
   * alone took the default from 75.49 % to 79.31 % (measured as scripts/bench-bn-calibration.sh does).
   */
  public static final long SMALL_KERNEL = 1024;

  /**
   * ... and at most this share of the clustered weights, so that its extra values stay a small part of
   * the file (a small model keeps one codebook per tensor).
   */
  public static final double SMALL_SHARE = 0.01;

  /**
   * The folded kernels that keep one codebook per tensor get the knee's rate weight multiplied by
   * {@code 1 + RATE_PER_SHARE × s}, s the share of the clustered weights that went per channel for being
   * small: those weights cost about 28 more bits each in a float file, and the large kernels, whose
   * indices are most of the file, win them back. 60 is what keeps the fixture above under the previous
   * default's size (s = 1.77 %, so 2.06 × the rate weight: 294,455 B and 79.05 %; exactly twice: 296,728 B
   * and 79.35 %; without it 317,406 B and 79.31 %; one codebook per folded tensor everywhere 298,310 B and
   * 75.49 %); on Keras MobileNetV2 1.0 (s = 0.05 %) it stays near 1, where twice the rate weight moved
   * the outputs more.
   */
  public static final double RATE_PER_SHARE = 60;

  /** The multiplier of the knee's rate weight for the folded per-tensor kernels ({@link #RATE_PER_SHARE}). */
  static double rateScale(long smallWeights, long plannedWeights) {
    return plannedWeights == 0 ? 1 : 1 + RATE_PER_SHARE * smallWeights / (double) plannedWeights;
  }

  /** A small folded kernel ({@link #SMALL_KERNEL}, {@link #SMALL_SHARE}) gets one codebook per channel. */
  static Choice small(String name, float[] scale, long params, int k) {
    return new Choice(name, k, spread(scale), Granularity.CHANNEL, Double.NaN, String.format(
        "small kernel: %d weights, at most %d and 1 %% of the clustered weights: one codebook per channel"
            + " (first layers; their error reaches every later layer)", params, SMALL_KERNEL));
  }

  /** Largest / smallest |factor|. */
  static double spread(float[] scale) {
    double maxAbs = 0;
    double minAbs = Double.POSITIVE_INFINITY;
    for (float s : scale) {
      maxAbs = Math.max(maxAbs, Math.abs(s));
      minAbs = Math.min(minAbs, Math.abs(s));
    }
    return maxAbs / Math.max(minAbs, Math.max(maxAbs * 1e-6, Double.MIN_NORMAL));
  }

  static Choice choose(String name, float[] folded, float[] scale, OutputChannels channels, ClusterSettings settings,
      Map<String, float[]> importanceOut, double minSpread) {
    return choose(name, folded, scale, channels, settings, importanceOut, new HashMap<>(), minSpread);
  }

  /**
   * As above; also puts into {@code partitionsOut} the optimal partitions the choice solved at the chosen
   * codebooks, for the clustering that follows ({@link OptimalPartitions}).
   */
  static Choice choose(String name, float[] folded, float[] scale, OutputChannels channels, ClusterSettings settings,
      Map<String, float[]> importanceOut, Map<String, OptimalPartitions> partitionsOut, double minSpread) {
    int k = settings.clusters();
    double maxAbs = 0;
    double minAbs = Double.POSITIVE_INFINITY;
    for (float s : scale) {
      maxAbs = Math.max(maxAbs, Math.abs(s));
      minAbs = Math.min(minAbs, Math.abs(s));
    }
    double floor = Math.max(maxAbs * 1e-6, Double.MIN_NORMAL);
    double[] factor = new double[scale.length];
    for (int c = 0; c < scale.length; c++) {
      factor[c] = Math.max(Math.abs(scale[c]), floor);
    }
    double spread = maxAbs / Math.max(minAbs, floor);
    if (spread < minSpread) {
      // A kernel this small that is not chosen per channel belongs to a model so small that its kernels'
      // extra codebook values would be a large part of the file: one codebook, as folded.
      if (settings.granularity().equals(Granularity.TENSOR) && minSpread < Double.POSITIVE_INFINITY
          && folded.length > SMALL_KERNEL) {
        return againstUnfolded(name, folded, factor, channels, settings, spread, minSpread, partitionsOut);
      }
      return new Choice(name, k, spread, settings.granularity(), Double.NaN,
          String.format("factors spread %.3gx, less than %.3gx: clustered as folded", spread, minSpread));
    }
    float[] importance = new float[folded.length];
    float[] unfolded = new float[folded.length];
    for (int i = 0; i < folded.length; i++) {
      double f = factor[channels.channelOf(i)];
      importance[i] = (float) (1 / (f * f));
      unfolded[i] = (float) (folded[i] / f);
    }
    // Importance in units of the mean, so that float32 keeps it whatever the factors' scale.
    double mean = 0;
    for (float v : importance) {
      mean += v;
    }
    mean /= importance.length;
    for (int i = 0; i < importance.length; i++) {
      importance[i] = (float) (importance[i] / mean);
    }
    importanceOut.put(name, importance);
    Granularity asked = settings.granularity();
    if (!asked.equals(Granularity.TENSOR)) {
      return new Choice(name, k, spread, asked, Double.NaN, "granularity " + asked + " as asked; weighted by 1/s^2");
    }
    ClusterSettings optimal = new ClusterSettings(k, InitMethod.OPTIMAL, false, Granularity.TENSOR, false,
        settings.seed());
    double reference = WeightClusterer.cluster(unfolded, channels, optimal).sse() / mean;
    if (reference == 0) {
      return new Choice(name, k, spread, Granularity.TENSOR, 1, "at most k values: one codebook");
    }
    int[] byFactor = null;
    GroupingBound bound = new GroupingBound(folded, importance, channels, k, TOLERANCE * reference);
    for (int groups = 1; groups < scale.length; groups *= 2) {
      Granularity g = groups == 1 ? Granularity.TENSOR : Granularity.byChannel(byFactor = factorGroups(factor, groups));
      if (byFactor != null && g.groups(scale.length) < groups) {
        break; // fewer distinct factors than groups: per channel next
      }
      if (bound.exceeded(g)) {
        continue; // its optimum is above the tolerance: the same as solving it and finding so
      }
      double error = weightedError(folded, importance, channels, optimal.withGranularity(g));
      double ratio = error / reference;
      if (ratio <= TOLERANCE) {
        String reason = groups == 1
            ? String.format("factors spread %.3gx; one codebook weighted by 1/s^2 has %.3gx the error of clustering"
                + " without folding", spread, ratio)
            : String.format("factors spread %.3gx; one codebook would have more than %.3gx the error of clustering"
                + " without folding, %d codebooks over channels grouped by factor have %.3gx", spread, TOLERANCE,
                groups, ratio);
        return new Choice(name, k, spread, g, ratio, reason);
      }
    }
    double ratio = weightedError(folded, importance, channels, optimal.withGranularity(Granularity.CHANNEL))
        / reference;
    return new Choice(name, k, spread, Granularity.CHANNEL, ratio, String.format(
        "factors spread %.3gx; fewer codebooks than channels have more than %.3gx the error of clustering without"
            + " folding; per channel: %.3gx", spread, TOLERANCE, ratio));
  }

  /**
   * A folded kernel below the spread threshold keeps one codebook when that codebook's squared error,
   * measured on the folded kernel (the units of the layer's output after BatchNorm), is at most
   * {@link #OUTPUT_ERROR_RATIO} × that of clustering the unfolded kernel into k values and folding
   * afterwards (what {@code --no-fold-bn} gives: k values per channel). Above it, the fewest codebooks over
   * channels grouped by factor (G = 2, 4, 8, ...), else one per channel, whose error is no larger than that
   * reference. Both errors from the optimal 1-D clustering, unweighted: the layer's output moves with the
   * folded error.
   */
  static Choice againstUnfolded(String name, float[] folded, double[] factor, OutputChannels channels,
      ClusterSettings settings, double spread, double minSpread, Map<String, OptimalPartitions> partitionsOut) {
    int k = settings.clusters();
    ClusterSettings optimal = new ClusterSettings(k, InitMethod.OPTIMAL, false, Granularity.TENSOR, false,
        settings.seed());
    float[] unfolded = new float[folded.length];
    for (int i = 0; i < folded.length; i++) {
      unfolded[i] = (float) (folded[i] / factor[channels.channelOf(i)]);
    }
    TensorClustering u = WeightClusterer.cluster(unfolded, channels, optimal);
    double reference = 0;
    for (int i = 0; i < folded.length; i++) {
      double e = factor[channels.channelOf(i)] * (unfolded[i] - (double) u.codebook()[u.indices()[i]]);
      reference += e * e;
    }
    // One codebook whose lower bound already exceeds the limit fails without being solved; the report then
    // gives the bound.
    GroupingBound bound = new GroupingBound(folded, null, channels, k, reference);
    double oneAtLeast = reference == 0 ? Double.NaN : bound.lowerBound(Granularity.TENSOR);
    boolean oneFails = GroupingBound.above(oneAtLeast, OUTPUT_ERROR_RATIO * reference);
    // Each optimal clustering of the folded kernel records its partitions; the chosen codebooks' are kept
    // for the kernel's clustering, which needs the same optima.
    OptimalPartitions onePartition = new OptimalPartitions(Granularity.TENSOR, k, 1);
    double one = oneFails ? Double.NaN : WeightClusterer.cluster(folded, channels, optimal, onePartition).sse();
    if (!oneFails && (reference == 0 || one <= OUTPUT_ERROR_RATIO * reference)) {
      partitionsOut.put(name, onePartition);
      double ratio = reference == 0 ? 1 : one / reference;
      return new Choice(name, k, spread, Granularity.TENSOR, ratio, String.format("factors spread %.3gx, less than"
          + " %.3gx; one folded codebook has %.3gx the output error of clustering without folding (at most %.3gx):"
          + " one codebook", spread, minSpread, ratio, OUTPUT_ERROR_RATIO));
    }
    String why = String.format("factors spread %.3gx, less than %.3gx; one folded codebook has %s%.3gx the output"
        + " error of clustering without folding (more than %.3gx)", spread, minSpread, oneFails ? "at least " : "",
        (oneFails ? oneAtLeast : one) / reference, OUTPUT_ERROR_RATIO);
    int count = factor.length;
    for (int groups = 2; groups < count; groups *= 2) {
      Granularity g = Granularity.byChannel(factorGroups(factor, groups));
      if (g.groups(count) < groups) {
        break; // fewer distinct factors than groups: per channel next
      }
      if (bound.exceeded(g)) {
        continue; // its optimum is above the reference: the same as solving it and finding so
      }
      OptimalPartitions partitions = new OptimalPartitions(g, k, g.groups(count));
      double ratio = WeightClusterer.cluster(folded, channels, optimal.withGranularity(g), partitions).sse()
          / reference;
      if (ratio <= 1) {
        partitionsOut.put(name, partitions);
        return new Choice(name, k, spread, g, ratio, String.format("%s; %d codebooks over channels grouped by"
            + " factor have %.3gx", why, groups, ratio));
      }
    }
    OptimalPartitions perChannel = new OptimalPartitions(Granularity.CHANNEL, k, count);
    double ratio = WeightClusterer.cluster(folded, channels, optimal.withGranularity(Granularity.CHANNEL), perChannel)
        .sse() / reference;
    partitionsOut.put(name, perChannel);
    return new Choice(name, k, spread, Granularity.CHANNEL, ratio, String.format("%s; fewer codebooks than"
        + " channels have more; per channel: %.3gx", why, ratio));
  }

  /**
   * See {@link #againstUnfolded}. Measured at k = 16 with this class's optimal clustering: on Keras
   * MobileNetV2 with random weights and BatchNorm statistics (uniform weights, factors spread up to 5 ×)
   * every folded kernel over 1,024 weights has 1.76-2.26 × the output error of clustering it unfolded, on
   * MobileNetV2 (0.35) trained on Fashion-MNIST 0.82-1.55 ×. So on the trained network every kernel keeps
   * one codebook and the default's file and accuracy stay as they were (294,455 B, 79.05 %), and on the
   * random one the factor groups (8-32 codebooks) move the outputs by 0.0269 against 0.0310 with one
   * codebook per folded tensor and 0.0275 without folding (scripts/bench-bn-calibration.sh).
   */
  public static final double OUTPUT_ERROR_RATIO = 1.65;

  /** The channels in {@code groups} groups by an optimal 1-D clustering of log |factor|; groups numbered 0.. */
  static int[] factorGroups(double[] factor, int groups) {
    float[] logs = new float[factor.length];
    for (int c = 0; c < factor.length; c++) {
      logs[c] = (float) Math.log(factor[c]);
    }
    Clustering c = Clusterer1D.cluster(logs, groups, InitMethod.OPTIMAL, false, 0);
    // Renumber the groups in use densely (kept original values may leave some unused).
    int[] renumber = new int[c.centroids().length];
    java.util.Arrays.fill(renumber, -1);
    int next = 0;
    int[] out = new int[factor.length];
    for (int ch = 0; ch < factor.length; ch++) {
      int g = c.indices()[ch];
      if (renumber[g] < 0) {
        renumber[g] = next++;
      }
      out[ch] = renumber[g];
    }
    return out;
  }

  /**
   * Rules out factor groupings without solving them: a grouping whose {@link ClusteringLowerBound} already
   * exceeds the error it may have cannot pass, so the search goes on to the next one exactly as if it had
   * been solved. Groupings are tried with fewer codebooks first and their errors fall as the codebooks
   * grow, so once a bound fails to rule one out, later ones are not bounded (they would only cost time).
   */
  static final class GroupingBound {
    /**
     * Bins per cluster of the bound: on a random 3×3×256×256 kernel at k = 16 the bound is 0.94-0.95 of
     * the optimum at 64 (0.97 at 128, 0.98 at 256) and costs a quarter of solving the 2-8 factor groups;
     * the groupings that fail before the chosen one have 1.08-1.6 × the reference (1.00-1.02 just before it).
     */
    static final int BINS_PER_CLUSTER = 64;
    /**
     * At least this many values per bin (per group, on average): below, the bound's own dynamic program
     * over the bins costs about as much as solving the groups. Smaller groups get fewer bins, down to
     * {@link #MIN_BINS_PER_CLUSTER} (a bound about 0.8 of the optimum, still enough for the coarsest groupings).
     */
    static final int VALUES_PER_BIN = 16;
    static final int MIN_BINS_PER_CLUSTER = 16;
    /**
     * A grouping ruled out by less than this factor over the limit stops the bounding: the next grouping's
     * error is lower (on ResNet50 the 8 groups ruled out at 1.02-1.04 × the reference by a bound 0.94 of
     * their optimum, the 16 that follow have 1.00-1.02 × and a bound well below).
     */
    static final double NEXT_MARGIN = 1.1;
    /** Relative allowance for rounding in the bound's and the solver's sums. */
    private static final double ROUNDING = 1e-9;

    private final float[] values;
    private final float[] weights;
    private final OutputChannels outputChannels;
    /** Each value's output channel and each channel's smallest and largest value, made on first use. */
    private int[] channelOf;
    private double[] channelMin;
    private double[] channelMax;
    /** Whether a value was found not finite. */
    private boolean notFinite;
    private final int channels;
    private final int k;
    private final double limit;
    private boolean bounding = true;
    private int ruledOut;

    GroupingBound(float[] values, float[] weights, OutputChannels channels, int k, double limit) {
      this.values = values;
      this.weights = weights;
      this.k = k;
      this.limit = limit;
      this.outputChannels = channels;
      this.channels = channels.count();
    }

    /**
     * Whether {@code grouping}'s optimal error certainly exceeds the limit; groupings too small for
     * {@link #bins} are not bounded.
     */
    boolean exceeded(Granularity grouping) {
      if (!bounding || !(limit > 0)) {
        return false;
      }
      double lower = lowerBound(grouping);
      if (above(lower, limit)) {
        ruledOut++;
        // Finer groupings have less error: one ruled out by a small margin leaves the next little chance.
        bounding = lower > NEXT_MARGIN * limit;
        return true;
      }
      // Not ruled out, too small to bound, or not finite: the finer groupings will not be either.
      bounding = false;
      return false;
    }

    /**
     * {@link ClusteringLowerBound#sum} of {@code grouping}'s codebooks at {@link #bins}, or NaN where they are
     * too small to bound or a value is not finite (the solver refuses such a kernel anyway).
     */
    double lowerBound(Granularity grouping) {
      int groups = grouping.groups(channels);
      int bins = bins(values.length, groups, k);
      if (bins == 0 || notFinite || (channelOf == null && !readChannels())) {
        return Double.NaN;
      }
      double[] min = new double[groups];
      double[] max = new double[groups];
      java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
      java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
      for (int c = 0; c < channels; c++) {
        int g = grouping.groupOf(c);
        min[g] = Math.min(min[g], channelMin[c]);
        max[g] = Math.max(max[g], channelMax[c]);
      }
      int[] channelOf = this.channelOf;
      return ClusteringLowerBound.sum(values, weights, i -> grouping.groupOf(channelOf[i]), min, max, k, bins);
    }

    /** Each value's channel and each channel's range, once per kernel; false if a value is not finite. */
    private boolean readChannels() {
      channelOf = outputChannels.channelOfEach(values.length);
      channelMin = new double[channels];
      channelMax = new double[channels];
      java.util.Arrays.fill(channelMin, Double.POSITIVE_INFINITY);
      java.util.Arrays.fill(channelMax, Double.NEGATIVE_INFINITY);
      for (int i = 0; i < values.length; i++) {
        float v = values[i];
        if (!Float.isFinite(v)) {
          channelOf = null;
          notFinite = true;
          return false;
        }
        int c = channelOf[i];
        channelMin[c] = Math.min(channelMin[c], v);
        channelMax[c] = Math.max(channelMax[c], v);
      }
      return true;
    }

    /**
     * Bins per group for groups of this many values on average: {@link #BINS_PER_CLUSTER} per cluster, fewer
     * for small groups ({@link #VALUES_PER_BIN}), 0 (not worth bounding) below {@link #MIN_BINS_PER_CLUSTER}.
     */
    static int bins(int values, int groups, int k) {
      long bins = Math.min((long) BINS_PER_CLUSTER * k, values / groups / VALUES_PER_BIN);
      return bins < (long) MIN_BINS_PER_CLUSTER * k ? 0 : (int) bins;
    }

    /** Whether a lower bound (NaN: none) proves the optimum above {@code limit}, rounding allowed for. */
    static boolean above(double lowerBound, double limit) {
      return lowerBound > limit * (1 + ROUNDING);
    }

    /** How many groupings were ruled out. */
    int ruledOut() {
      return ruledOut;
    }
  }

  private static double weightedError(float[] folded, float[] importance, OutputChannels channels,
      ClusterSettings settings) {
    var c = WeightClusterer.cluster(folded, importance, channels, settings);
    float[] codebook = c.codebook();
    double sum = 0;
    for (int i = 0; i < folded.length; i++) {
      double e = folded[i] - (double) codebook[c.indices()[i]];
      sum += importance[i] * e * e;
    }
    return sum;
  }
}

package org.wclust.api;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;
import org.wclust.internal.cluster.ClusterPlan;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.Granularity;
import org.wclust.internal.cluster.InitMethod;
import org.wclust.internal.cluster.RateControl;
import org.wclust.internal.fold.FoldedCodebooks;
import org.wclust.internal.load.ModelLoader;

/**
 * What a clustering run does: which weights get how many clusters, how they are clustered, BatchNorm
 * folding, int8 snapping, size budgets, calibration, fine-tuning and validation data, and the outputs
 * besides the SavedModel. Made by {@link #builder()}; the defaults are the CLI's ({@code wclust cluster}):
 * the {@code knee} method per tensor, BatchNorm folded with BatchNorm-safe codebooks, seed 0, the
 * {@code serving_default} signature, the .tflite sizes measured for the report.
 *
 * <pre>{@code
 * ClusterConfig config = ClusterConfig.builder()
 *     .clusters(16)                          // every conv/dense weight ...
 *     .perLayer(Map.of("dense.*", 8))        // ... but 8 for the dense ones
 *     .fineTune(Datasets.npz(Path.of("train.npz")), FineTuning.builder().epochs(2).build())
 *     .validation(Datasets.npz(Path.of("test.npz")))
 *     .build();
 * }</pre>
 */
public final class ClusterConfig {
  private final ClusterOptions options;
  private final boolean measureTfliteSize;
  private final TfliteOutput tflite;
  private final boolean plainFold;

  private ClusterConfig(ClusterOptions options, boolean measureTfliteSize, TfliteOutput tflite, boolean plainFold) {
    this.options = options;
    this.measureTfliteSize = measureTfliteSize;
    this.tflite = tflite;
    this.plainFold = plainFold;
  }

  /** A builder with the CLI's defaults; set at least {@code clusters} or {@code perLayer}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Whether the report gets the .tflite sizes of the original and the clustered model (Python TensorFlow). */
  public boolean measureTfliteSize() {
    return measureTfliteSize;
  }

  /** The .tflite converted in the same run, or null. */
  public TfliteOutput tflite() {
    return tflite;
  }

  /** Whether a size budget ({@code targetBits} / {@code targetSize}) was set. */
  public boolean hasSizeBudget() {
    return options.rateTarget() != null;
  }

  /**
   * Whether calibration data, plain folding or per-channel depthwise codebooks were asked for (which a
   * {@code .keras} output cannot honour).
   */
  boolean needsSavedModelOutput() {
    return options.calibration() != null || plainFold || options.depthwisePerChannel() || options.correctBias();
  }

  ClusterOptions options() {
    return options;
  }

  /**
   * Builds a {@link ClusterConfig}; {@link #build} checks the combination and fails with an
   * {@link IllegalArgumentException} that names the bad value.
   *
   * <pre>{@code
   * ClusterConfig c = ClusterConfig.builder().clusters(8).granularity("channel").int8Aware(true).seed(1).build();
   * }</pre>
   */
  public static final class Builder {
    private Integer clusters;
    private String layers;
    private final Map<String, Integer> perLayer = new LinkedHashMap<>();
    private Path perLayerFile;
    private String init = InitMethod.DEFAULT.cliName();
    private boolean refine = true;
    private double rateWeight = org.wclust.internal.cluster.RateDistortion.KNEE_WEIGHT;
    private boolean sizeAware;
    private double sizeWeight = 0.01;
    private String granularity = "tensor";
    private boolean preserveSparsity;
    private long seed;
    private boolean foldBatchNorm = true;
    private boolean plainFold;
    private boolean depthwisePerChannel;
    private Boolean correctBias; // null: on with calibration data and folded BatchNorm, else off
    private boolean squeeze = true;
    private double bnSafeSpread = FoldedCodebooks.DEFAULT_SPREAD;
    private boolean int8Aware;
    private Double targetBits;
    private Long targetSize;
    private boolean budgetPerLayer;
    private Examples calibration;
    private Examples trainData;
    private FineTuning fineTuning;
    private Examples validation;
    private String signature = ModelLoader.DEFAULT_SIGNATURE;
    private boolean measureTfliteSize = true;
    private TfliteOutput tflite;

    private Builder() {}

    /** The number of clusters of every selected weight (at least 2). */
    public Builder clusters(int k) {
      clusters = k;
      return this;
    }

    /** Cluster only weights whose name (e.g. {@code conv2d_1/kernel}) contains a match of {@code regex}. */
    public Builder layers(String regex) {
      layers = regex;
      return this;
    }

    /** Clusters per weight-name regex; wins over {@link #clusters} where both apply. */
    public Builder perLayer(Map<String, Integer> clustersByRegex) {
      perLayer.putAll(clustersByRegex);
      return this;
    }

    /** {@link #perLayer} read from a JSON object file {@code {"regex": k}} (the CLI's {@code --config}). */
    public Builder perLayer(Path jsonFile) {
      perLayerFile = jsonFile;
      return this;
    }

    /** How centroids are chosen: {@code knee} (default), {@code optimal}, {@code kmeans++}, {@code linear}, {@code density}, {@code random}. */
    public Builder init(String method) {
      init = method;
      return this;
    }

    /** Whether Lloyd iterations follow the initialisation (default true; knee and optimal are exact). */
    public Builder refine(boolean r) {
      refine = r;
      return this;
    }

    /** With {@code knee}: what one bit of index entropy per weight is worth (default 16; 0 = optimal). */
    public Builder rateWeight(double w) {
      rateWeight = w;
      return this;
    }

    /** Entropy-constrained refinement with this weight of one bit against the squared error (CLI {@code --size-aware --size-weight}). */
    public Builder sizeAware(double weight) {
      sizeAware = true;
      sizeWeight = weight;
      return this;
    }

    /** {@code tensor} (default), {@code channel}, or {@code group:N}. */
    public Builder granularity(String g) {
      granularity = g;
      return this;
    }

    /** Exact zeros stay zero: one centroid is pinned at 0. */
    public Builder preserveSparsity(boolean p) {
      preserveSparsity = p;
      return this;
    }

    /** Seed of random initialisations and of the fine-tuning shuffle (default 0). */
    public Builder seed(long s) {
      seed = s;
      return this;
    }

    /** Fold inference BatchNormalization into the preceding conv/dense before clustering (default true). */
    public Builder foldBatchNorm(boolean f) {
      foldBatchNorm = f;
      return this;
    }

    /** Folded kernels whose BatchNorm factors spread at least {@code s} times get BatchNorm-safe codebooks (default 10). */
    public Builder bnSafeSpread(double s) {
      bnSafeSpread = s;
      return this;
    }

    /** Cluster every folded kernel as it is (no BatchNorm-safe codebooks). */
    public Builder plainFold(boolean p) {
      plainFold = p;
      return this;
    }

    /**
     * One codebook per channel for folded depthwise kernels (more accurate on BatchNorm-heavy networks such
     * as MobileNetV2, but the depthwise weights then barely compress).
     */
    public Builder depthwisePerChannel(boolean d) {
      depthwisePerChannel = d;
      return this;
    }

    /**
     * After clustering, correct each folded bias so that every output channel's mean stays the original
     * model's: measured on the {@link #calibration} inputs, or without them expected from the BatchNorm
     * statistics (data-free). Not called: on exactly when there are {@link #calibration} inputs (and
     * BatchNorm is folded), since calibration then keeps more of the original's accuracy; {@code false}
     * turns that off.
     */
    public Builder correctBias(boolean c) {
      correctBias = c;
      return this;
    }

    /**
     * After fine-tuning (with training data, without a size budget), put the weights of each dead unit (one
     * that no gradient of 1024 training examples reaches) onto one centroid, where the outputs on those
     * examples stay the same: its indices code shorter and the file zips smaller. On by default; {@code
     * false} leaves every weight where fine-tuning put it.
     */
    public Builder squeeze(boolean s) {
      squeeze = s;
      return this;
    }

    /** Snap centroids onto each output channel's int8 grid, so int8 quantization keeps the clusters. */
    public Builder int8Aware(boolean a) {
      int8Aware = a;
      return this;
    }

    /** Size budget: entropy-coded index bits per clustered weight. */
    public Builder targetBits(double bits) {
      targetBits = bits;
      return this;
    }

    /** Size budget: bytes of the zipped .tflite (needs Python TensorFlow). */
    public Builder targetSize(long bytes) {
      targetSize = bytes;
      return this;
    }

    /** With a size budget: meet it by choosing k per layer instead of one multiplier. */
    public Builder budgetPerLayer(boolean b) {
      budgetPerLayer = b;
      return this;
    }

    /** Inputs on which each weight's importance is measured once and the clustering weighted by it. */
    public Builder calibration(Examples inputs) {
      calibration = inputs;
      return this;
    }

    /** Fine-tune the clustered model on {@code data} as {@code how} says. */
    public Builder fineTune(Examples data, FineTuning how) {
      trainData = data;
      fineTuning = how;
      return this;
    }

    /** Data on which the original, clustered and fine-tuned models are evaluated (and outputs compared). */
    public Builder validation(Examples data) {
      validation = data;
      return this;
    }

    /** The serving signature of the input (default {@code serving_default}). */
    public Builder signature(String key) {
      signature = key;
      return this;
    }

    /** Measure the .tflite sizes for the report (default true; two conversions with Python TensorFlow). */
    public Builder measureTfliteSize(boolean m) {
      measureTfliteSize = m;
      return this;
    }

    /** Also convert the clustered model to a .tflite (see {@link TfliteOutput}). */
    public Builder tflite(TfliteOutput output) {
      tflite = output;
      return this;
    }

    /** The configuration; fails with an {@link IllegalArgumentException} naming a bad value or combination. */
    public ClusterConfig build() {
      ClusterPlan plan = perLayerFile != null
          ? ClusterPlan.of(clusters == null ? OptionalInt.empty() : OptionalInt.of(clusters), layers, perLayerFile)
          : ClusterPlan.ofMap(clusters == null ? OptionalInt.empty() : OptionalInt.of(clusters), layers, perLayer);
      if (perLayerFile != null && !perLayer.isEmpty()) {
        throw new IllegalArgumentException("give per-layer clusters as a map or as a file, not both");
      }
      if (!(bnSafeSpread >= 1)) {
        throw new IllegalArgumentException("--bn-safe-spread must be a number >= 1, got " + bnSafeSpread);
      }
      if (tflite != null && int8Aware && tflite.target().quantization()
          == org.wclust.internal.bridge.TfliteConverter.Quantization.INT8_PER_TENSOR) {
        throw new IllegalArgumentException("--int8-aware snaps to per-channel int8 grids; use it with "
            + "--quantize int8, not int8-per-tensor");
      }
      // int8 per channel keeps the clusters only when they were snapped onto its grids.
      boolean snap = int8Aware || tflite != null && tflite.int8PerChannel();
      ClusterSettings settings = new ClusterSettings(2, InitMethod.fromCliName(init), refine,
          Granularity.parse(granularity), preserveSparsity, seed, sizeAware ? sizeWeight : 0, rateWeight);
      if ((trainData == null) != (fineTuning == null)) {
        throw new IllegalArgumentException("fine-tuning needs both training data and options");
      }
      ClusterOptions options = new ClusterOptions(plan, settings, signature, foldBatchNorm, snap)
          .withRateTarget(rateTarget())
          .withBnSafeSpread(plainFold ? Double.POSITIVE_INFINITY : bnSafeSpread)
          .withCalibration(Examples.orNull(calibration))
          .withBiasCorrection(correctBias != null ? correctBias : calibration != null && foldBatchNorm)
          .withDepthwisePerChannel(depthwisePerChannel)
          .withSqueeze(squeeze);
      if (Boolean.TRUE.equals(correctBias) && !foldBatchNorm) {
        throw new IllegalArgumentException("--correct-bias needs folded BatchNorm (no --no-fold-bn)");
      }
      options = trainData != null
          ? options.withFineTuning(trainData.dataset(), fineTuning.options(), Examples.orNull(validation))
          : options.withValidation(Examples.orNull(validation));
      return new ClusterConfig(options, measureTfliteSize, tflite, plainFold);
    }

    private RateControl.Target rateTarget() {
      if (targetBits != null && targetSize != null) {
        throw new IllegalArgumentException("give --target-bits or --target-size, not both");
      }
      if ((targetBits != null || targetSize != null) && sizeAware) {
        throw new IllegalArgumentException("--target-bits/--target-size do not combine with --size-aware");
      }
      if (budgetPerLayer && targetBits == null && targetSize == null) {
        throw new IllegalArgumentException("--budget needs --target-bits B or --target-size BYTES");
      }
      if (targetBits != null) {
        return new RateControl.Target(RateControl.Kind.BITS_PER_WEIGHT, targetBits, budgetPerLayer);
      }
      return targetSize == null ? null
          : new RateControl.Target(RateControl.Kind.ZIPPED_BYTES, targetSize, budgetPerLayer);
    }
  }
}

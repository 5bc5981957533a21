package org.wclust.api;

import org.wclust.internal.cluster.ClusterPlan;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.RateControl;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.load.ModelLoader;
import org.wclust.internal.train.FineTuneOptions;

/**
 * What the pipeline does (the internal form of a {@link ClusterConfig}).
 *
 * @param plan which weights to cluster, into how many clusters
 * @param settings how each weight is clustered (method, refinement, granularity, sparsity, seed); its
 *     number of clusters is replaced by the plan's per weight
 * @param signature the serving signature of the input model to use
 * @param foldBatchNorm fold inference BatchNormalization into the preceding conv/dense before
 *     clustering, so the clusters survive TFLite conversion
 * @param int8Aware snap centroids onto each output channel's int8 grid, so int8 quantization of the
 *     exported model is exact
 * @param trainData null, or the data to fine-tune the clustered model on with {@code fineTune}
 * @param fineTune how to fine-tune (null without {@code trainData})
 * @param validationData null, or labelled data on which the original, clustered and fine-tuned models
 *     are evaluated (without it, the training data is used when it has labels)
 * @param rateTarget null, or a size budget: the knee clustering's multiplier is searched to meet it
 *     ({@link RateControl})
 * @param bnSafeSpread with {@code foldBatchNorm}, the spread of a kernel's BatchNorm factors (largest /
 *     smallest) from which it gets BatchNorm-safe codebooks ({@link org.wclust.internal.fold.FoldedCodebooks});
 *     below it, and always when infinite, the folded kernel is clustered as it is
 * @param calibration null, or inputs (labels unused) on which each weight's importance is measured
 *     once and the clustering weighted by it, and the clustered model's outputs compared with the
 *     original's ({@link org.wclust.internal.calibrate.Calibration})
 * @param correctBias with {@code calibration}, correct each folded bias after clustering so that its
 *     layer's per-channel output mean on the calibration inputs stays the original's
 *     ({@link org.wclust.internal.calibrate.BiasCorrection})
 * @param depthwisePerChannel with {@code foldBatchNorm}, one codebook per channel for folded depthwise
 *     kernels asked per tensor (more accurate on BatchNorm-heavy networks, larger files)
 * @param squeeze after fine-tuning without a size budget, put each dead unit's weights onto one centroid
 *     ({@link org.wclust.internal.cluster.DeadUnitSqueeze})
 */
record ClusterOptions(ClusterPlan plan, ClusterSettings settings, String signature,
    boolean foldBatchNorm, boolean int8Aware, Dataset trainData, FineTuneOptions fineTune,
    Dataset validationData, RateControl.Target rateTarget, double bnSafeSpread, Dataset calibration,
    boolean correctBias, boolean depthwisePerChannel, boolean squeeze) {

  public ClusterOptions(ClusterPlan plan, ClusterSettings settings, String signature, boolean foldBatchNorm,
      boolean int8Aware, Dataset trainData, FineTuneOptions fineTune, Dataset validationData,
      RateControl.Target rateTarget) {
    this(plan, settings, signature, foldBatchNorm, int8Aware, trainData, fineTune, validationData, rateTarget,
        org.wclust.internal.fold.FoldedCodebooks.DEFAULT_SPREAD, null, false, false, true);
  }

  public ClusterOptions(ClusterPlan plan, ClusterSettings settings, String signature, boolean foldBatchNorm,
      boolean int8Aware, Dataset trainData, FineTuneOptions fineTune, Dataset validationData) {
    this(plan, settings, signature, foldBatchNorm, int8Aware, trainData, fineTune, validationData, null);
  }

  public ClusterOptions {
    if ((trainData == null) != (fineTune == null)) {
      throw new IllegalArgumentException("fine-tuning needs both training data and options");
    }
  }

  /** Without fine-tuning or evaluation. */
  public ClusterOptions(ClusterPlan plan, ClusterSettings settings, String signature, boolean foldBatchNorm,
      boolean int8Aware) {
    this(plan, settings, signature, foldBatchNorm, int8Aware, null, null, null);
  }

  /** The default method, per tensor, seed 0, {@code serving_default}, BatchNorm folded. */
  public static ClusterOptions of(ClusterPlan plan) {
    return of(plan, 0L);
  }

  public static ClusterOptions of(ClusterPlan plan, long seed) {
    return new ClusterOptions(plan, ClusterSettings.of(2, seed), ModelLoader.DEFAULT_SIGNATURE, true, false);
  }

  /** These options with fine-tuning on {@code train} and evaluation on {@code validation} (may be null). */
  public ClusterOptions withFineTuning(Dataset train, FineTuneOptions options, Dataset validation) {
    return new ClusterOptions(plan, settings, signature, foldBatchNorm, int8Aware, train, options, validation,
        rateTarget, bnSafeSpread, calibration, correctBias, depthwisePerChannel, squeeze);
  }

  /** These options with evaluation (no fine-tuning) on {@code validation}. */
  public ClusterOptions withValidation(Dataset validation) {
    return new ClusterOptions(plan, settings, signature, foldBatchNorm, int8Aware, trainData, fineTune, validation,
        rateTarget, bnSafeSpread, calibration, correctBias, depthwisePerChannel, squeeze);
  }

  /** These options with a size budget (null for none). */
  public ClusterOptions withRateTarget(RateControl.Target target) {
    return new ClusterOptions(plan, settings, signature, foldBatchNorm, int8Aware, trainData, fineTune,
        validationData, target, bnSafeSpread, calibration, correctBias, depthwisePerChannel, squeeze);
  }

  /** These options with other clustering settings. */
  public ClusterOptions withSettings(ClusterSettings newSettings) {
    return new ClusterOptions(plan, newSettings, signature, foldBatchNorm, int8Aware, trainData, fineTune,
        validationData, rateTarget, bnSafeSpread, calibration, correctBias, depthwisePerChannel, squeeze);
  }

  /** These options with BatchNorm-safe codebooks from this factor spread (infinite: never). */
  public ClusterOptions withBnSafeSpread(double spread) {
    return new ClusterOptions(plan, settings, signature, foldBatchNorm, int8Aware, trainData, fineTune,
        validationData, rateTarget, spread, calibration, correctBias, depthwisePerChannel, squeeze);
  }

  /** These options with calibration inputs (null for none). */
  public ClusterOptions withCalibration(Dataset data) {
    return new ClusterOptions(plan, settings, signature, foldBatchNorm, int8Aware, trainData, fineTune,
        validationData, rateTarget, bnSafeSpread, data, correctBias, depthwisePerChannel, squeeze);
  }

  /** These options with bias correction on the calibration inputs after clustering, or without. */
  public ClusterOptions withBiasCorrection(boolean correct) {
    return new ClusterOptions(plan, settings, signature, foldBatchNorm, int8Aware, trainData, fineTune,
        validationData, rateTarget, bnSafeSpread, calibration, correct, depthwisePerChannel, squeeze);
  }

  /** These options with one codebook per channel for folded depthwise kernels, or without. */
  ClusterOptions withDepthwisePerChannel(boolean perChannel) {
    return new ClusterOptions(plan, settings, signature, foldBatchNorm, int8Aware, trainData, fineTune,
        validationData, rateTarget, bnSafeSpread, calibration, correctBias, perChannel, squeeze);
  }

  /** These options with the squeeze after fine-tuning, or without. */
  ClusterOptions withSqueeze(boolean squeezeAfterFineTuning) {
    return new ClusterOptions(plan, settings, signature, foldBatchNorm, int8Aware, trainData, fineTune,
        validationData, rateTarget, bnSafeSpread, calibration, correctBias, depthwisePerChannel,
        squeezeAfterFineTuning);
  }
}

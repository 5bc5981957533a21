package org.wclust.api;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Locale;
import org.wclust.internal.distribute.WorkerCluster;
import org.wclust.internal.train.FineTuneOptions;
import org.wclust.internal.train.LearningRateSchedule;
import org.wclust.internal.train.TrainingOptimizer;

/**
 * How a clustered model is fine-tuned: straight-through gradients to the original weights, summed (or
 * averaged) member gradients to the centroids, weights re-assigned to their nearest centroid every
 * {@code reassignEvery} steps. Defaults are the CLI's: one epoch of Adam at 1e-4, batch 64,
 * cross-entropy against integer labels, seed 0.
 *
 * <pre>{@code
 * FineTuning tuning = FineTuning.builder().epochs(2).learningRate(5e-4f).learningRateDecay("cosine").build();
 * }</pre>
 */
public final class FineTuning {
  private final FineTuneOptions options;

  private FineTuning(FineTuneOptions options) {
    this.options = options;
  }

  /** A builder with the CLI's defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** The CLI's defaults. */
  public static FineTuning defaults() {
    return builder().build();
  }

  /** Passes over the training data. */
  public int epochs() {
    return options.epochs();
  }

  /** Seed of the shuffle. */
  public long seed() {
    return options.seed();
  }

  FineTuneOptions options() {
    return options;
  }

  @Override
  public String toString() {
    return options.toString();
  }

  /**
   * Builds {@link FineTuning}; every setter checks nothing until {@link #build}, which fails with an
   * {@link IllegalArgumentException} naming the bad value.
   *
   * <pre>{@code
   * FineTuning.builder().optimizer("sgd").momentum(0.9f).learningRate(1e-3f).batchSize(32).build();
   * }</pre>
   */
  public static final class Builder {
    private int epochs = 1;
    private int batchSize = 64;
    private String optimizer = "adam";
    private Float learningRate;
    private float momentum = 0.9f;
    private String decay = "none";
    private double decayRate = 0.5;
    private String aggregation = "sum";
    private int reassignEvery = 1;
    private String loss = "auto";
    private boolean distill;
    private float temperature = 1f;
    private String outputKey;
    private long seed;
    private List<String> workers = List.of();

    private Builder() {}

    /** Passes over the training data (default 1). */
    public Builder epochs(int n) {
      epochs = n;
      return this;
    }

    /** Examples per step (default 64). */
    public Builder batchSize(int n) {
      batchSize = n;
      return this;
    }

    /** {@code adam} (default) or {@code sgd} (with {@link #momentum}). */
    public Builder optimizer(String name) {
      optimizer = name;
      return this;
    }

    /** The initial learning rate (default 1e-4 for Adam, 1e-3 for SGD). */
    public Builder learningRate(float rate) {
      learningRate = rate;
      return this;
    }

    /** SGD momentum (default 0.9). */
    public Builder momentum(float m) {
      momentum = m;
      return this;
    }

    /** {@code none} (default), {@code cosine} (to 0 at the end) or {@code exponential} (see {@link #decayRate}). */
    public Builder learningRateDecay(String kind) {
      decay = kind;
      return this;
    }

    /** With exponential decay: the factor per epoch (default 0.5). */
    public Builder decayRate(double rate) {
      decayRate = rate;
      return this;
    }

    /** A centroid's gradient is the {@code sum} (default, as tfmot) or the {@code mean} of its members'. */
    public Builder gradientAggregation(String how) {
      aggregation = how;
      return this;
    }

    /** Re-assign weights to their nearest centroid every N steps (default 1; 0 keeps the first assignment). */
    public Builder reassignEvery(int steps) {
      reassignEvery = steps;
      return this;
    }

    /** {@code auto} / {@code crossentropy} (integer labels) or {@code mse} (float targets). */
    public Builder loss(String kind) {
      loss = kind;
      return this;
    }

    /** Train against the original model's outputs (KL divergence) instead of labels. */
    public Builder distill(boolean d) {
      distill = d;
      return this;
    }

    /** With {@link #distill}: the softmax temperature (default 1). */
    public Builder temperature(float t) {
      temperature = t;
      return this;
    }

    /** The signature output to train and evaluate (default: the first). */
    public Builder outputKey(String key) {
      outputKey = key;
      return this;
    }

    /** Seed of the shuffle (default 0). */
    public Builder seed(long s) {
      seed = s;
      return this;
    }

    /**
     * Train data-parallel on these TensorFlow servers ({@code HOST:PORT} in task order, each started with
     * {@link TrainingWorker#start}): one replica per worker, every batch split across them, gradients
     * averaged into one update. The workers read their own slice of every batch at this process's paths
     * when the data is an image folder, uncompressed TFRecords or an uncompressed .npz/.npy (so they need
     * the same files at the same paths); other data is read here and sent to them. Default: none (train
     * in this process).
     */
    public Builder workers(List<String> addresses) {
      workers = List.copyOf(addresses);
      return this;
    }

    /** Whether the loss was set to {@code mse} (the data then needs float targets). */
    public boolean regression() {
      return loss.equalsIgnoreCase("mse");
    }

    /** The fine-tuning; fails with an {@link IllegalArgumentException} naming a bad value. */
    public FineTuning build() {
      TrainingOptimizer opt = switch (optimizer.toLowerCase(Locale.ROOT)) {
        case "adam" -> TrainingOptimizer.Adam.DEFAULT;
        case "sgd" -> new TrainingOptimizer.Sgd(momentum, false);
        default -> throw new IllegalArgumentException("unknown optimizer '" + optimizer + "'; expected adam or sgd");
      };
      float lr = learningRate != null ? learningRate : opt instanceof TrainingOptimizer.Adam ? 1e-4f : 1e-3f;
      FineTuneOptions.GradientAggregation agg = switch (aggregation.toLowerCase(Locale.ROOT)) {
        case "sum" -> FineTuneOptions.GradientAggregation.SUM;
        case "mean" -> FineTuneOptions.GradientAggregation.MEAN;
        default -> throw new IllegalArgumentException(
            "unknown gradient aggregation '" + aggregation + "'; expected sum or mean");
      };
      FineTuneOptions.LossKind lossKind = switch (loss.toLowerCase(Locale.ROOT)) {
        case "auto" -> FineTuneOptions.LossKind.AUTO;
        case "crossentropy", "cross-entropy" -> FineTuneOptions.LossKind.CROSSENTROPY;
        case "mse" -> FineTuneOptions.LossKind.MSE;
        default -> throw new IllegalArgumentException(
            "unknown loss '" + loss + "'; expected auto, crossentropy or mse");
      };
      return new FineTuning(new FineTuneOptions(epochs, batchSize, opt, lr,
          LearningRateSchedule.parse(decay, decayRate), lossKind, distill, temperature, agg, reassignEvery,
          outputKey, seed, workers.isEmpty() ? ImmutableList.of() : new WorkerCluster(
              ImmutableList.copyOf(workers)).addresses()));
    }
  }
}

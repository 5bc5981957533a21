package org.wclust.internal.train;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableList;

/**
 * How a clustered model is fine-tuned.
 *
 * @param epochs passes over the training data (at least 1)
 * @param batchSize examples per step
 * @param optimizer SGD with momentum or Adam, over resource variables
 * @param learningRate the initial learning rate
 * @param schedule how the learning rate decays over the steps
 * @param loss the training objective of labelled data ({@code AUTO}: cross-entropy; {@code --distill}
 *     ignores it)
 * @param distill train against the original model's outputs instead of labels (KL divergence)
 * @param temperature the distillation temperature (both distributions are softened by it)
 * @param aggregation how a centroid's gradient combines its members' gradients
 * @param reassignEvery re-assign every weight to its nearest centroid every this many steps (0: never)
 * @param outputKey the signature output trained on ({@code null}: the first)
 * @param seed seed of the shuffling
 * @param workers TensorFlow servers ({@code HOST:PORT}, task order) to train on data-parallel; empty:
 *     train in this process
 */
public record FineTuneOptions(int epochs, int batchSize, TrainingOptimizer optimizer, float learningRate,
    LearningRateSchedule schedule, LossKind loss, boolean distill, float temperature,
    GradientAggregation aggregation, int reassignEvery, String outputKey, long seed,
    ImmutableList<String> workers) {

  /** Sum (the centroid moves with its members' summed gradient, as tfmot's default) or mean. */
  public enum GradientAggregation { SUM, MEAN }

  /** The loss of labelled data. */
  public enum LossKind {
    /** Cross-entropy for integer labels (works out whether the output is logits or probabilities). */
    AUTO,
    CROSSENTROPY,
    /** Mean squared error against float targets of the output's shape (regression). */
    MSE
  }

  public FineTuneOptions {
    checkArgument(epochs >= 1, "epochs must be at least 1, got %s", epochs);
    checkArgument(batchSize >= 1, "the batch size must be at least 1, got %s", batchSize);
    checkNotNull(optimizer, "optimizer");
    checkArgument(learningRate > 0 && Float.isFinite(learningRate),
        "the learning rate must be a positive number, got %s", learningRate);
    checkNotNull(schedule, "schedule");
    checkNotNull(loss, "loss");
    checkArgument(temperature > 0 && Float.isFinite(temperature),
        "the temperature must be a positive number, got %s", temperature);
    checkNotNull(aggregation, "aggregation");
    checkArgument(reassignEvery >= 0, "--reassign-every must be >= 0, got %s", reassignEvery);
    checkNotNull(workers, "workers");
  }

  /** Training in this process. */
  public FineTuneOptions(int epochs, int batchSize, TrainingOptimizer optimizer, float learningRate,
      LearningRateSchedule schedule, LossKind loss, boolean distill, float temperature,
      GradientAggregation aggregation, int reassignEvery, String outputKey, long seed) {
    this(epochs, batchSize, optimizer, learningRate, schedule, loss, distill, temperature, aggregation,
        reassignEvery, outputKey, seed, ImmutableList.of());
  }

  /** One epoch of Adam (learning rate 1e-4, constant), batch 64, cross-entropy, seed 0. */
  public static FineTuneOptions defaults() {
    return new FineTuneOptions(1, 64, TrainingOptimizer.Adam.DEFAULT, 1e-4f, LearningRateSchedule.CONSTANT,
        LossKind.AUTO, false, 1f, GradientAggregation.SUM, 1, null, 0L);
  }

  public FineTuneOptions withEpochs(int n) {
    return new FineTuneOptions(n, batchSize, optimizer, learningRate, schedule, loss, distill, temperature,
        aggregation, reassignEvery, outputKey, seed, workers);
  }

  public FineTuneOptions withDistill(boolean d) {
    return new FineTuneOptions(epochs, batchSize, optimizer, learningRate, schedule, loss, d, temperature,
        aggregation, reassignEvery, outputKey, seed, workers);
  }
}

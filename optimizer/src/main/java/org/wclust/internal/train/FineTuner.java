package org.wclust.internal.train;

import com.google.common.collect.ImmutableList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.Prefetcher;
import org.wclust.internal.data.ShuffleOrder;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;

/**
 * Fine-tunes a clustered model in TF Java sessions: shuffled mini-batches over the training data,
 * one optimizer step each on the centroids (summed or averaged member gradients), the original
 * weights (straight-through) and the other trainable variables, with the weights re-assigned to their
 * nearest centroids every {@code reassignEvery} steps and once more at the end.
 *
 * <p>With labels the loss is cross-entropy on the chosen output (on the logits before a final
 * Softmax, or on log-probabilities when the output holds probabilities); with {@code distill} the
 * original model is the teacher and the loss is the KL divergence between its and the clustered
 * model's outputs at a temperature, so no labels are needed. With {@code --loss mse} the loss is the
 * mean squared error against float targets, or with {@code distill} against the teacher's outputs.
 */
public final class FineTuner {
  private static final int TEACHER_BATCH = 500;
  /** Batches prepared ahead of training: enough to hide decoding jitter, few enough to bound memory. */
  private static final int PREFETCH_BATCHES = 4;

  /** One step's examples, their inputs (null when the training graph reads them itself) and targets. */
  private record Batch(int[] examples, List<HostTensor> inputs, HostTensor targets) {
    int size() {
      return examples.length;
    }
  }

  private FineTuner() {}

  /** Progress of the run, for a progress bar. */
  public interface Listener {
    /** After each step: the epoch (1-based), step within it, steps per epoch and running means. */
    void onStep(int epoch, int step, int stepsPerEpoch, double loss, double accuracy);

    /** Before {@link #onStep}: the number of examples the step trained on (for a throughput figure). */
    default void onExamples(int examples) {}

    Listener NONE = (epoch, step, steps, loss, accuracy) -> {};
  }

  /**
   * @param model the clustered model with its variables at their trained values
   * @param options how it was trained
   * @param objective what the loss compared (see {@link #describe})
   * @param graph which graph was trained (see {@link TrainingMode})
   * @param steps optimizer steps taken
   * @param finalLoss mean loss over the last epoch
   * @param finalAccuracy mean accuracy over the last epoch (against labels, or agreement with the
   *     teacher when distilling); NaN without a classifier objective
   * @param trainableVariables names of the variables the optimizer updated
   * @param seconds wall time of the training loop
   */
  public record Result(FlatModel model, FineTuneOptions options, String objective, String graph, long steps,
      double finalLoss, double finalAccuracy, ImmutableList<String> trainableVariables, double seconds) {}

  /**
   * Which graph is trained: the inference graph that is exported, or a training-mode twin of it (a
   * Keras model rebuilt with active dropout and BatchNorm batch statistics, whose moving-average
   * updates are control dependencies of its outputs).
   */
  public record TrainingMode(String description) {
    public static final TrainingMode INFERENCE =
        new TrainingMode("inference graph (BatchNorm statistics frozen, no dropout)");
  }

  /**
   * @param teacher the model before clustering (the teacher when distilling; also used to tell
   *     whether the output holds logits or probabilities)
   * @param clustered the clustered model to train
   * @param data training data; needs labels unless {@code options.distill()}
   */
  public static Result fineTune(FlatModel teacher, ClusteredModel clustered, Dataset data,
      FineTuneOptions options, Listener listener) {
    return fineTune(teacher, clustered, data, options, listener, TrainingMode.INFERENCE);
  }

  /**
   * As {@link #fineTune(FlatModel, ClusteredModel, Dataset, FineTuneOptions, Listener)}, saying in the
   * result which graph {@code clustered} is ({@code mode}).
   */
  public static Result fineTune(FlatModel teacher, ClusteredModel clustered, Dataset data,
      FineTuneOptions options, Listener listener, TrainingMode mode) {
    if (data.size() == 0) {
      throw new IllegalArgumentException("the training data is empty");
    }
    boolean mse = options.loss() == FineTuneOptions.LossKind.MSE;
    if (!options.distill() && mse && !data.hasTargets()) {
      throw new IllegalArgumentException("--loss mse needs float targets (array y of shape [N, ...]) or --distill");
    }
    if (!options.distill() && !mse && !data.hasLabels()) {
      throw new IllegalArgumentException("the training data has no labels; give labels (array y) or use --distill");
    }
    TensorSpec output = Evaluation.output(clustered.model(), options.outputKey());
    TrainingGraph.Objective objective;
    Function<int[], HostTensor> targets;
    if (mse) {
      objective = TrainingGraph.Objective.MSE;
      if (options.distill()) {
        TeacherOutputs t = teacherOutputs(teacher, data, output, false, false, 1f);
        targets = indices -> rows(t, indices);
      } else {
        Dataset fitted = Evaluation.fitTargets(data, output);
        targets = fitted::batchTargets;
      }
    } else {
      boolean softmaxOutput = TrainingGraph.softmaxInput(clustered.model(), output.tensorName()) != null;
      boolean probabilities = softmaxOutput || looksLikeProbabilities(teacher, data, output);
      boolean logOfOutput = probabilities && !softmaxOutput;
      if (options.distill()) {
        objective = logOfOutput ? TrainingGraph.Objective.DISTILL_PROBABILITIES : TrainingGraph.Objective.DISTILL_LOGITS;
        TeacherOutputs t = teacherOutputs(teacher, data, output, true, logOfOutput, options.temperature());
        targets = indices -> rows(t, indices);
      } else {
        objective = logOfOutput ? TrainingGraph.Objective.CROSSENTROPY_PROBABILITIES
            : TrainingGraph.Objective.CROSSENTROPY_LOGITS;
        targets = indices -> HostTensor.ofInts(new long[] {indices.length}, data.batchLabels(indices));
      }
    }

    long t0 = System.nanoTime();
    List<TensorSpec> inputs = ModelInputs.all(clustered.model());
    try (TrainingSteps graph = TrainingSteps.open(clustered, output, objective, options, data)) {
      int n = data.size();
      int batch = Math.min(options.batchSize(), n);
      int stepsPerEpoch = (n + batch - 1) / batch;
      long totalSteps = (long) stepsPerEpoch * options.epochs();
      Random random = new Random(options.seed());
      int[] order = Evaluation.range(0, n);
      long step = 0;
      double epochLoss = Double.NaN;
      double epochAccuracy = Double.NaN;
      for (int epoch = 1; epoch <= options.epochs(); epoch++) {
        ShuffleOrder.next(order, random, data.shuffleBuffer());
        double lossSum = 0;
        long right = 0;
        long seen = 0;
        // Batches are read (for image data: decoded) on another thread while the previous ones train.
        Prefetcher<Batch> batches = new Prefetcher<>(stepsPerEpoch, PREFETCH_BATCHES, s -> {
          int[] indices = Arrays.copyOfRange(order, s * batch, Math.min(n, s * batch + batch));
          return new Batch(indices, graph.readsInputs() ? null : ModelInputs.batch(data, indices, inputs),
              targets.apply(indices));
        });
        try (batches) {
          for (int s = 0; s < stepsPerEpoch; s++) {
            Batch b = batches.next();
            float lr = options.schedule().at(options.learningRate(), step, stepsPerEpoch, totalSteps);
            boolean reassign = options.reassignEvery() > 0 && (step + 1) % options.reassignEvery() == 0;
            TrainingGraph.StepResult r;
            if (b.inputs() == null) {
              r = graph.step(b.examples(), b.targets(), lr, step);
              if (reassign) {
                graph.reassign();
              }
            } else {
              r = reassign ? graph.stepAndReassign(b.inputs(), b.targets(), lr, step)
                  : graph.step(b.inputs(), b.targets(), lr, step);
            }
            if (!Float.isFinite(r.loss())) {
              throw new IllegalStateException("fine-tuning diverged at step " + (step + 1) + " (loss "
                  + r.loss() + "); lower --learning-rate");
            }
            step++;
            lossSum += r.loss() * b.size();
            right += Math.max(0, r.correct());
            seen += b.size();
            epochLoss = lossSum / seen;
            epochAccuracy = r.correct() < 0 ? Double.NaN : (double) right / seen;
            listener.onExamples(b.size());
            listener.onStep(epoch, s + 1, stepsPerEpoch, epochLoss, epochAccuracy);
          }
        }
      }
      if (options.reassignEvery() > 0) {
        graph.reassign(); // the exported indices follow the final original weights
      }
      return new Result(graph.trainedModel(), options, describe(objective, options), mode.description(), step,
          epochLoss, epochAccuracy,
          graph.trainableVariables(), (System.nanoTime() - t0) / 1e9);
    }
  }

  static String describe(TrainingGraph.Objective objective, FineTuneOptions options) {
    return switch (objective) {
      case CROSSENTROPY_LOGITS -> "cross-entropy (logits)";
      case CROSSENTROPY_PROBABILITIES -> "cross-entropy (probabilities)";
      case MSE -> options.distill() ? "mean squared error to the original model's outputs" : "mean squared error";
      case DISTILL_LOGITS, DISTILL_PROBABILITIES -> "distillation (KL divergence, T=" + options.temperature() + ")";
    };
  }

  /** Whether the output on the first examples is non-negative with rows summing to 1. */
  private static boolean looksLikeProbabilities(FlatModel model, Dataset data, TensorSpec output) {
    int[] first = Evaluation.range(0, Math.min(data.size(), 256));
    float[] out = run(model, data, first, output);
    int classes = out.length / first.length;
    for (int i = 0; i < first.length; i++) {
      double sum = 0;
      for (int j = 0; j < classes; j++) {
        float p = out[i * classes + j];
        if (p < 0 || p > 1) {
          return false;
        }
        sum += p;
      }
      if (Math.abs(sum - 1) > 1e-3) {
        return false;
      }
    }
    return true;
  }

  /** The teacher's output rows for every example: {@code width} values each, shaped {@code shape}. */
  private record TeacherOutputs(float[] values, int width, long[] shape) {}

  /**
   * The teacher's outputs for every example, computed once before training: as they are (regression),
   * or as log-softmax(logits / T) of its logits (the input of a final Softmax, or the log of an output
   * that holds probabilities).
   */
  private static TeacherOutputs teacherOutputs(FlatModel teacher, Dataset data, TensorSpec output,
      boolean logSoftmax, boolean logOfOutput, float temperature) {
    String softmaxInput = logSoftmax ? TrainingGraph.softmaxInput(teacher, output.tensorName()) : null;
    String fetched = softmaxInput == null ? output.tensorName() : softmaxInput;
    float[] all = null;
    int width = 0;
    long[] shape = null;
    try (ModelSession session = new ModelSession(teacher)) {
      for (int from = 0; from < data.size(); from += TEACHER_BATCH) {
        int[] batch = Evaluation.range(from, Math.min(data.size(), from + TEACHER_BATCH));
        HostTensor out = session.run(ModelInputs.feeds(data, batch, teacher), List.of(fetched))
            .get(fetched);
        float[] values = out.toFloats();
        if (all == null) {
          width = values.length / batch.length;
          shape = Arrays.copyOfRange(out.shape(), 1, out.shape().length);
          all = new float[Math.multiplyExact(data.size(), width)];
        }
        if (!logSoftmax) {
          System.arraycopy(values, 0, all, from * width, values.length);
          continue;
        }
        for (int i = 0; i < batch.length; i++) {
          logSoftmax(values, i * width, width, temperature, logOfOutput, all, (from + i) * width);
        }
      }
    }
    return new TeacherOutputs(all, width, shape);
  }

  /** log softmax(z / T) of one row, where z is the row itself or, for probabilities, its log. */
  private static void logSoftmax(float[] row, int offset, int length, float temperature, boolean logOfRow,
      float[] out, int outOffset) {
    double max = Double.NEGATIVE_INFINITY;
    double[] z = new double[length];
    for (int j = 0; j < length; j++) {
      double v = row[offset + j];
      z[j] = (logOfRow ? Math.log(Math.max(v, 1e-7)) : v) / temperature;
      max = Math.max(max, z[j]);
    }
    double sum = 0;
    for (double v : z) {
      sum += Math.exp(v - max);
    }
    double logSum = max + Math.log(sum);
    for (int j = 0; j < length; j++) {
      out[outOffset + j] = (float) (z[j] - logSum);
    }
  }

  private static HostTensor rows(TeacherOutputs t, int[] indices) {
    float[] out = new float[indices.length * t.width()];
    for (int i = 0; i < indices.length; i++) {
      System.arraycopy(t.values(), indices[i] * t.width(), out, i * t.width(), t.width());
    }
    long[] shape = new long[t.shape().length + 1];
    shape[0] = indices.length;
    System.arraycopy(t.shape(), 0, shape, 1, t.shape().length);
    return HostTensor.ofFloats(shape, out);
  }

  private static float[] run(FlatModel model, Dataset data, int[] batch, TensorSpec output) {
    try (ModelSession session = new ModelSession(model)) {
      return session.run(ModelInputs.feeds(data, batch, model),
          List.of(output.tensorName())).get(output.tensorName()).toFloats();
    }
  }
}

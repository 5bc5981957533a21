package org.wclust.internal.train;

import com.google.common.collect.ImmutableList;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.distribute.WorkerCluster;
import org.wclust.internal.graph.FlatModel;

/** What the fine-tuning loop needs of a training graph, in one process or over workers. */
interface TrainingSteps extends AutoCloseable {

  /**
   * One optimizer step on a batch.
   *
   * @param inputs the batch of each model input, in signature order
   * @param target integer labels, float targets, or the teacher's log-probabilities, per objective
   */
  TrainingGraph.StepResult step(java.util.List<HostTensor> inputs, HostTensor target, float lr, long step);

  /** Re-assigns every clustered weight to its nearest centroid and refreshes the gradient scales. */
  void reassign();

  /** The model with every variable at its current (trained) value. */
  FlatModel trainedModel();

  /** Names of the variables the optimizer updates. */
  ImmutableList<String> trainableVariables();

  @Override
  void close();

  /** The training graph of {@code options}: in this process, or replicated over its workers. */
  static TrainingSteps open(ClusteredModel clustered, TensorSpec output, TrainingGraph.Objective objective,
      FineTuneOptions options) {
    if (options.workers().isEmpty()) {
      return new TrainingGraph(clustered, output, objective, options);
    }
    return new ReplicatedTrainingGraph(clustered, output, objective, options,
        new WorkerCluster(options.workers()));
  }
}

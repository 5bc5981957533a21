package org.wclust.internal.train;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Optional;
import org.tensorflow.proto.DataType;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.GraphInput;
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
  TrainingGraph.StepResult step(List<HostTensor> inputs, HostTensor target, float lr, long step);

  /**
   * Whether the graph reads the inputs of a batch itself (its workers read the data files), so that
   * the caller gives the examples' indices ({@link #step(int[], HostTensor, float, long)}), not arrays.
   */
  default boolean readsInputs() {
    return false;
  }

  /** One optimizer step on the examples {@code examples} of the data, read by the graph itself. */
  default TrainingGraph.StepResult step(int[] examples, HostTensor target, float lr, long step) {
    throw new UnsupportedOperationException("this training graph is fed the inputs");
  }

  /** {@link #step(List, HostTensor, float, long)}, then {@link #reassign()}. */
  default TrainingGraph.StepResult stepAndReassign(List<HostTensor> inputs, HostTensor target, float lr, long step) {
    TrainingGraph.StepResult result = step(inputs, target, lr, step);
    reassign();
    return result;
  }

  /** Re-assigns every clustered weight to its nearest centroid and refreshes the gradient scales. */
  void reassign();

  /** The model with every variable at its current (trained) value. */
  FlatModel trainedModel();

  /** Names of the variables the optimizer updates. */
  ImmutableList<String> trainableVariables();

  @Override
  void close();

  /**
   * The training graph of {@code options}: in this process, or replicated over its workers, which then
   * read {@code data} themselves when it qualifies ({@link GraphInput}) and feeds the model's one float32
   * input (other data is read here and sent to them).
   */
  static TrainingSteps open(ClusteredModel clustered, TensorSpec output, TrainingGraph.Objective objective,
      FineTuneOptions options, Dataset data) {
    if (options.workers().isEmpty()) {
      return new TrainingGraph(clustered, output, objective, options);
    }
    List<TensorSpec> inputs = ModelInputs.all(clustered.model());
    Optional<GraphInput> reader = GraphInput.of(data)
        .filter(f -> inputs.size() == 1 && inputs.get(0).dtype() == DataType.DT_FLOAT);
    return new ReplicatedTrainingGraph(clustered, output, objective, options,
        new WorkerCluster(options.workers()), reader);
  }
}

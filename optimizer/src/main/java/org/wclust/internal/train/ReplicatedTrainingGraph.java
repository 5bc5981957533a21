package org.wclust.internal.train;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.data.GraphInput;
import org.wclust.internal.distribute.GraphReplicas;
import org.wclust.internal.distribute.RemoteSession;
import org.wclust.internal.distribute.StepWatchdog;
import org.wclust.internal.distribute.WorkerCluster;
import org.wclust.internal.distribute.WorkerFailure;
import org.wclust.internal.graph.DeterministicSums;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;

/**
 * Data-parallel training on TensorFlow's distributed runtime: one replica of the clustered model, its
 * loss and its backward pass per worker (device {@code /job:worker/task:I}); the chief splits every
 * batch into one slice per worker, each replica's gradients are weighted by its share of the batch and
 * summed (the batch mean over all slices: the gradient a single process computes on the whole batch),
 * centroid gradients included, and one optimizer update is applied. The variables, the update and
 * the re-assignment to the nearest centroids live on task 0, next to the session's master.
 *
 * <p>For data whose examples lie in files at known places ({@link GraphInput}: image folders,
 * uncompressed TFRecords, uncompressed .npz/.npy rows), each worker reads its own slice of every batch:
 * the chief feeds where the slice's examples are (file paths, or files and byte ranges), and the
 * replica's input is read and decoded by ops on its worker ({@link ReplicaInput}), so the batches are
 * exactly those of a single process. Other data (compressed .npz, GZIP-compressed TFRecords, several
 * inputs) the chief reads and sends each replica its slice with the step.
 */
final class ReplicatedTrainingGraph implements TrainingSteps {
  private static final String SCOPE = "wclust_train";

  private final WorkerCluster cluster;
  private final TrainingOptimizer optimizer;
  private final List<Replica> replicas = new ArrayList<>();
  private final List<String> updates = new ArrayList<>();
  private final List<String> reassignments = new ArrayList<>();
  private final String learningRate;
  private final String beta1Power;
  private final String beta2Power;
  private final ImmutableList<String> trainable;
  private final ModelSession session;

  /**
   * Tensor names of one replica's feeds and fetches; {@code correct} is null without a classifier,
   * {@code read} null when the chief feeds the inputs.
   */
  private record Replica(List<String> inputs, ReplicaInput read, String target, String weight, String loss,
      String correct) {}

  private final GraphInput reader;
  private final StepWatchdog watchdog;

  ReplicatedTrainingGraph(ClusteredModel clustered, TensorSpec output, TrainingGraph.Objective objective,
      FineTuneOptions options, WorkerCluster cluster, Optional<GraphInput> reader) {
    this.cluster = cluster;
    this.reader = reader.orElse(null);
    this.watchdog = new StepWatchdog(cluster);
    this.optimizer = options.optimizer();
    FlatModel model = clustered.model();
    List<TensorSpec> inputs = ModelInputs.all(model);
    TrainingGraph.Trainables trainables = TrainingGraph.trainables(clustered, output.tensorName());
    int n = cluster.size();
    GraphReplicas copies = new GraphReplicas(model.graph(), n);
    List<String> slotInit = new ArrayList<>();
    Map<String, String> readInputs = new HashMap<>();
    // a replica's slice has at most this many examples (a batch smaller than the cluster: one, weight 0)
    int capacity = Math.max(1, (options.batchSize() + n - 1) / n);
    GraphDef replicated;
    try (Graph g = new Graph()) {
      g.importGraphDef(DeterministicSums.binaryFanOut(copies.graph()));
      List<List<Operand<TFloat32>>> gradients = new ArrayList<>();
      for (int r = 0; r < n; r++) {
        int replica = r;
        UnaryOperator<String> inGraph = name -> copies.name(replica, name);
        DeviceSpec worker = DeviceSpec.newBuilder().job(WorkerCluster.JOB).replica(0).task(r).build();
        Ops tf = Ops.create(g).withSubScope(GraphReplicas.scope(r) + "_loss").withDevice(worker);
        TrainingLoss loss = TrainingLoss.build(tf, g, model, output, inGraph, objective, options.temperature());
        Placeholder<TFloat32> weight = tf.withName("weight").placeholder(TFloat32.class,
            Placeholder.shape(Shape.scalar()));
        Output<?>[] xs = trainables.tensors().stream().map(inGraph).map(name -> TrainingGraph.output(g, name))
            .toArray(Output<?>[]::new);
        // The replica's share of the batch seeds its backward pass, so the summed gradients are the batch mean's.
        Output<?>[] grads = g.addGradients(gradientScope(r), new Output<?>[] {loss.loss().asOutput()}, xs,
            new Output<?>[] {weight.asOutput()});
        gradients.add(Arrays.stream(grads).map(TrainingGraph::floats).toList());
        List<String> replicaInputs = inputs.stream().map(i -> inGraph.apply(i.tensorName())).toList();
        ReplicaInput read = null;
        if (this.reader != null) {
          read = ReplicaInput.add(g, r, worker, this.reader, capacity);
          slotInit.addAll(read.init());
          readInputs.put(TensorRef.parse(replicaInputs.get(0)).node(), read.values());
        }
        replicas.add(new Replica(replicaInputs, read, name(loss.target()), name(weight),
            name(loss.loss()), loss.correct() == null ? null : name(loss.correct())));
      }
      Ops tf = Ops.create(g).withSubScope(SCOPE);
      List<Operand<TFloat32>> summed = new ArrayList<>();
      for (int x = 0; x < gradients.get(0).size(); x++) {
        List<Operand<TFloat32>> parts = new ArrayList<>();
        for (List<Operand<TFloat32>> replica : gradients) {
          parts.add(replica.get(x));
        }
        summed.add(DeterministicSums.sum(tf.withSubScope("average_" + x), parts));
      }
      Placeholder<TFloat32> lr = tf.withName("learning_rate").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat32> b1 = tf.withName("beta1_power").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat32> b2 = tf.withName("beta2_power").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      learningRate = name(lr);
      beta1Power = name(b1);
      beta2Power = name(b2);
      Map<String, Operand<TFloat32>> byVariable = TrainingGraph.variableGradients(tf, g, trainables, summed);
      List<Op> updateOps = new ArrayList<>();
      List<Op> slotOps = new ArrayList<>();
      trainable = TrainingGraph.addOptimizerUpdates(tf, g, model, optimizer,
          new TrainingOptimizer.Hyper(lr, b1, b2), byVariable, updateOps, slotOps);
      updateOps.forEach(op -> updates.add(op.op().name()));
      slotOps.forEach(op -> slotInit.add(op.op().name()));
      TrainingGraph.reassignments(tf, g, clustered, options.aggregation())
          .forEach(op -> reassignments.add(op.op().name()));
      TrainingGraph.meanScaleInitializers(tf, g, clustered, options.aggregation())
          .forEach(op -> slotInit.add(op.op().name()));
      replicated = GraphReplicas.placeUnplaced(g.toGraphDef(), ReplicatedTrainingGraph::gradientScope, n);
      if (!readInputs.isEmpty()) {
        replicated = GraphReplicas.inputsFrom(replicated, readInputs);
      }
    }
    cluster.requireReachable();
    try {
      this.session = new ModelSession(model, replicated, graph -> RemoteSession.open(graph, cluster.target(),
          DeterministicSums.sessionConfig()));
    } catch (TensorFlowException e) {
      throw failure(e);
    }
    try {
      runTargets(slotInit);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private static String gradientScope(int replica) {
    return GraphReplicas.scope(replica) + "_gradients";
  }

  private static String name(Operand<?> operand) {
    return operand.asOutput().op().name() + ":" + operand.asOutput().index();
  }

  @Override
  public TrainingGraph.StepResult step(List<HostTensor> inputs, HostTensor target, float lr, long step) {
    return run(Math.toIntExact(inputs.get(0).shape()[0]), target, lr, step, (runner, fed, replica, start, end) -> {
      for (int i = 0; i < inputs.size(); i++) {
        // every input of the model split the same way
        feed(runner, fed, replica.inputs().get(i), inputs.get(i).rows(start, end));
      }
    });
  }

  @Override
  public boolean readsInputs() {
    return reader != null;
  }

  @Override
  public TrainingGraph.StepResult step(int[] examples, HostTensor target, float lr, long step) {
    if (reader == null) {
      throw new IllegalStateException("the chief feeds this graph's inputs");
    }
    return run(examples.length, target, lr, step, (runner, fed, replica, start, end) -> {
      ReplicaInput read = replica.read();
      int[] slice = new int[read.capacity()];
      for (int i = 0; i < slice.length; i++) {
        slice[i] = examples[start + (i < end - start ? i : 0)];
      }
      List<Tensor> where = reader.feeds(slice);
      fed.addAll(where);
      for (int i = 0; i < where.size(); i++) {
        runner.feed(read.fed().get(i), where.get(i));
      }
      feed(runner, fed, read.count(), HostTensor.ofInts(new long[0], new int[] {end - start}));
    });
  }

  /** Feeds replica {@code replica}'s inputs for rows {@code [start, end)} of the batch. */
  private interface InputFeed {
    void feed(Session.Runner runner, List<Tensor> fed, Replica replica, int start, int end);
  }

  private TrainingGraph.StepResult run(int batch, HostTensor target, float lr, long step, InputFeed inputs) {
    Session.Runner runner = session.session().runner();
    List<Tensor> fed = new ArrayList<>();
    try {
      feed(runner, fed, learningRate, HostTensor.ofFloats(new long[0], new float[] {lr}));
      feed(runner, fed, beta1Power, HostTensor.ofFloats(new long[0], new float[] {optimizer.beta1Power(step + 1)}));
      feed(runner, fed, beta2Power, HostTensor.ofFloats(new long[0], new float[] {optimizer.beta2Power(step + 1)}));
      float[] shares = new float[replicas.size()];
      for (int r = 0; r < replicas.size(); r++) {
        Replica replica = replicas.get(r);
        int from = (int) ((long) r * batch / replicas.size());
        int to = (int) ((long) (r + 1) * batch / replicas.size());
        // A batch smaller than the cluster leaves a replica without examples: it runs on one with weight 0.
        int start = to > from ? from : 0;
        int end = start + Math.max(to - from, 1);
        shares[r] = (float) (to - from) / batch;
        inputs.feed(runner, fed, replica, start, end);
        feed(runner, fed, replica.target(), target.rows(start, end));
        feed(runner, fed, replica.weight(), HostTensor.ofFloats(new long[0], new float[] {shares[r]}));
        runner.fetch(replica.loss());
        if (replica.correct() != null) {
          runner.fetch(replica.correct());
        }
      }
      updates.forEach(runner::addTarget);
      try (Result result = watchdog.run(runner::run, () -> fed.forEach(Tensor::close))) {
        float loss = 0;
        int correct = 0;
        int k = 0;
        for (int r = 0; r < replicas.size(); r++) {
          float replicaLoss = ((TFloat32) result.get(k++)).getFloat();
          if (shares[r] > 0) {
            loss += shares[r] * replicaLoss;
          }
          if (replicas.get(r).correct() != null) {
            float c = ((TFloat32) result.get(k++)).getFloat();
            correct += shares[r] > 0 ? Math.round(c) : 0;
          }
        }
        return new TrainingGraph.StepResult(loss, replicas.get(0).correct() == null ? -1 : correct);
      }
    } catch (TensorFlowException e) {
      throw failure(e);
    } finally {
      if (!watchdog.abandoned()) { // else the abandoned run still reads them; it closes them when it ends
        fed.forEach(Tensor::close);
      }
    }
  }

  private static void feed(Session.Runner runner, List<Tensor> fed, String name, HostTensor value) {
    Tensor t = value.toTensor();
    fed.add(t);
    runner.feed(name, t);
  }

  @Override
  public void reassign() {
    runTargets(reassignments);
  }

  private void runTargets(List<String> ops) {
    if (ops.isEmpty()) {
      return;
    }
    Session.Runner runner = session.session().runner();
    ops.forEach(runner::addTarget);
    try {
      watchdog.run(runner::run, () -> { }).close();
    } catch (TensorFlowException e) {
      throw failure(e);
    }
  }

  @Override
  public FlatModel trainedModel() {
    try {
      return session.currentModel();
    } catch (TensorFlowException e) {
      throw failure(e);
    }
  }

  @Override
  public ImmutableList<String> trainableVariables() {
    return trainable;
  }

  private WorkerFailure failure(TensorFlowException e) {
    return new WorkerFailure(cluster.describeFailure(e), e);
  }

  @Override
  public void close() {
    watchdog.close();
    if (!watchdog.abandoned()) { // an abandoned run is still inside the session
      session.close();
    }
  }
}

package org.wclust.api;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;
import org.wclust.internal.bridge.GraphDefs;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.ClusteredWeight;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.ModelVariable;

/**
 * A clustered model whose weights are computed by trainable centroid-gather subgraphs
 * ({@code centroids[indices]}, with straight-through gradients to the original weights): the graph to
 * train, as tfmot's clustered Keras model is. Train it with {@link #fineTune}, or in your own TF Java
 * loop on {@link #graph()} / {@link #session()} (the variables are initialised there), then
 * {@link #strip()} it into constants.
 *
 * <pre>{@code
 * ClusteredModel clustered = model.cluster(ClusterConfig.builder().clusters(8).build());
 * Graph g = clustered.graph();
 * Ops tf = Ops.create(g);
 * Operand<TFloat32> loss = tf.math.mean(tf.math.square(tf.math.sub(clustered.output(), labels)), tf.constant(0));
 * List<TrainableVariable> vars = clustered.trainableVariables();
 * Output<?>[] grads = g.addGradients(loss.asOutput(), vars.stream().map(TrainableVariable::value).toArray(Output[]::new));
 * // ... tf.assignSubVariableOp(vars.get(i).handle(), tf.math.mul(tf.constant(0.01f), grads[i])) per variable,
 * // run them in clustered.session(), and clustered.reassignOp() every few steps
 * clustered.strip().exportSavedModel(Path.of("out"));
 * }</pre>
 */
public final class ClusteredModel implements AutoCloseable {
  private static final String REASSIGN_SCOPE = "wclust_reassign";

  private final ClusterPipeline pipeline;
  private ModelSession live;
  private Op reassign;

  ClusteredModel(ClusterPipeline pipeline) {
    this.pipeline = pipeline;
  }

  /**
   * The clustered graph with its variables initialised in {@link #session()}; created on first use and
   * kept until {@link #fineTune}, {@link #strip} or {@link #close}. Add your training ops to it.
   */
  public Graph graph() {
    return live().graph();
  }

  /** The session of {@link #graph()}, holding the variables' current values. */
  public Session session() {
    return live().session();
  }

  /** The signature's first input, to feed. */
  public Operand<?> input() {
    return tensor(pipeline.clustered().model().signature().inputs().get(0));
  }

  /** The signature input {@code key}. */
  public Operand<?> input(String key) {
    return tensor(spec(pipeline.clustered().model().signature().inputs(), key));
  }

  /** The signature's first output (float32), to build a loss on. */
  public Operand<TFloat32> output() {
    return floats(pipeline.clustered().model().signature().outputs().get(0));
  }

  /** The signature output {@code key} (float32). */
  public Operand<TFloat32> output(String key) {
    return floats(spec(pipeline.clustered().model().signature().outputs(), key));
  }

  /** The names of the clustered weights, e.g. {@code dense/kernel}. */
  public List<String> clusteredWeights() {
    return pipeline.clustered().layers().stream().map(l -> l.weight().name()).toList();
  }

  /**
   * The float variables a training step should update, as tfmot trains them: each clustered weight's
   * centroids and its original weight (which gets the straight-through gradient, and decides the
   * re-assignment), and every other float variable the outputs depend on, except BatchNorm moving
   * statistics. The clustering's indices and gradient scales are not among them.
   */
  public List<TrainableVariable> trainableVariables() {
    ModelSession session = live();
    FlatModel model = pipeline.clustered().model();
    Set<String> bookkeeping = new HashSet<>();
    for (ClusteredLayer layer : pipeline.clustered().layers()) {
      bookkeeping.add(layer.indicesHandle());
      bookkeeping.add(layer.gradientScaleHandle());
    }
    Set<String> needed = GraphDefs.dependencies(model.graph(),
        model.signature().outputs().stream().map(TensorSpec::tensorName).toList(), Set.of());
    Map<String, List<Output<TFloat32>>> reads = new LinkedHashMap<>();
    for (NodeDef node : model.graph().getNodeList()) {
      if (!node.getOp().equals("ReadVariableOp") || !needed.contains(node.getName())) {
        continue;
      }
      ModelVariable v = model.variables().get(TensorRef.parse(node.getInput(0)).node());
      if (v != null && v.value().dtype() == DataType.DT_FLOAT && !bookkeeping.contains(v.handleNode())
          && !v.name().endsWith("moving_mean") && !v.name().endsWith("moving_variance")) {
        Output<TFloat32> read = session.graph().operationOrThrow(node.getName()).output(0);
        reads.computeIfAbsent(v.handleNode(), h -> new ArrayList<>()).add(read);
      }
    }
    List<TrainableVariable> result = new ArrayList<>();
    reads.forEach((handle, r) -> result.add(new TrainableVariable(model.variables().get(handle).name(),
        session.graph().operationOrThrow(handle).output(0), r)));
    return result;
  }

  /**
   * An op that re-assigns every clustered weight to its nearest centroid (from the original weights as
   * trained), as tfmot does after each step; run it in {@link #session()} every few steps.
   */
  public Op reassignOp() {
    if (reassign == null) {
      Graph graph = live().graph();
      Ops tf = Ops.create(graph).withSubScope(REASSIGN_SCOPE);
      List<Op> assigns = new ArrayList<>();
      int i = 0;
      for (ClusteredLayer layer : pipeline.clustered().layers()) {
        Ops scoped = tf.withSubScope("layer_" + i++);
        Operand<TFloat32> centroids = scoped.readVariableOp(handle(graph, layer.centroidsHandle()), TFloat32.class);
        Operand<TFloat32> original = scoped.readVariableOp(handle(graph, layer.weight().handleNode()), TFloat32.class);
        Operand<TInt32> indices = ClusteredWeight.reassign(scoped, centroids, original, layer.layout(),
            Shape.of(layer.weight().shape()));
        assigns.add(scoped.assignVariableOp(handle(graph, layer.indicesHandle()), indices));
      }
      reassign = tf.withControlDependencies(assigns).withName("all").noOp();
    }
    return reassign;
  }

  /**
   * Fine-tunes this model on {@code data} with wclust's own loop (as {@link Wclust#cluster} does),
   * starting from the values trained so far in {@link #session()}; {@link #graph()} is made afresh
   * afterwards.
   */
  public ClusterSummary.FineTuningRun fineTune(Examples data, FineTuning how) {
    syncAndClose();
    ClusterPipeline.Tuned tuned = pipeline.fineTune(data.dataset(), how.options());
    pipeline.useTrained(tuned.clustered(), tuned.result());
    return ClusterSummary.FineTuningRun.of(tuned.result());
  }

  /**
   * Freezes the model as trained so far: each clustered weight becomes the constant
   * {@code centroids[indices]} (at most k distinct values per codebook), every other variable a
   * constant; the graph of {@link #graph()} is closed.
   */
  public StrippedModel strip() {
    syncAndClose();
    pipeline.strip();
    pipeline.evaluate();
    return new StrippedModel(pipeline);
  }

  /** Closes {@link #graph()} and {@link #session()} if they were made. */
  @Override
  public void close() {
    if (live != null) {
      live.close();
      live = null;
      reassign = null;
    }
  }

  /** Takes the values trained in the live session into the pipeline, and closes it. */
  private void syncAndClose() {
    if (live == null) {
      return;
    }
    FlatModel trained = live.currentModel();
    pipeline.useTrained(pipeline.clustered().withTrainedValues(trained, pipeline.model(),
        pipeline.options().int8Aware()), null);
    close();
  }

  private ModelSession live() {
    if (live == null) {
      live = new ModelSession(pipeline.clustered().model());
    }
    return live;
  }

  private Operand<?> tensor(TensorSpec spec) {
    TensorRef ref = TensorRef.parse(spec.tensorName());
    return live().graph().operationOrThrow(ref.node()).output(ref.index());
  }

  @SuppressWarnings("unchecked")
  private Operand<TFloat32> floats(TensorSpec spec) {
    Operand<?> out = tensor(spec);
    if (out.asOutput().dataType() != DataType.DT_FLOAT) {
      throw new IllegalArgumentException("output '" + spec.key() + "' is " + out.asOutput().dataType()
          + ", not float32");
    }
    return (Operand<TFloat32>) out;
  }

  private static TensorSpec spec(List<TensorSpec> specs, String key) {
    return specs.stream().filter(s -> s.key().equals(key)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no signature tensor '" + key + "'; there are "
            + specs.stream().map(TensorSpec::key).toList()));
  }

  private static Operand<? extends TType> handle(Graph graph, String node) {
    @SuppressWarnings("unchecked")
    Operand<? extends TType> out = (Operand<? extends TType>) graph.operationOrThrow(node).output(0);
    return out;
  }
}

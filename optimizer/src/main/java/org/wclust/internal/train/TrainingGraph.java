package org.wclust.internal.train;

import com.google.common.collect.ImmutableList;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;
import org.wclust.internal.bridge.GraphDefs;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.cluster.ClusteredWeight;
import org.wclust.internal.graph.DeterministicSums;
import org.wclust.internal.graph.DilatedConvolutions;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.ModelVariable;

/**
 * A clustered model imported into a TF Java graph together with what training it needs: a loss on
 * one output, its gradients (TensorFlow's C++ graph gradients through the flat forward graph and the
 * centroid-gather subgraphs), one optimizer update per trainable variable, and per clustered layer
 * the ops that re-assign its indices and refresh its centroid gradient scales.
 *
 * <p>Trainable: every float variable the chosen output depends on, except BatchNormalization moving
 * statistics (they stay frozen for SavedModel inputs) and the clustering's bookkeeping variables
 * (indices, gradient scales).
 */
final class TrainingGraph implements TrainingSteps {
  private static final String SCOPE = "wclust_train";

  private final FlatModel model;
  private final ModelSession session;
  private final TrainingOptimizer optimizer;
  private final List<String> inputTensors;
  private final Placeholder<?> target;
  private final Placeholder<TFloat32> learningRate;
  private final Placeholder<TFloat32> beta1Power;
  private final Placeholder<TFloat32> beta2Power;
  private final Operand<TFloat32> loss;
  private final Operand<TFloat32> correct;
  private final List<Op> updates = new ArrayList<>();
  private final List<Op> reassignments = new ArrayList<>();
  /** The same re-assignments, made to wait for the step's updates: run in the step's own session run. */
  private final List<Op> reassignmentsAfterUpdates = new ArrayList<>();
  private final ImmutableList<String> trainable;

  /** What the loss compares the output with. */
  enum Objective {
    /** Integer labels, cross-entropy on logits (taken before a final Softmax when there is one). */
    CROSSENTROPY_LOGITS,
    /** Integer labels, cross-entropy on an output that already holds probabilities. */
    CROSSENTROPY_PROBABILITIES,
    /** Float targets shaped like the output. */
    MSE,
    /** The teacher's log-probabilities at the temperature; KL divergence. */
    DISTILL_LOGITS,
    DISTILL_PROBABILITIES
  }

  /** The outcome of one step: the batch's mean loss and how many examples it got right (-1: n/a). */
  record StepResult(float loss, int correct) {}

  TrainingGraph(ClusteredModel clustered, TensorSpec output, Objective objective, FineTuneOptions options) {
    this.model = clustered.model();
    this.optimizer = options.optimizer();
    this.session = DeterministicSums.session(model);
    try {
      Graph graph = session.graph();
      Ops tf = Ops.create(graph).withSubScope(SCOPE);
      this.inputTensors = ModelInputs.all(model).stream().map(TensorSpec::tensorName).toList();
      TrainingLoss built = TrainingLoss.build(tf, graph, model, output, name -> name, objective,
          options.temperature());
      this.target = built.target();
      this.loss = built.loss();
      this.correct = built.correct();

      learningRate = tf.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      beta1Power = tf.withName("beta1_power").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      beta2Power = tf.withName("beta2_power").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      this.trainable = addUpdates(tf, graph, clustered, output.tensorName());
      reassignments.addAll(reassignments(tf, graph, clustered, options.aggregation()));
      if (!reassignments.isEmpty()) {
        reassignmentsAfterUpdates.addAll(reassignments(tf.withSubScope("after_step").withControlDependencies(updates),
            graph, clustered, options.aggregation()));
      }
      List<Op> meanScales = meanScaleInitializers(tf, graph, clustered, options.aggregation());
      if (!meanScales.isEmpty()) {
        Session.Runner runner = session.session().runner();
        meanScales.forEach(runner::addTarget);
        runner.run().close();
      }
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  @Override
  public ImmutableList<String> trainableVariables() {
    return trainable;
  }

  /**
   * One optimizer step on a batch.
   *
   * @param inputs the batch of each model input, in signature order
   * @param target integer labels, float targets, or the teacher's log-probabilities, per objective
   */
  @Override
  public StepResult step(List<HostTensor> inputs, HostTensor target, float lr, long step) {
    return step(inputs, target, lr, step, List.of());
  }

  /**
   * The step, then the re-assignment, in one session run (saves a run per step): the re-assign ops wait
   * for every update, and every read of the indices feeds the loss or a centroid update, so they see what
   * {@link #reassign()} after {@link #step} would see.
   */
  @Override
  public StepResult stepAndReassign(List<HostTensor> inputs, HostTensor target, float lr, long step) {
    return step(inputs, target, lr, step, reassignmentsAfterUpdates);
  }

  private StepResult step(List<HostTensor> inputs, HostTensor target, float lr, long step, List<Op> after) {
    Session.Runner runner = session.session().runner();
    List<Tensor> xs = new ArrayList<>();
    try (Tensor y = target.toTensor();
        TFloat32 rate = TFloat32.scalarOf(lr);
        TFloat32 b1 = TFloat32.scalarOf(optimizer.beta1Power(step + 1));
        TFloat32 b2 = TFloat32.scalarOf(optimizer.beta2Power(step + 1))) {
      for (int i = 0; i < inputs.size(); i++) {
        xs.add(inputs.get(i).toTensor());
        runner.feed(inputTensors.get(i), xs.get(i));
      }
      runner.feed(this.target, y).feed(learningRate, rate).feed(beta1Power, b1)
          .feed(beta2Power, b2);
      updates.forEach(runner::addTarget);
      after.forEach(runner::addTarget);
      runner.fetch(loss);
      if (correct != null) {
        runner.fetch(correct);
      }
      try (Result result = runner.run()) {
        float l = ((TFloat32) result.get(0)).getFloat();
        int c = correct == null ? -1 : Math.round(((TFloat32) result.get(1)).getFloat());
        return new StepResult(l, c);
      }
    } finally {
      xs.forEach(Tensor::close);
    }
  }

  @Override
  public void reassign() {
    if (reassignments.isEmpty()) {
      return;
    }
    Session.Runner runner = session.session().runner();
    reassignments.forEach(runner::addTarget);
    runner.run().close();
  }

  @Override
  public FlatModel trainedModel() {
    return session.currentModel();
  }

  /**
   * Gradients and optimizer updates. Plain variables get the sum of the gradients of their reads;
   * each centroids variable gets its gradient from the gradient with respect to its gathered weight
   * ({@link ClusteredWeight#centroidGradient}, a Bincount), so TensorFlow never builds the gather's
   * own gradient (an UnsortedSegmentSum, which dominated the step time).
   */
  private ImmutableList<String> addUpdates(Ops tf, Graph graph, ClusteredModel clustered, String outputTensor) {
    Trainables trainables = trainables(clustered, outputTensor);
    Output<?>[] xs = trainables.tensors().stream().map(name -> output(graph, name)).toArray(Output<?>[]::new);
    Output<?>[] grads = graph.addGradients("wclust_gradients", new Output<?>[] {loss.asOutput()}, xs, null);
    List<Operand<TFloat32>> parts = new ArrayList<>();
    for (Output<?> grad : grads) {
      parts.add(floats(grad));
    }
    TrainingOptimizer.Hyper hyper = new TrainingOptimizer.Hyper(learningRate, beta1Power, beta2Power);
    List<Op> slotInit = new ArrayList<>();
    ImmutableList<String> names = addOptimizerUpdates(tf, graph, model, optimizer, hyper,
        variableGradients(tf, graph, trainables, parts), updates, slotInit);
    Session.Runner runner = session.session().runner();
    slotInit.forEach(runner::addTarget);
    if (!slotInit.isEmpty()) {
      runner.run().close();
    }
    return names;
  }

  /**
   * What training differentiates: per trainable variable (by handle node) the names of its reads that
   * the output depends on, and the clustered layers whose gathered weight it depends on.
   */
  record Trainables(Map<String, List<String>> readsByVariable, List<ClusteredLayer> layers) {
    /** The tensors to differentiate the loss by: every read, then every layer's gathered weight. */
    List<String> tensors() {
      List<String> names = new ArrayList<>();
      readsByVariable.values().forEach(reads -> reads.forEach(r -> names.add(r + ":0")));
      layers.forEach(l -> names.add(TensorRef.parse(l.gatheredTensor()).toString()));
      return names;
    }
  }

  /** The trainables of {@code clustered}'s model for the output {@code outputTensor}; refuses what TF cannot train. */
  static Trainables trainables(ClusteredModel clustered, String outputTensor) {
    FlatModel model = clustered.model();
    Set<String> handledApart = new HashSet<>();
    for (ClusteredLayer layer : clustered.layers()) {
      handledApart.add(layer.indicesHandle());
      handledApart.add(layer.gradientScaleHandle());
      handledApart.add(layer.centroidsHandle());
    }
    Set<String> needed = ancestors(model, outputTensor);
    refuseDilatedConvolutions(model, needed);
    refuseLoops(model, needed);
    Map<String, List<String>> readsByVariable = new LinkedHashMap<>();
    for (NodeDef node : model.graph().getNodeList()) {
      if (node.getOp().equals("ReadVariableOp") && needed.contains(node.getName())) {
        String handle = TensorRef.parse(node.getInput(0)).node();
        ModelVariable v = model.variables().get(handle);
        if (v != null && isTrainable(v, handledApart)) {
          readsByVariable.computeIfAbsent(handle, h -> new ArrayList<>()).add(node.getName());
        }
      }
    }
    List<ClusteredLayer> layers = clustered.layers().stream()
        .filter(l -> needed.contains(TensorRef.parse(l.gatheredTensor()).node())).toList();
    return new Trainables(readsByVariable, layers);
  }

  /**
   * Per variable handle, its gradient from {@code grads}, the gradients of {@link Trainables#tensors}
   * in that order: a variable's reads summed, a layer's centroids from its gathered weight's gradient.
   */
  static Map<String, Operand<TFloat32>> variableGradients(Ops tf, Graph graph, Trainables trainables,
      List<Operand<TFloat32>> grads) {
    Map<String, Operand<TFloat32>> gradients = new LinkedHashMap<>();
    int g = 0;
    for (Map.Entry<String, List<String>> e : trainables.readsByVariable().entrySet()) {
      List<Operand<TFloat32>> parts = grads.subList(g, g + e.getValue().size());
      g += parts.size();
      gradients.put(e.getKey(), DeterministicSums.sum(tf, parts));
    }
    for (ClusteredLayer layer : trainables.layers()) {
      Ops scoped = tf.withSubScope("centroid_gradient_" + gradients.size());
      Operand<TInt32> indices = scoped.readVariableOp(handle(graph, layer.indicesHandle()), TInt32.class);
      Operand<TFloat32> scale = scoped.readVariableOp(handle(graph, layer.gradientScaleHandle()), TFloat32.class);
      gradients.put(layer.centroidsHandle(), ClusteredWeight.centroidGradient(scoped, grads.get(g++), indices,
          scale, layer.trainableEntries().length));
    }
    return gradients;
  }

  /**
   * One optimizer update per variable (by handle) of {@code gradients}, added to {@code updates}; the
   * ops that zero the optimizer's slots are added to {@code slotInit}. Returns the variables' names.
   */
  static ImmutableList<String> addOptimizerUpdates(Ops tf, Graph graph, FlatModel model,
      TrainingOptimizer optimizer, TrainingOptimizer.Hyper hyper, Map<String, Operand<TFloat32>> gradients,
      List<Op> updates, List<Op> slotInit) {
    int v = 0;
    ImmutableList.Builder<String> names = ImmutableList.builder();
    for (Map.Entry<String, Operand<TFloat32>> e : gradients.entrySet()) {
      ModelVariable variable = model.variables().get(e.getKey());
      Ops scoped = tf.withSubScope("update_" + v);
      TrainingOptimizer.Slots slots = optimizer.slots(scoped, SCOPE + "/slots_" + v,
          Shape.of(variable.value().shape()));
      slotInit.addAll(List.of(slots.initializers()));
      updates.add(optimizer.apply(scoped, graph.operationOrThrow(e.getKey()).output(0), slots, e.getValue(), hyper));
      names.add(variable.name());
      v++;
    }
    return names.build();
  }

  static Output<?> output(Graph graph, String tensorName) {
    TensorRef ref = TensorRef.parse(tensorName);
    return graph.operationOrThrow(ref.node()).output(ref.index());
  }

  @SuppressWarnings("unchecked")
  static Operand<TFloat32> floats(Output<?> output) {
    return (Operand<TFloat32>) output;
  }

  /**
   * TensorFlow's CPU convolution gradients do not support dilations, and the oneDNN kernels of TF
   * Java's natives crash the JVM on them: refuse with a message rather than die.
   */
  private static void refuseDilatedConvolutions(FlatModel model, Set<String> needed) {
    NodeDef node = DilatedConvolutions.first(model, needed::contains);
    if (node != null) {
      throw new IllegalArgumentException("cannot fine-tune: " + node.getName() + " is a dilated "
          + node.getOp() + ", whose gradient TensorFlow's CPU kernels do not compute (a Keras file "
          + "with --no-fold-bn is trained in its training-mode graph, which handles dilations)");
    }
  }

  /**
   * TensorFlow's C++ API has no gradient for While (Keras RNN layers in a SavedModel): refuse with a
   * message rather than fail inside addGradients.
   */
  private static void refuseLoops(FlatModel model, Set<String> needed) {
    for (NodeDef node : model.graph().getNodeList()) {
      if ((node.getOp().equals("While") || node.getOp().equals("StatelessWhile")) && needed.contains(node.getName())) {
        throw new IllegalArgumentException("cannot fine-tune: " + node.getName() + " is a " + node.getOp()
            + " loop (a recurrent layer), which TensorFlow's C++ gradients do not cover; fine-tune the model's "
            + ".keras or .h5 file instead (wclust unrolls its recurrent layers), or cluster without --data");
      }
    }
  }

  private static boolean isTrainable(ModelVariable v, Set<String> handledApart) {
    String name = v.name();
    return v.value().dtype() == DataType.DT_FLOAT && !handledApart.contains(v.handleNode())
        && !name.endsWith("moving_mean") && !name.endsWith("moving_variance");
  }

  /** The ops that re-assign every clustered weight to its nearest centroid (and refresh mean scales). */
  static List<Op> reassignments(Ops tf, Graph graph, ClusteredModel clustered,
      FineTuneOptions.GradientAggregation aggregation) {
    List<Op> ops = new ArrayList<>();
    int i = 0;
    for (ClusteredLayer layer : clustered.layers()) {
      Ops scoped = tf.withSubScope("reassign_" + i++);
      Shape shape = Shape.of(layer.weight().shape());
      Operand<TFloat32> centroids = scoped.readVariableOp(handle(graph, layer.centroidsHandle()), TFloat32.class);
      Operand<TFloat32> original = scoped.readVariableOp(handle(graph, layer.weight().handleNode()), TFloat32.class);
      Operand<TInt32> indices = ClusteredWeight.reassign(scoped, centroids, original, layer.layout(), shape);
      ops.add(scoped.assignVariableOp(handle(graph, layer.indicesHandle()), indices));
      if (aggregation == FineTuneOptions.GradientAggregation.MEAN) {
        ops.add(scoped.assignVariableOp(handle(graph, layer.gradientScaleHandle()),
            ClusteredWeight.meanScale(scoped, indices, scoped.constant(layer.trainableEntries()),
                layer.trainableEntries().length)));
      }
    }
    return ops;
  }

  /**
   * Mean aggregation needs gradient scales from the initial cluster sizes before the first step: the
   * ops that set them (none for sum aggregation).
   */
  static List<Op> meanScaleInitializers(Ops tf, Graph graph, ClusteredModel clustered,
      FineTuneOptions.GradientAggregation aggregation) {
    List<Op> ops = new ArrayList<>();
    if (aggregation != FineTuneOptions.GradientAggregation.MEAN) {
      return ops;
    }
    int i = 0;
    for (ClusteredLayer layer : clustered.layers()) {
      Ops scoped = tf.withSubScope("mean_scale_" + i++);
      Operand<TInt32> indices = scoped.readVariableOp(handle(graph, layer.indicesHandle()), TInt32.class);
      ops.add(scoped.assignVariableOp(handle(graph, layer.gradientScaleHandle()),
          ClusteredWeight.meanScale(scoped, indices, scoped.constant(layer.trainableEntries()),
              layer.trainableEntries().length)));
    }
    return ops;
  }

  private static Operand<? extends TType> handle(Graph graph, String node) {
    @SuppressWarnings("unchecked")
    Operand<? extends TType> out = (Operand<? extends TType>) graph.operationOrThrow(node).output(0);
    return out;
  }

  /** The input of the Softmax that produces {@code tensorName} (through Identity nodes), or null. */
  static String softmaxInput(FlatModel model, String tensorName) {
    Map<String, NodeDef> nodes = GraphDefs.byName(model.graph());
    TensorRef ref = TensorRef.parse(tensorName);
    for (int hops = 0; hops < 64; hops++) {
      NodeDef node = nodes.get(ref.node());
      if (node == null) {
        return null;
      }
      if (node.getOp().equals("Softmax")) {
        return TensorRef.parse(node.getInput(0)).toString();
      }
      if (!node.getOp().equals("Identity") || ref.index() != 0) {
        return null;
      }
      ref = TensorRef.parse(node.getInput(0));
    }
    return null;
  }

  /** Nodes {@code tensor} depends on, through data and control inputs. */
  private static Set<String> ancestors(FlatModel model, String tensor) {
    Map<String, NodeDef> nodes = GraphDefs.byName(model.graph());
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(TensorRef.parse(tensor).node()));
    while (!todo.isEmpty()) {
      String name = todo.pop();
      NodeDef node = nodes.get(name);
      if (node != null && seen.add(name)) {
        node.getInputList().forEach(in -> todo.push(TensorRef.parse(in).node()));
      }
    }
    return seen;
  }

  @Override
  public void close() {
    session.close();
  }
}

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
final class TrainingGraph implements AutoCloseable {
  private static final String SCOPE = "wclust_train";

  private final FlatModel model;
  private final ModelSession session;
  private final Objective objective;
  private final TrainingOptimizer optimizer;
  private final String inputTensor;
  private final Placeholder<?> target;
  private final Placeholder<TFloat32> learningRate;
  private final Placeholder<TFloat32> beta1Power;
  private final Placeholder<TFloat32> beta2Power;
  private final Operand<TFloat32> loss;
  private final Operand<TFloat32> correct;
  private final List<Op> updates = new ArrayList<>();
  private final List<Op> reassignments = new ArrayList<>();
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
    this.objective = objective;
    this.optimizer = options.optimizer();
    this.session = new ModelSession(model);
    try {
      Graph graph = session.graph();
      Ops tf = Ops.create(graph).withSubScope(SCOPE);
      if (model.signature().inputs().size() != 1) {
        throw new IllegalArgumentException("fine-tuning needs a model with one input, this one has "
            + model.signature().inputs().size());
      }
      TensorSpec input = model.signature().inputs().get(0);
      if (!ModelInputs.feedable(input)) {
        throw new IllegalArgumentException("fine-tuning needs a float32 or int32 model input, '" + input.key()
            + "' is " + input.dtype());
      }
      this.inputTensor = input.tensorName();
      Operand<TFloat32> out = floatOutput(graph, output.tensorName(), output.key());
      Operand<TFloat32> logits = logits(tf, graph, output.tensorName(), out);
      float temperature = options.temperature();

      Operand<TFloat32> lossValue;
      Operand<TFloat32> correctValue = null;
      Operand<TInt32> batchAxis = tf.constant(0);
      Operand<TInt32> classAxis = tf.constant(1);
      switch (objective) {
        case CROSSENTROPY_LOGITS, CROSSENTROPY_PROBABILITIES -> {
          Placeholder<TInt32> labels = tf.withName("labels").placeholder(TInt32.class);
          target = labels;
          int classes = classes(out, output.key());
          Operand<TFloat32> oneHot = tf.oneHot(labels, tf.constant(classes), tf.constant(1f), tf.constant(0f));
          lossValue = tf.math.mean(tf.nn.softmaxCrossEntropyWithLogits(logits, oneHot).loss(), batchAxis);
          correctValue = correctCount(tf, out, labels);
        }
        case MSE -> {
          Placeholder<TFloat32> targets = tf.withName("targets").placeholder(TFloat32.class);
          target = targets;
          lossValue = tf.math.mean(tf.math.square(tf.math.sub(out, targets)), allAxes(tf, out));
        }
        case DISTILL_LOGITS, DISTILL_PROBABILITIES -> {
          Placeholder<TFloat32> teacher = tf.withName("teacher_log_probabilities").placeholder(TFloat32.class);
          target = teacher;
          Operand<TFloat32> student = tf.nn.logSoftmax(tf.math.div(logits, tf.constant(temperature)));
          // KL(teacher || student) per example, scaled by T^2 so gradients keep their size (Hinton et al.).
          Operand<TFloat32> kl = tf.sum(tf.math.mul(tf.math.exp(teacher), tf.math.sub(teacher, student)), classAxis);
          lossValue = tf.math.mul(tf.math.mean(kl, batchAxis), tf.constant(temperature * temperature));
          correctValue = correctCount(tf, out, tf.math.argMax(teacher, classAxis, TInt32.class));
        }
        default -> throw new AssertionError(objective);
      }
      this.loss = tf.withName("loss").identity(lossValue);
      this.correct = correctValue;

      learningRate = tf.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      beta1Power = tf.withName("beta1_power").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      beta2Power = tf.withName("beta2_power").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
      this.trainable = addUpdates(tf, graph, clustered, output.tensorName());
      addReassignments(tf, graph, clustered, options.aggregation());
      initialize(tf, clustered, options.aggregation());
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /** Names of the variables the optimizer updates. */
  ImmutableList<String> trainableVariables() {
    return trainable;
  }

  /**
   * One optimizer step on a batch.
   *
   * @param inputs the batch, shaped as the model input
   * @param target integer labels, float targets, or the teacher's log-probabilities, per objective
   */
  StepResult step(HostTensor inputs, HostTensor target, float lr, long step) {
    Session.Runner runner = session.session().runner();
    try (Tensor x = inputs.toTensor(); Tensor y = target.toTensor();
        TFloat32 rate = TFloat32.scalarOf(lr);
        TFloat32 b1 = TFloat32.scalarOf(optimizer.beta1Power(step + 1));
        TFloat32 b2 = TFloat32.scalarOf(optimizer.beta2Power(step + 1))) {
      runner.feed(inputTensor, x).feed(this.target, y).feed(learningRate, rate).feed(beta1Power, b1)
          .feed(beta2Power, b2);
      updates.forEach(runner::addTarget);
      runner.fetch(loss);
      if (correct != null) {
        runner.fetch(correct);
      }
      try (Result result = runner.run()) {
        float l = ((TFloat32) result.get(0)).getFloat();
        int c = correct == null ? -1 : Math.round(((TFloat32) result.get(1)).getFloat());
        return new StepResult(l, c);
      }
    }
  }

  /** Re-assigns every clustered weight to its nearest centroid and refreshes the gradient scales. */
  void reassign() {
    if (reassignments.isEmpty()) {
      return;
    }
    Session.Runner runner = session.session().runner();
    reassignments.forEach(runner::addTarget);
    runner.run().close();
  }

  /** The model with every variable at its current (trained) value. */
  FlatModel trainedModel() {
    return session.currentModel();
  }

  /**
   * Gradients and optimizer updates. Plain variables get the sum of the gradients of their reads;
   * each centroids variable gets its gradient from the gradient with respect to its gathered weight
   * ({@link ClusteredWeight#centroidGradient}, a Bincount), so TensorFlow never builds the gather's
   * own gradient (an UnsortedSegmentSum, which dominated the step time).
   */
  private ImmutableList<String> addUpdates(Ops tf, Graph graph, ClusteredModel clustered, String outputTensor) {
    Set<String> handledApart = new HashSet<>();
    for (ClusteredLayer layer : clustered.layers()) {
      handledApart.add(layer.indicesHandle());
      handledApart.add(layer.gradientScaleHandle());
      handledApart.add(layer.centroidsHandle());
    }
    Set<String> needed = ancestors(model, outputTensor);
    refuseDilatedConvolutions(needed);
    refuseLoops(needed);
    Map<String, List<Output<?>>> readsByVariable = new LinkedHashMap<>();
    for (NodeDef node : model.graph().getNodeList()) {
      if (node.getOp().equals("ReadVariableOp") && needed.contains(node.getName())) {
        String handle = TensorRef.parse(node.getInput(0)).node();
        ModelVariable v = model.variables().get(handle);
        if (v != null && isTrainable(v, handledApart)) {
          readsByVariable.computeIfAbsent(handle, h -> new ArrayList<>())
              .add(graph.operationOrThrow(node.getName()).output(0));
        }
      }
    }
    List<ClusteredLayer> layers = clustered.layers().stream()
        .filter(l -> needed.contains(TensorRef.parse(l.gatheredTensor()).node())).toList();
    List<Output<?>> xs = new ArrayList<>();
    readsByVariable.values().forEach(xs::addAll);
    for (ClusteredLayer layer : layers) {
      TensorRef gathered = TensorRef.parse(layer.gatheredTensor());
      xs.add(graph.operationOrThrow(gathered.node()).output(gathered.index()));
    }
    Output<?>[] grads = graph.addGradients("wclust_gradients", new Output<?>[] {loss.asOutput()},
        xs.toArray(new Output<?>[0]), null);

    Map<String, Operand<TFloat32>> gradients = new LinkedHashMap<>();
    int g = 0;
    for (Map.Entry<String, List<Output<?>>> e : readsByVariable.entrySet()) {
      Operand<TFloat32> grad = null;
      for (int r = 0; r < e.getValue().size(); r++) {
        Operand<TFloat32> part = floats(grads[g++]);
        grad = grad == null ? part : tf.math.add(grad, part);
      }
      gradients.put(e.getKey(), grad);
    }
    for (ClusteredLayer layer : layers) {
      Ops scoped = tf.withSubScope("centroid_gradient_" + gradients.size());
      Operand<TInt32> indices = scoped.readVariableOp(handle(graph, layer.indicesHandle()), TInt32.class);
      Operand<TFloat32> scale = scoped.readVariableOp(handle(graph, layer.gradientScaleHandle()), TFloat32.class);
      gradients.put(layer.centroidsHandle(), ClusteredWeight.centroidGradient(scoped, floats(grads[g++]), indices,
          scale, layer.trainableEntries().length));
    }

    TrainingOptimizer.Hyper hyper = new TrainingOptimizer.Hyper(learningRate, beta1Power, beta2Power);
    List<Op> slotInit = new ArrayList<>();
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
    Session.Runner runner = session.session().runner();
    slotInit.forEach(runner::addTarget);
    if (!slotInit.isEmpty()) {
      runner.run().close();
    }
    return names.build();
  }

  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> floats(Output<?> output) {
    return (Operand<TFloat32>) output;
  }

  /**
   * TensorFlow's CPU convolution gradients do not support dilations, and the oneDNN kernels of TF
   * Java's natives crash the JVM on them: refuse with a message rather than die.
   */
  private void refuseDilatedConvolutions(Set<String> needed) {
    for (NodeDef node : model.graph().getNodeList()) {
      boolean conv = node.getOp().startsWith("Conv2D") || node.getOp().startsWith("DepthwiseConv2dNative");
      if (!conv || !needed.contains(node.getName())) {
        continue;
      }
      org.tensorflow.proto.AttrValue dilations = node.getAttrMap().get("dilations");
      if (dilations != null && dilations.getList().getIList().stream().anyMatch(d -> d > 1)) {
        throw new IllegalArgumentException("cannot fine-tune: " + node.getName() + " is a dilated "
            + node.getOp() + ", whose gradient TensorFlow's CPU kernels do not compute (a Keras file "
            + "with --no-fold-bn is trained in its training-mode graph, which handles dilations)");
      }
    }
  }

  /**
   * TensorFlow's C++ API has no gradient for While (Keras RNN layers in a SavedModel): refuse with a
   * message rather than fail inside addGradients.
   */
  private void refuseLoops(Set<String> needed) {
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

  private void addReassignments(Ops tf, Graph graph, ClusteredModel clustered,
      FineTuneOptions.GradientAggregation aggregation) {
    int i = 0;
    for (ClusteredLayer layer : clustered.layers()) {
      Ops scoped = tf.withSubScope("reassign_" + i++);
      Shape shape = Shape.of(layer.weight().shape());
      Operand<TFloat32> centroids = scoped.readVariableOp(handle(graph, layer.centroidsHandle()), TFloat32.class);
      Operand<TFloat32> original = scoped.readVariableOp(handle(graph, layer.weight().handleNode()), TFloat32.class);
      Operand<TInt32> indices = ClusteredWeight.reassign(scoped, centroids, original, layer.layout(), shape);
      reassignments.add(scoped.assignVariableOp(handle(graph, layer.indicesHandle()), indices));
      if (aggregation == FineTuneOptions.GradientAggregation.MEAN) {
        reassignments.add(scoped.assignVariableOp(handle(graph, layer.gradientScaleHandle()),
            ClusteredWeight.meanScale(scoped, indices, scoped.constant(layer.trainableEntries()),
                layer.trainableEntries().length)));
      }
    }
  }

  /** Mean aggregation needs gradient scales from the initial cluster sizes before the first step. */
  private void initialize(Ops tf, ClusteredModel clustered, FineTuneOptions.GradientAggregation aggregation) {
    if (aggregation != FineTuneOptions.GradientAggregation.MEAN) {
      return;
    }
    Session.Runner runner = session.session().runner();
    int i = 0;
    for (ClusteredLayer layer : clustered.layers()) {
      Ops scoped = tf.withSubScope("mean_scale_" + i++);
      Operand<TInt32> indices = scoped.readVariableOp(handle(session.graph(), layer.indicesHandle()), TInt32.class);
      runner.addTarget(scoped.assignVariableOp(handle(session.graph(), layer.gradientScaleHandle()),
          ClusteredWeight.meanScale(scoped, indices, scoped.constant(layer.trainableEntries()),
              layer.trainableEntries().length)));
    }
    if (!clustered.layers().isEmpty()) {
      runner.run().close();
    }
  }

  private static Operand<? extends TType> handle(Graph graph, String node) {
    @SuppressWarnings("unchecked")
    Operand<? extends TType> out = (Operand<? extends TType>) graph.operationOrThrow(node).output(0);
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> floatOutput(Graph graph, String tensorName, String key) {
    TensorRef ref = TensorRef.parse(tensorName);
    Output<?> out = graph.operationOrThrow(ref.node()).output(ref.index());
    if (out.dataType() != DataType.DT_FLOAT) {
      throw new IllegalArgumentException("fine-tuning needs a float32 output, '" + key + "' is " + out.dataType());
    }
    return (Operand<TFloat32>) out;
  }

  /**
   * The logits of a classifier output: the input of a final Softmax (through Identity nodes) when
   * there is one, log(p) when the output holds probabilities without one, else the output itself.
   */
  private Operand<TFloat32> logits(Ops tf, Graph graph, String tensorName, Operand<TFloat32> out) {
    if (objective == Objective.MSE) {
      return out;
    }
    String softmaxInput = softmaxInput(model, tensorName);
    if (softmaxInput != null) {
      return floatOutput(graph, softmaxInput, "softmax input");
    }
    if (objective == Objective.CROSSENTROPY_PROBABILITIES || objective == Objective.DISTILL_PROBABILITIES) {
      return tf.math.log(tf.math.maximum(out, tf.constant(1e-7f)));
    }
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

  private static int classes(Operand<TFloat32> out, String key) {
    Shape shape = out.shape();
    if (shape.numDimensions() != 2 || shape.get(1) < 2) {
      throw new IllegalArgumentException("cross-entropy needs a [batch, classes] output, '" + key
          + "' has shape " + shape + " (use --loss mse for regression)");
    }
    return Math.toIntExact(shape.get(1));
  }

  private static Operand<TFloat32> correctCount(Ops tf, Operand<TFloat32> out, Operand<TInt32> labels) {
    Operand<TInt32> predicted = tf.math.argMax(out, tf.constant(1), TInt32.class);
    return tf.sum(tf.dtypes.cast(tf.math.equal(predicted, labels), TFloat32.class), tf.constant(0));
  }

  private static Operand<TInt32> allAxes(Ops tf, Operand<TFloat32> out) {
    return tf.range(tf.constant(0), tf.rank(out), tf.constant(1));
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

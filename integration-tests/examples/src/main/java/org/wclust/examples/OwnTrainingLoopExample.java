package org.wclust.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.api.ClusterConfig;
import org.wclust.api.ClusterableModel;
import org.wclust.api.ClusteredModel;
import org.wclust.api.StrippedModel;
import org.wclust.api.TrainableVariable;

/**
 * Example 2: the tfmot workflow in TF Java. Builds a small classifier with {@code Ops}, trains it in a
 * {@code Session}, clusters it, trains the clustered graph with its own loop (plain gradient descent,
 * re-assigning the weights to their nearest centroids after every step), strips and exports it, and
 * checks with Python TensorFlow that every exported kernel holds at most K values. Fails (exit status 1)
 * if a check does not hold or the loop did not lower the loss.
 *
 * <p>Usage: {@code OwnTrainingLoopExample OUT_DIR [PYTHON]} (PYTHON: an interpreter with TensorFlow;
 * default {@code $WCLUST_PYTHON}, else {@code ../.venv/bin/python}).
 */
public final class OwnTrainingLoopExample {
  static final int FEATURES = 8;
  static final int HIDDEN = 32;
  static final int CLASSES = 4;
  static final int EXAMPLES = 512;
  static final int K = 4;

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    String python = args.length > 1 ? args[1]
        : System.getenv("WCLUST_PYTHON") != null ? System.getenv("WCLUST_PYTHON") : "../.venv/bin/python";
    Data data = Data.blobs(new Random(7));

    try (Graph graph = new Graph(); Session session = new Session(graph)) {
      // 1. A model built with TF Java Ops: dense(8 -> 32, relu) -> dense(32 -> 4), resource variables.
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, FEATURES)));
      Random init = new Random(1);
      Ops dense = tf.withSubScope("dense");
      Ops dense1 = tf.withSubScope("dense_1");
      VarHandleOp w1 = variable(dense, "dense", session, "kernel", random(init, FEATURES, HIDDEN, 0.5f),
          FEATURES, HIDDEN);
      VarHandleOp b1 = variable(dense, "dense", session, "bias", new float[HIDDEN], HIDDEN);
      VarHandleOp w2 = variable(dense1, "dense_1", session, "kernel", random(init, HIDDEN, CLASSES, 0.3f),
          HIDDEN, CLASSES);
      VarHandleOp b2 = variable(dense1, "dense_1", session, "bias", new float[CLASSES], CLASSES);
      List<Operand<TFloat32>> reads = new ArrayList<>();
      for (VarHandleOp v : List.of(w1, b1, w2, b2)) {
        reads.add(tf.readVariableOp(v, TFloat32.class));
      }
      Operand<TFloat32> hidden = tf.nn.relu(tf.math.add(tf.linalg.matMul(x, reads.get(0)), reads.get(1)));
      Operand<TFloat32> logits = tf.withName("logits").identity(
          tf.math.add(tf.linalg.matMul(hidden, reads.get(2)), reads.get(3)));

      // 2. Train it: our own gradient descent on every variable.
      List<Operand<?>> handles = List.of(w1, b1, w2, b2);
      List<List<Output<TFloat32>>> readsByVariable = reads.stream().map(r -> List.of(r.asOutput())).toList();
      Training original = new Training(graph, tf.withSubScope("train"), x, logits, handles, readsByVariable, 0.1f);
      float start = original.loss(session, data);
      original.run(session, data, 300);
      System.out.printf("original model: loss %.4f -> %.4f%n", start, original.loss(session, data));

      // 3. Cluster it.
      Signature signature = Signature.builder().key("serving_default").input("x", x).output("logits", logits).build();
      try (ClusterableModel model = ClusterableModel.of(graph, signature, session);
          ClusteredModel clustered = model.cluster(ClusterConfig.builder().clusters(K).measureTfliteSize(false).build())) {
        System.out.println("clustered " + clustered.clusteredWeights() + " into " + K + " clusters each");

        // 4. Train the clustered graph with our own loop: centroids, straight-through originals, biases.
        Graph g = clustered.graph();
        List<TrainableVariable> variables = clustered.trainableVariables();
        Training tuning = new Training(g, Ops.create(g).withSubScope("my_training"), clustered.input(),
            clustered.output(), variables.stream().<Operand<?>>map(TrainableVariable::handle).toList(),
            variables.stream().map(TrainableVariable::reads).toList(), 0.05f);
        Op reassign = clustered.reassignOp();
        float before = tuning.loss(clustered.session(), data);
        for (int step = 0; step < 100; step++) {
          tuning.run(clustered.session(), data, 1);
          clustered.session().runner().addTarget(reassign).run().close();
        }
        float after = tuning.loss(clustered.session(), data);
        System.out.printf("clustered model, own loop over %s: loss %.4f -> %.4f%n", variables, before, after);
        if (!(after < before)) {
          throw new AssertionError("the training loop did not lower the loss: " + before + " -> " + after);
        }

        // 5. Strip into constants and export with the source signature.
        StrippedModel stripped = clustered.strip();
        Map<String, Integer> distinct = stripped.distinctValues();
        System.out.println("distinct values per clustered weight: " + distinct);
        for (Map.Entry<String, Integer> e : distinct.entrySet()) {
          if (e.getValue() > K) {
            throw new AssertionError(e.getKey() + " has " + e.getValue() + " distinct values, more than " + K);
          }
        }
        stripped.exportSavedModel(out);
        System.out.println("wrote " + out);
      }
    }
    checkWithPython(python, out);
  }

  /** Python TensorFlow loads the export and counts the values of every kernel (a 2-D float constant). */
  static void checkWithPython(String python, Path savedModel) throws Exception {
    String script = String.join("\n",
        "import sys, os",
        "os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'",
        "import numpy as np, tensorflow as tf",
        "tf.get_logger().setLevel('ERROR')",
        "k = int(sys.argv[2])",
        "g = tf.Graph()",
        "with g.as_default(), tf.compat.v1.Session(graph=g) as s:",
        "  meta = tf.compat.v1.saved_model.loader.load(s, ['serve'], sys.argv[1])",
        "  kernels = [op for op in g.get_operations() if op.type == 'Const' and op.outputs[0].dtype == tf.float32",
        "             and len(op.outputs[0].shape) == 2]",
        "  assert len(kernels) == 2, [op.name for op in kernels]",
        "  for op in kernels:",
        "    n = len(np.unique(s.run(op.outputs[0])))",
        "    print(f'python: {op.name} {op.outputs[0].shape} has {n} distinct values')",
        "    assert n <= k, (op.name, n)",
        "  x = np.random.default_rng(0).normal(size=(3, " + FEATURES + ")).astype(np.float32)",
        "  sig = meta.signature_def['serving_default']",
        "  y = s.run(sig.outputs['logits'].name, {sig.inputs['x'].name: x})",
        "  print('python: serving_default maps x', x.shape, 'to logits', y.shape)");
    Path file = Files.createTempFile("check_export", ".py");
    Files.writeString(file, script);
    Process p = new ProcessBuilder(python, file.toString(), savedModel.toAbsolutePath().toString(), Integer.toString(K))
        .inheritIO().start();
    if (p.waitFor() != 0) {
      throw new AssertionError("the Python check of " + savedModel + " failed (exit " + p.exitValue() + ")");
    }
    Files.delete(file);
  }

  /**
   * A resource variable {@code name} in {@code tf}'s scope {@code scope}, initialised to {@code value} in {@code session}. Its shared
   * name keeps it apart: TF handles without one all name the same resource in a session.
   */
  static VarHandleOp variable(Ops tf, String scope, Session session, String name, float[] value, long... shape) {
    VarHandleOp v = tf.withName(name).varHandleOp(TFloat32.class, Shape.of(shape),
        VarHandleOp.sharedName(scope + "/" + name));
    try (TFloat32 t = TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(value))) {
      Placeholder<TFloat32> p = tf.withName(name + "_init_value").placeholder(TFloat32.class);
      session.runner().feed(p, t).addTarget(tf.assignVariableOp(v, p)).run().close();
    }
    return v;
  }

  static float[] random(Random r, int rows, int cols, float scale) {
    float[] v = new float[rows * cols];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian() * scale;
    }
    return v;
  }

  /**
   * Full-batch gradient descent on cross-entropy: per variable, the gradients of all its reads summed,
   * subtracted from it times the learning rate ({@code AssignSubVariableOp} on its resource handle).
   */
  static final class Training {
    private final Operand<?> input;
    private final Placeholder<TInt32> labels;
    private final Operand<TFloat32> loss;
    private final List<Op> updates = new ArrayList<>();

    Training(Graph graph, Ops tf, Operand<?> input, Operand<TFloat32> logits, List<Operand<?>> handles,
        List<List<Output<TFloat32>>> reads, float learningRate) {
      this.input = input;
      labels = tf.withName("labels").placeholder(TInt32.class);
      Operand<TFloat32> oneHot = tf.oneHot(labels, tf.constant(CLASSES), tf.constant(1f), tf.constant(0f));
      loss = tf.math.mean(tf.nn.softmaxCrossEntropyWithLogits(logits, oneHot).loss(), tf.constant(0));
      List<Output<?>> xs = new ArrayList<>();
      reads.forEach(xs::addAll);
      Output<?>[] grads = graph.addGradients(loss.asOutput(), xs.toArray(new Output<?>[0]));
      int g = 0;
      for (int v = 0; v < handles.size(); v++) {
        Operand<TFloat32> sum = null;
        for (int r = 0; r < reads.get(v).size(); r++) {
          @SuppressWarnings("unchecked")
          Operand<TFloat32> part = (Operand<TFloat32>) grads[g++];
          sum = sum == null ? part : tf.math.add(sum, part);
        }
        updates.add(tf.assignSubVariableOp(handles.get(v), tf.math.mul(tf.constant(learningRate), sum)));
      }
    }

    void run(Session session, Data data, int steps) {
      for (int i = 0; i < steps; i++) {
        try (TFloat32 x = TFloat32.tensorOf(StdArrays.ndCopyOf(data.x())); TInt32 y = TInt32.vectorOf(data.y())) {
          Session.Runner runner = session.runner().feed(input, x).feed(labels, y);
          updates.forEach(runner::addTarget);
          runner.run().close();
        }
      }
    }

    float loss(Session session, Data data) {
      try (TFloat32 x = TFloat32.tensorOf(StdArrays.ndCopyOf(data.x())); TInt32 y = TInt32.vectorOf(data.y());
          Result result = session.runner().feed(input, x).feed(labels, y).fetch(loss).run()) {
        return ((TFloat32) result.get(0)).getFloat();
      }
    }
  }

  /** Four Gaussian blobs in 8-D, 128 points each, labelled by blob. */
  record Data(float[][] x, int[] y) {
    static Data blobs(Random r) {
      float[][] centers = new float[CLASSES][FEATURES];
      for (float[] c : centers) {
        for (int j = 0; j < FEATURES; j++) {
          c[j] = (float) r.nextGaussian() * 1.5f;
        }
      }
      float[][] x = new float[EXAMPLES][FEATURES];
      int[] y = new int[EXAMPLES];
      for (int i = 0; i < EXAMPLES; i++) {
        y[i] = i % CLASSES;
        for (int j = 0; j < FEATURES; j++) {
          x[i][j] = centers[y[i]][j] + (float) r.nextGaussian();
        }
      }
      return new Data(x, y);
    }
  }
}

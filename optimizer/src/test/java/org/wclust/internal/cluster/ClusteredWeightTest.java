package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.tensorflow.EagerSession;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.train.TrainingOptimizer;

/**
 * The trainable clustered weight: its forward value, its gradients (TensorFlow's graph autodiff,
 * the explicit eager formulas and a plain-Java reference must agree), re-assignment (against brute
 * force), and one optimizer step run eagerly and in a graph.
 *
 * <p>The model: {@code y = x W}, loss {@code mean((y - t)^2)}, W a clustered [3, 4] weight.
 */
class ClusteredWeightTest {
  private static final Shape W_SHAPE = Shape.of(3, 4);
  private static final float[] CENTROIDS = {-0.5f, 0.1f, 0.8f};
  private static final int[] INDICES = {0, 1, 2, 1, 2, 2, 0, 1, 1, 0, 2, 0};
  private static final float[] ORIGINAL = {-0.4f, 0.2f, 0.7f, 0.05f, 0.9f, 0.6f, -0.6f, 0.0f, 0.15f, -0.45f, 0.75f, 0f};
  private static final float[] MASK = {1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0};
  private static final float[][] X = {{1f, -2f, 0.5f}, {0.3f, 0.1f, -1f}, {2f, 0.5f, 0.25f}, {-1f, 1f, 1f}, {0.5f, 0.5f, 0.5f}};
  private static final float[][] T = {{0.1f, 0.2f, 0.3f, 0.4f}, {-1f, 0f, 1f, 0f}, {0.5f, 0.5f, -0.5f, 1f},
      {0f, 0f, 0f, 0f}, {1f, -1f, 1f, -1f}};

  /** The clustered weight, mask applied. */
  private static float[] weight(boolean masked) {
    float[] w = new float[INDICES.length];
    for (int i = 0; i < w.length; i++) {
      w[i] = CENTROIDS[INDICES[i]] * (masked ? MASK[i] : 1f);
    }
    return w;
  }

  /** dLoss/dW of mean((xW - t)^2), in plain Java. */
  private static float[] weightGradient(float[] w) {
    int n = X.length;
    int in = 3;
    int out = 4;
    float[] g = new float[in * out];
    for (int b = 0; b < n; b++) {
      for (int o = 0; o < out; o++) {
        double y = 0;
        for (int i = 0; i < in; i++) {
          y += X[b][i] * w[i * out + o];
        }
        double dy = 2 * (y - T[b][o]) / (n * out);
        for (int i = 0; i < in; i++) {
          g[i * out + o] += (float) (dy * X[b][i]);
        }
      }
    }
    return g;
  }

  private static float[] centroidGradient(float[] dw, float[] scale, boolean masked) {
    float[] g = new float[CENTROIDS.length];
    for (int i = 0; i < dw.length; i++) {
      g[INDICES[i]] += dw[i] * (masked ? MASK[i] : 1f);
    }
    for (int c = 0; c < g.length; c++) {
      g[c] *= scale[c];
    }
    return g;
  }

  private static float[] values(Operand<TFloat32> t) {
    return values(t.asTensor());
  }

  private static float[] values(TFloat32 t) {
    float[] out = new float[(int) t.shape().size()];
    t.asRawTensor().data().asFloats().read(out);
    return out;
  }

  private static int[] ints(TInt32 t) {
    int[] out = new int[(int) t.shape().size()];
    t.asRawTensor().data().asInts().read(out);
    return out;
  }

  private static Operand<TFloat32> loss(Ops tf, Operand<TFloat32> w) {
    Operand<TFloat32> y = tf.linalg.matMul(tf.constant(X), w);
    return tf.math.mean(tf.math.square(tf.math.sub(y, tf.constant(T))), tf.constant(new int[] {0, 1}));
  }

  private static Operand<TFloat32> floats(Ops tf, float[] values, Shape shape) {
    return tf.constant(shape, DataBuffers.of(values, true, false));
  }

  @ParameterizedTest(name = "masked={0}")
  @ValueSource(booleans = {false, true})
  void graphAutodiffEagerFormulasAndJavaAgree(boolean masked) {
    float[] scale = {1f, 0.5f, 0f}; // e.g. mean aggregation over 2 members, a pinned centroid
    float[] w = weight(masked);
    float[] dw = weightGradient(w);
    float[] expectedCentroids = centroidGradient(dw, scale, masked);

    float[] graphCentroids;
    float[] graphOriginal;
    float[] graphForward;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> centroids = tf.placeholder(TFloat32.class);
      Placeholder<TFloat32> original = tf.placeholder(TFloat32.class);
      Operand<TFloat32> weight = ClusteredWeight.forward(tf, centroids, tf.constant(scale),
          tf.constant(W_SHAPE, DataBuffers.of(INDICES, true, false)), original,
          masked ? floats(tf, MASK, W_SHAPE) : null, W_SHAPE);
      Operand<TFloat32> loss = loss(tf, weight);
      Output<?>[] grads = g.addGradients(loss.asOutput(), new Output<?>[] {centroids.asOutput(), original.asOutput()});
      try (TFloat32 c = TFloat32.vectorOf(CENTROIDS);
          TFloat32 o = TFloat32.tensorOf(W_SHAPE, DataBuffers.of(ORIGINAL, true, false));
          Result r = s.runner().feed(centroids, c).feed(original, o)
              .fetch(grads[0]).fetch(grads[1]).fetch(weight).run()) {
        graphCentroids = values((TFloat32) r.get(0));
        graphOriginal = values((TFloat32) r.get(1));
        graphForward = values((TFloat32) r.get(2));
      }
    }
    assertArrayEquals(w, graphForward, 0f, "forward is exactly mask * centroids[indices]");
    assertArrayEquals(expectedCentroids, graphCentroids, 1e-6f);
    assertArrayEquals(dw, graphOriginal, 1e-6f, "straight-through: the original gets dLoss/dW unchanged");

    try (EagerSession session = EagerSession.create()) {
      Ops tf = Ops.create(session);
      Operand<TFloat32> weight = ClusteredWeight.forward(tf, tf.constant(CENTROIDS), tf.constant(scale),
          tf.constant(W_SHAPE, DataBuffers.of(INDICES, true, false)), floats(tf, ORIGINAL, W_SHAPE),
          masked ? floats(tf, MASK, W_SHAPE) : null, W_SHAPE);
      assertArrayEquals(w, values(weight), 0f);
      // dLoss/dW of the linear model, written with eager ops (eager TF Java has no autodiff).
      Operand<TFloat32> residual = tf.math.sub(tf.linalg.matMul(tf.constant(X), weight), tf.constant(T));
      Operand<TFloat32> dW = tf.math.mul(tf.linalg.matMul(tf.constant(X), residual, org.tensorflow.op.linalg.MatMul.transposeA(true)),
          tf.constant(2f / (X.length * 4)));
      ClusteredWeight.Gradients eager = ClusteredWeight.gradients(tf, dW,
          tf.constant(W_SHAPE, DataBuffers.of(INDICES, true, false)), tf.constant(scale),
          masked ? floats(tf, MASK, W_SHAPE) : null, CENTROIDS.length);
      assertArrayEquals(graphCentroids, values(eager.centroids()), 1e-6f);
      assertArrayEquals(graphOriginal, values(eager.original()), 1e-6f);
    }
  }

  @Test
  void meanScaleIsTrainableOverClusterSize() {
    try (EagerSession session = EagerSession.create()) {
      Ops tf = Ops.create(session);
      float[] scale = values(ClusteredWeight.meanScale(tf, tf.constant(new int[] {0, 0, 0, 2, 2, 3}),
          tf.constant(new float[] {1f, 1f, 1f, 0f}), 4));
      assertArrayEquals(new float[] {1f / 3, 1f, 0.5f, 0f}, scale, 1e-7f);
    }
  }

  /**
   * Per-group codebooks (group:G over the last axis), shuffled entries, groups of unequal size; k = 4
   * and 16 count the midpoints below each value, k = 20 (above {@link ClusteredWeight#COUNTED_ENTRIES})
   * searches them with LowerBound. A group's entries lie scattered over the codebook (too wide a table to
   * pack at k = 16) or together (k = 16 packs into 64 bits).
   */
  @ParameterizedTest(name = "groupSize={0}, k={1}, scattered={2}")
  @CsvSource({"0, 4, true", "1, 4, true", "3, 4, true", "0, 16, true", "0, 16, false", "3, 16, false",
      "1, 20, true", "3, 20, true"})
  void reassignFindsTheNearestCentroidOfEachElementsOwnCodebook(int groupSize, int k, boolean scattered) {
    Random random = new Random(7 + groupSize);
    int rows = Math.max(5, k); // every entry of every group is in use
    int channels = 7;
    Granularity granularity = new Granularity(groupSize);
    OutputChannels layout = new OutputChannels(channels, 1);
    int groups = granularity.groups(channels);
    // Codebook of each group at scattered positions (group g owns entries {g, g + groups, ...}) or together
    // ({g k, g k + 1, ...}).
    float[] codebook = new float[groups * k];
    for (int i = 0; i < codebook.length; i++) {
      codebook[i] = (float) random.nextGaussian();
    }
    float[] weights = new float[rows * channels];
    int[] initial = new int[weights.length];
    for (int e = 0; e < weights.length; e++) {
      weights[e] = (float) (random.nextGaussian() * 1.5);
      int g = granularity.groupOf(layout.channelOf(e));
      initial[e] = entry(g, e % k, groups, k, scattered); // every entry of the group is in use
    }
    int[] expected = new int[weights.length];
    for (int e = 0; e < weights.length; e++) {
      int g = granularity.groupOf(layout.channelOf(e));
      int best = -1;
      for (int j = 0; j < k; j++) {
        int entry = entry(g, j, groups, k, scattered);
        if (best < 0 || Math.abs(weights[e] - codebook[entry]) < Math.abs(weights[e] - codebook[best])) {
          best = entry;
        }
      }
      expected[e] = best;
    }
    CodebookLayout codebookLayout = CodebookLayout.of(initial, granularity, layout);
    Shape shape = Shape.of(rows, channels);
    try (EagerSession session = EagerSession.create()) {
      Ops tf = Ops.create(session);
      Operand<TInt32> got = ClusteredWeight.reassign(tf, tf.constant(codebook),
          tf.constant(shape, DataBuffers.of(weights, true, false)), codebookLayout, shape);
      assertEquals(shape, got.shape());
      assertArrayEquals(expected, ints(got.asTensor()));
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TInt32> got = ClusteredWeight.reassign(tf, tf.constant(codebook),
          tf.constant(shape, DataBuffers.of(weights, true, false)), codebookLayout, shape);
      try (Result r = s.runner().fetch(got).run()) {
        assertArrayEquals(expected, ints((TInt32) r.get(0)));
      }
    }
  }

  private static int entry(int group, int j, int groups, int k, boolean scattered) {
    return scattered ? group + groups * j : group * k + j;
  }

  /**
   * One codebook of k shuffled centroids, values drawn around them and placed exactly on midpoints:
   * the re-assignment (counted comparisons up to {@link ClusteredWeight#COUNTED_ENTRIES} centroids,
   * LowerBound above) is each value's nearest centroid, a tie at a midpoint going to the smaller one.
   */
  @ParameterizedTest(name = "k={0}")
  @ValueSource(ints = {2, 3, 8, 16, 17, 32})
  void reassignOfOneCodebookGivesTiesAtMidpointsToTheSmallerCentroid(int k) {
    Random random = new Random(11 + k);
    float[] sorted = new float[k];
    for (int j = 0; j < k; j++) {
      sorted[j] = j == 0 ? -1f : sorted[j - 1] + 0.125f * (1 + random.nextInt(4)); // exact midpoints
    }
    int[] slotOf = new int[k]; // codebook position of the j-th smallest centroid
    for (int j = 0; j < k; j++) {
      slotOf[j] = j;
    }
    for (int j = k - 1; j > 0; j--) {
      int r = random.nextInt(j + 1);
      int t = slotOf[j];
      slotOf[j] = slotOf[r];
      slotOf[r] = t;
    }
    float[] codebook = new float[k];
    for (int j = 0; j < k; j++) {
      codebook[slotOf[j]] = sorted[j];
    }
    int n = 500;
    float[] weights = new float[n];
    int[] expected = new int[n];
    for (int e = 0; e < n; e++) {
      int j = random.nextInt(k);
      if (e % 5 == 0 && j < k - 1) {
        weights[e] = (sorted[j] + sorted[j + 1]) * 0.5f; // a tie: the smaller centroid wins
        expected[e] = slotOf[j];
        continue;
      }
      weights[e] = sorted[j] + (float) random.nextGaussian() * 0.04f;
      int best = 0;
      for (int i = 1; i < k; i++) {
        if (Math.abs(weights[e] - sorted[i]) < Math.abs(weights[e] - sorted[best])) {
          best = i;
        }
      }
      expected[e] = slotOf[best];
    }
    int[] initial = new int[n];
    for (int e = 0; e < n; e++) {
      initial[e] = e % k; // every entry in use: the entry table is the identity
    }
    CodebookLayout layout = CodebookLayout.of(initial, Granularity.TENSOR, new OutputChannels(1, 1));
    Shape shape = Shape.of(n / 10, 10);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TInt32> got = ClusteredWeight.reassign(tf, tf.constant(codebook),
          tf.constant(shape, DataBuffers.of(weights, true, false)), layout, shape);
      try (Result r = s.runner().fetch(got).run()) {
        assertArrayEquals(expected, ints((TInt32) r.get(0)));
      }
    }
  }

  /**
   * One SGD-with-momentum step on resource variables (centroids and original weight), eagerly with
   * the explicit gradients and in a graph with autodiff: the same updated values, equal to the
   * plain-Java update.
   */
  @Test
  void anOptimizerStepGivesTheSameVariablesEagerlyAndInAGraph() {
    float[] scale = {1f, 1f, 1f};
    float lr = 0.1f;
    float[] dw = weightGradient(weight(false));
    float[] dc = centroidGradient(dw, scale, false);
    float[] expectedCentroids = new float[CENTROIDS.length];
    for (int c = 0; c < dc.length; c++) {
      expectedCentroids[c] = CENTROIDS[c] - lr * dc[c]; // first step: accum = gradient
    }
    float[] expectedOriginal = new float[ORIGINAL.length];
    for (int i = 0; i < dw.length; i++) {
      expectedOriginal[i] = ORIGINAL[i] - lr * dw[i];
    }
    TrainingOptimizer sgd = new TrainingOptimizer.Sgd(0.9f, false);

    float[] eagerCentroids;
    float[] eagerOriginal;
    try (EagerSession session = EagerSession.create()) {
      Ops tf = Ops.create(session);
      VarHandleOp c = variable(tf, "c", CENTROIDS, Shape.of(CENTROIDS.length));
      VarHandleOp o = variable(tf, "o", ORIGINAL, W_SHAPE);
      Operand<TInt32> indices = tf.constant(W_SHAPE, DataBuffers.of(INDICES, true, false));
      Operand<TFloat32> weight = ClusteredWeight.forward(tf, tf.readVariableOp(c, TFloat32.class),
          tf.constant(scale), indices, tf.readVariableOp(o, TFloat32.class), null, W_SHAPE);
      Operand<TFloat32> residual = tf.math.sub(tf.linalg.matMul(tf.constant(X), weight), tf.constant(T));
      Operand<TFloat32> dW = tf.math.mul(tf.linalg.matMul(tf.constant(X), residual,
          org.tensorflow.op.linalg.MatMul.transposeA(true)), tf.constant(2f / (X.length * 4)));
      ClusteredWeight.Gradients grads = ClusteredWeight.gradients(tf, dW, indices, tf.constant(scale), null,
          CENTROIDS.length);
      TrainingOptimizer.Hyper hyper = new TrainingOptimizer.Hyper(tf.constant(lr), tf.constant(1f), tf.constant(1f));
      TrainingOptimizer.Slots cs = sgd.slots(tf, "eager/c", Shape.of(CENTROIDS.length));
      TrainingOptimizer.Slots os = sgd.slots(tf, "eager/o", W_SHAPE);
      sgd.apply(tf, c, cs, grads.centroids(), hyper);
      sgd.apply(tf, o, os, grads.original(), hyper);
      eagerCentroids = values(tf.readVariableOp(c, TFloat32.class));
      eagerOriginal = values(tf.readVariableOp(o, TFloat32.class));
    }
    assertArrayEquals(expectedCentroids, eagerCentroids, 1e-6f);
    assertArrayEquals(expectedOriginal, eagerOriginal, 1e-6f);

    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      VarHandleOp c = tf.withName("c").varHandleOp(TFloat32.class, Shape.of(CENTROIDS.length),
          VarHandleOp.sharedName("c"));
      VarHandleOp o = tf.withName("o").varHandleOp(TFloat32.class, W_SHAPE, VarHandleOp.sharedName("o"));
      s.runner().addTarget(tf.assignVariableOp(c, tf.constant(CENTROIDS)))
          .addTarget(tf.assignVariableOp(o, floats(tf, ORIGINAL, W_SHAPE))).run().close();
      Operand<TFloat32> readC = tf.readVariableOp(c, TFloat32.class);
      Operand<TFloat32> readO = tf.readVariableOp(o, TFloat32.class);
      Operand<TFloat32> weight = ClusteredWeight.forward(tf, readC, tf.constant(scale),
          tf.constant(W_SHAPE, DataBuffers.of(INDICES, true, false)), readO, null, W_SHAPE);
      Output<?>[] grads = g.addGradients(loss(tf, weight).asOutput(), new Output<?>[] {readC.asOutput(), readO.asOutput()});
      TrainingOptimizer.Hyper hyper = new TrainingOptimizer.Hyper(tf.constant(lr), tf.constant(1f), tf.constant(1f));
      TrainingOptimizer.Slots cs = sgd.slots(tf, "graph/c", Shape.of(CENTROIDS.length));
      TrainingOptimizer.Slots os = sgd.slots(tf, "graph/o", W_SHAPE);
      Session.Runner init = s.runner();
      for (var op : cs.initializers()) {
        init.addTarget(op);
      }
      for (var op : os.initializers()) {
        init.addTarget(op);
      }
      init.run().close();
      @SuppressWarnings("unchecked")
      Operand<TFloat32> gc = (Operand<TFloat32>) grads[0];
      @SuppressWarnings("unchecked")
      Operand<TFloat32> go = (Operand<TFloat32>) grads[1];
      s.runner().addTarget(sgd.apply(tf, c, cs, gc, hyper)).addTarget(sgd.apply(tf, o, os, go, hyper)).run().close();
      try (Result r = s.runner().fetch(tf.readVariableOp(c, TFloat32.class)).fetch(tf.readVariableOp(o, TFloat32.class)).run()) {
        assertArrayEquals(eagerCentroids, values((TFloat32) r.get(0)), 1e-6f);
        assertArrayEquals(eagerOriginal, values((TFloat32) r.get(1)), 1e-6f);
      }
    }
  }

  private static VarHandleOp variable(Ops tf, String name, float[] value, Shape shape) {
    VarHandleOp handle = tf.varHandleOp(TFloat32.class, shape, VarHandleOp.sharedName(name));
    tf.assignVariableOp(handle, floats(tf, value, shape));
    return handle;
  }

  /**
   * The centroid gradient of a Dense-sized weight (1.2 M members, more than TensorFlow's Bincount
   * shards over its threads) is the same on every run, and within float32 rounding of the exact sum.
   * With float weights, Bincount's per-thread partial sums made most runs differ in the last bits.
   */
  @Test
  void theCentroidGradientIsTheSameOnEveryRunAndCloseToTheExactSum() {
    int n = 9216 * 128;
    int k = 8;
    Random random = new Random(7);
    float[] dw = new float[n];
    int[] indices = new int[n];
    double[] exact = new double[k];
    for (int i = 0; i < n; i++) {
      dw[i] = (float) (random.nextGaussian() * 1e-3);
      indices[i] = random.nextInt(k);
      exact[indices[i]] += dw[i];
    }
    float[] scale = {1f, 1f, 1f, 1f, 0.5f, 1f, 1f, 0f};
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Shape shape = Shape.of(9216, 128);
      Operand<TFloat32> sums = ClusteredWeight.centroidGradient(tf, floats(tf, dw, shape),
          tf.constant(shape, DataBuffers.of(indices, true, false)), tf.constant(scale), k);
      float[] first = null;
      for (int run = 0; run < 20; run++) {
        try (Result r = s.runner().fetch(sums).run()) {
          float[] got = values((TFloat32) r.get(0));
          if (first == null) {
            first = got;
            for (int c = 0; c < k; c++) {
              assertEquals(exact[c] * scale[c], got[c], 1e-6 * Math.abs(exact[c]) + 1e-9, "centroid " + c);
            }
          } else {
            assertArrayEquals(first, got, 0f, "run " + run);
          }
        }
      }
    }
  }

  @Test
  void fixedPointSumsCannotOverflow() {
    for (long members : new long[] {1, 2, 3, 1L << 22, (1L << 22) + 1, 88_000_000L, Integer.MAX_VALUE}) {
      int bits = ClusteredWeight.fixedPointBits(members);
      assertTrue(bits <= 40 && Math.log(members) / Math.log(2) + bits <= 62, members + " members, " + bits + " bits");
    }
    assertEquals(40, ClusteredWeight.fixedPointBits(1L << 22));
    assertEquals(39, ClusteredWeight.fixedPointBits((1L << 22) + 1));
  }
}

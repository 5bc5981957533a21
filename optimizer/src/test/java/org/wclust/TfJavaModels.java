package org.wclust;

import java.io.IOException;
import java.nio.file.Path;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TUint8;
import org.tensorflow.types.family.TNumber;

/**
 * A TF1-style dense layer {@code y = x·W + b} built and exported with TF Java's own API: placeholder
 * {@code x} [-1,4], VariableV2 {@code dense/kernel} [4,3] and {@code dense/bias} [3], signature
 * {@code serving_default} (x → y).
 */
public final class TfJavaModels {
  /** Two well separated groups, means exactly -1 and 2: k-means with k=2 has one fixed point. */
  public static final float[][] KERNEL = {
      {-1.5f, 1.5f, -1.25f},
      {1.75f, -1.125f, 1.875f},
      {-0.875f, 2.125f, -0.75f},
      {2.25f, -0.5f, 2.5f}};
  public static final float[] BIAS = {0.5f, -1f, 2f};

  private TfJavaModels() {}

  public static Path exportDense(Path dir) throws IOException {
    return exportDense(dir, KERNEL, BIAS);
  }

  public static Path exportDense(Path dir, float[][] kernel, float[] bias) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      Ops dense = tf.withSubScope("dense");
      var w = dense.withName("kernel").variable(tf.constant(kernel));
      var b = dense.withName("bias").variable(tf.constant(bias));
      var y = tf.withName("y").math.add(tf.linalg.matMul(x, w), b);
      s.initialize();
      Signature sig = Signature.builder().key("serving_default").input("x", x).output("y", y).build();
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withFunction(SessionFunction.create(sig, s)).export();
    }
    return dir;
  }

  /**
   * A two-layer perceptron {@code y = relu(x·W1 + b1)·W2 + b2}: placeholder {@code x} [-1, rows of W1],
   * VariableV2s {@code hidden/kernel}, {@code hidden/bias}, {@code out/kernel}, {@code out/bias}, signature
   * {@code serving_default} (x → y).
   */
  public static Path exportMlp(Path dir, float[][] w1, float[] b1, float[][] w2, float[] b2) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, w1.length)));
      Ops hidden = tf.withSubScope("hidden");
      var h = tf.nn.relu(tf.math.add(tf.linalg.matMul(x, hidden.withName("kernel").variable(tf.constant(w1))),
          hidden.withName("bias").variable(tf.constant(b1))));
      Ops out = tf.withSubScope("out");
      var y = tf.withName("y").math.add(tf.linalg.matMul(h, out.withName("kernel").variable(tf.constant(w2))),
          out.withName("bias").variable(tf.constant(b2)));
      s.initialize();
      Signature sig = Signature.builder().key("serving_default").input("x", x).output("y", y).build();
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withFunction(SessionFunction.create(sig, s)).export();
    }
    return dir;
  }

  /**
   * A residual block whose hidden activation feeds three ops: {@code h = relu(x·W1 + b1)} (x [-1, 16], h
   * [-1, 256]), {@code y = (h + relu(h·W2 + b2) + h·W3 + b3)·W4 + b4} (y [-1, 10]); VariableV2s
   * {@code hidden/kernel}, {@code hidden/bias}, {@code branch/kernel}, {@code branch/bias},
   * {@code shortcut/kernel}, {@code shortcut/bias}, {@code out/kernel}, {@code out/bias}, Gaussian
   * weights of seed 1; signature {@code serving_default} (x → y).
   */
  public static Path exportResidual(Path dir) throws IOException {
    java.util.Random random = new java.util.Random(1);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 16)));
      var h = tf.nn.relu(dense(tf, "hidden", x, 16, 256, random));
      var branch = tf.nn.relu(dense(tf, "branch", h, 256, 256, random));
      var shortcut = dense(tf, "shortcut", h, 256, 256, random);
      var y = tf.withName("y").identity(dense(tf, "out", tf.math.add(tf.math.add(h, branch), shortcut), 256, 10, random));
      s.initialize();
      Signature sig = Signature.builder().key("serving_default").input("x", x).output("y", y).build();
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withFunction(SessionFunction.create(sig, s)).export();
    }
    return dir;
  }

  private static org.tensorflow.Operand<TFloat32> dense(Ops tf, String name, org.tensorflow.Operand<TFloat32> in,
      int rows, int columns, java.util.Random random) {
    float[][] kernel = new float[rows][columns];
    for (float[] row : kernel) {
      for (int c = 0; c < columns; c++) {
        row[c] = (float) (random.nextGaussian() / Math.sqrt(rows));
      }
    }
    float[] bias = new float[columns];
    for (int c = 0; c < columns; c++) {
      bias[c] = (float) (0.1 * random.nextGaussian());
    }
    Ops scope = tf.withSubScope(name);
    return tf.math.add(tf.linalg.matMul(in, scope.withName("kernel").variable(tf.constant(kernel))),
        scope.withName("bias").variable(tf.constant(bias)));
  }

  /** The TF Java type of an input named as NumPy names it: float32, float64, float16, uint8 or int64. */
  public static Class<? extends TNumber> inputType(String name) {
    return switch (name) {
      case "float32" -> TFloat32.class;
      case "float64" -> TFloat64.class;
      case "float16" -> TFloat16.class;
      case "uint8" -> TUint8.class;
      case "int64" -> TInt64.class;
      default -> throw new IllegalArgumentException("no input type " + name);
    };
  }

  /**
   * The same layer on an input of another type ({@code TFloat64}, {@code TUint8}, ...), cast to float32
   * first, as a model that takes raw pixels or doubles does.
   */
  public static Path exportDense(Path dir, Class<? extends org.tensorflow.types.family.TNumber> inputType)
      throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(inputType, Placeholder.shape(Shape.of(-1, 4)));
      Ops dense = tf.withSubScope("dense");
      var w = dense.withName("kernel").variable(tf.constant(KERNEL));
      var b = dense.withName("bias").variable(tf.constant(BIAS));
      var y = tf.withName("y").math.add(tf.linalg.matMul(tf.dtypes.cast(x, TFloat32.class), w), b);
      s.initialize();
      Signature sig = Signature.builder().key("serving_default").input("x", x).output("y", y).build();
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withFunction(SessionFunction.create(sig, s)).export();
    }
    return dir;
  }

  /**
   * The same layer with resource variables (VarHandleOp initialised by AssignVariableOp in the init
   * scope), which TF Java's exporter does not write to the checkpoint.
   */
  public static Path exportDenseWithResourceVariables(Path dir) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      Ops dense = tf.withSubScope("dense");
      var w = dense.withName("kernel").varHandleOp(TFloat32.class, Shape.of(4, 3));
      var b = dense.withName("bias").varHandleOp(TFloat32.class, Shape.of(3));
      Ops init = tf.withInitScope();
      init.withName("init_kernel").assignVariableOp(w, init.constant(KERNEL));
      init.withName("init_bias").assignVariableOp(b, init.constant(BIAS));
      var y = tf.withName("y").math.add(
          tf.linalg.matMul(x, tf.readVariableOp(w, TFloat32.class)), tf.readVariableOp(b, TFloat32.class));
      s.initialize();
      Signature sig = Signature.builder().key("serving_default").input("x", x).output("y", y).build();
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withFunction(SessionFunction.create(sig, s)).export();
    }
    return dir;
  }

  /**
   * A model with two inputs of different types: {@code pixels} float32 [-1,4] and {@code ids} int64
   * [-1,2] (cast to float32), {@code y = pixels·W + ids·V + b} with VariableV2 {@code dense/kernel}
   * [4,3] ({@link #KERNEL}), {@code ids/kernel} [2,3] ({@code idsKernel}) and {@code dense/bias} [3].
   */
  public static Path exportTwoInputs(Path dir, float[][] idsKernel) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var pixels = tf.withName("pixels").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      var ids = tf.withName("ids").placeholder(TInt64.class, Placeholder.shape(Shape.of(-1, 2)));
      var w = tf.withSubScope("dense").withName("kernel").variable(tf.constant(KERNEL));
      var v = tf.withSubScope("ids").withName("kernel").variable(tf.constant(idsKernel));
      var b = tf.withSubScope("dense").withName("bias").variable(tf.constant(BIAS));
      var y = tf.withName("y").math.add(tf.math.add(tf.linalg.matMul(pixels, w),
          tf.linalg.matMul(tf.dtypes.cast(ids, TFloat32.class), v)), b);
      s.initialize();
      Signature sig = Signature.builder().key("serving_default").input("pixels", pixels).input("ids", ids)
          .output("y", y).build();
      SavedModelBundle.exporter(dir.toString()).withSession(s)
          .withFunction(SessionFunction.create(sig, s)).export();
    }
    return dir;
  }

  /** x·W + b in Java, row-major x of shape [n,4]. */
  public static float[] dense(float[] x, float[][] kernel, float[] bias) {
    int n = x.length / 4;
    float[] y = new float[n * 3];
    for (int r = 0; r < n; r++) {
      for (int j = 0; j < 3; j++) {
        double acc = bias[j];
        for (int i = 0; i < 4; i++) {
          acc += (double) x[r * 4 + i] * kernel[i][j];
        }
        y[r * 3 + j] = (float) acc;
      }
    }
    return y;
  }
}

package org.wclust.internal.fold;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoader;

/** FusedBatchNorm (tf.keras 2.x graphs), built and exported with TF Java, folds into its conv. */
class BatchNormFolderTest {
  @TempDir Path tmp;

  /** x [-1,6,6,3] -> Conv2D 3x3x3x4 (+ optional ReLU) -> FusedBatchNormV3 (inference) -> ReLU. */
  private Path export(String name, boolean reluBeforeBn) throws Exception {
    Path dir = tmp.resolve(name);
    Random r = new Random(5);
    float[][][][] kernel = new float[3][3][3][4];
    for (float[][][] a : kernel) {
      for (float[][] b : a) {
        for (float[] c : b) {
          for (int i = 0; i < c.length; i++) {
            c[i] = (float) r.nextGaussian();
          }
        }
      }
    }
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 6, 6, 3)));
      var w = tf.withSubScope("conv").withName("kernel").variable(tf.constant(StdArrays.ndCopyOf(kernel)));
      Operand<TFloat32> conv = tf.nn.conv2d(x, w, List.of(1L, 1L, 1L, 1L), "SAME");
      if (reluBeforeBn) {
        conv = tf.nn.relu(conv);
      }
      var bn = tf.nn.fusedBatchNorm(conv,
          tf.withSubScope("bn").withName("gamma").variable(tf.constant(new float[] {0.5f, 1.5f, 1f, 2f})),
          tf.withSubScope("bn").withName("beta").variable(tf.constant(new float[] {0.1f, -0.2f, 0.3f, 0f})),
          tf.withSubScope("bn").withName("mean").variable(tf.constant(new float[] {0.2f, -0.1f, 0f, 0.4f})),
          tf.withSubScope("bn").withName("variance").variable(tf.constant(new float[] {1.2f, 0.7f, 1f, 2.5f})),
          FusedBatchNorm.isTraining(false), FusedBatchNorm.epsilon(0.001f));
      var y = tf.withName("y").nn.relu(bn.y());
      s.initialize();
      Signature sig = Signature.builder().key("serving_default").input("x", x).output("y", y).build();
      SavedModelBundle.exporter(dir.toString()).withSession(s).withFunction(SessionFunction.create(sig, s)).export();
    }
    return dir;
  }

  private static float[] run(FlatModel model, HostTensor x) {
    try (ModelSession s = new ModelSession(model)) {
      return s.run(Map.of("x", x)).get("y").toFloats();
    }
  }

  private static HostTensor input() {
    Random r = new Random(9);
    float[] v = new float[2 * 6 * 6 * 3];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return HostTensor.ofFloats(new long[] {2, 6, 6, 3}, v);
  }

  @Test
  void fusedBatchNormFoldsIntoTheConvAndKeepsTheOutputs() throws Exception {
    FlatModel original = ModelLoader.load(export("fused", false), "serving_default");
    BatchNormFolder.Result folded = BatchNormFolder.fold(original);
    assertEquals(1, folded.folds().size());
    assertEquals("conv/kernel", folded.folds().get(0).kernel());
    assertTrue(folded.model().graph().getNodeList().stream().noneMatch(n -> n.getOp().startsWith("FusedBatchNorm")),
        "the BN is gone from the folded graph");
    assertArrayEquals(run(original, input()), run(folded.model(), input()), 1e-5f);
    // What data-free bias correction expects of the BatchNorm's output: mean beta, deviation |gamma|.
    assertArrayEquals(new float[] {0.1f, -0.2f, 0.3f, 0f}, folded.folds().get(0).outputMean(), 0f);
    assertArrayEquals(new float[] {0.5f, 1.5f, 1f, 2f}, folded.folds().get(0).outputStd(), 0f);
  }

  @Test
  void anActivationBetweenConvAndBatchNormBlocksFolding() throws Exception {
    FlatModel original = ModelLoader.load(export("relu_first", true), "serving_default");
    BatchNormFolder.Result folded = BatchNormFolder.fold(original);
    assertEquals(0, folded.folds().size());
    assertArrayEquals(run(original, input()), run(folded.model(), input()), 0f);
  }
}

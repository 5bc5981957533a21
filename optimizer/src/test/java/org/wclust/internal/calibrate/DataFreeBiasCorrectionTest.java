package org.wclust.internal.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.types.TFloat32;

/** The pieces of data-free bias correction, each against an independent computation. */
class DataFreeBiasCorrectionTest {
  /** E[clip(Y, low, high)] for normal Y equals a seeded Monte-Carlo mean of 2,000,000 draws. */
  @Test
  void clippedNormalMeanMatchesMonteCarlo() {
    double[][] cases = {{0, 1, 0, 6}, {0.5, 2, 0, 6}, {5, 3, 0, 6}, {-1, 0.5, 0, 6}, {0.3, 1.7, 0, Double.POSITIVE_INFINITY},
        {-2, 1, 0, Double.POSITIVE_INFINITY}, {7, 0.1, 0, 6}};
    Random r = new Random(11);
    for (double[] c : cases) {
      double sum = 0;
      int n = 2_000_000;
      for (int i = 0; i < n; i++) {
        double y = c[0] + c[1] * r.nextGaussian();
        sum += Math.min(Math.max(y, c[2]), c[3]);
      }
      // Monte-Carlo standard error is below sigma / sqrt(n) = 2e-3 for these cases; allow 4 of them.
      assertEquals(sum / n, ExpectedInputs.clippedNormalMean(c[0], c[1], c[2], c[3]), 4 * c[1] / Math.sqrt(n),
          java.util.Arrays.toString(c));
    }
    assertEquals(6, ExpectedInputs.clippedNormalMean(9, 0, 0, 6), 0);
    assertEquals(0.5, ExpectedInputs.normalCdf(0), 1e-7);
    assertEquals(0.9772498680518208, ExpectedInputs.normalCdf(2), 2e-7);
  }

  /**
   * The share of output positions at which each kernel offset reads real input equals what TensorFlow's
   * own Conv2D computes: an input of ones with zeros in the explicit padding, a kernel with a single 1 at
   * that offset, averaged over the output (SAME and VALID, strides 1 and 2, dilation 2).
   */
  @Test
  void tapSharesMatchTensorFlowsConvolution() {
    int[][] cases = { // size, kernel, stride, dilation, same, padBefore, padAfter
        {7, 3, 1, 1, 1, 0, 0}, {7, 3, 2, 1, 1, 0, 0}, {8, 3, 2, 1, 1, 0, 0}, {1, 3, 1, 1, 1, 0, 0},
        {2, 3, 1, 1, 1, 0, 0}, {9, 3, 2, 1, 0, 0, 1}, {10, 3, 2, 1, 0, 1, 1}, {9, 3, 1, 2, 1, 0, 0},
        {6, 5, 1, 1, 0, 0, 0}};
    Ops tf = Ops.create();
    for (int[] c : cases) {
      double[] shares = DataFreeBiasCorrection.axisShares(c[0], c[1], c[2], c[3], c[4] == 1, c[5], c[6]);
      float[] x = new float[c[0]];
      for (int i = c[5]; i < c[0] - c[6]; i++) {
        x[i] = 1;
      }
      for (int k = 0; k < c[1]; k++) {
        float[] w = new float[c[1]];
        w[k] = 1;
        Operand<TFloat32> input = tf.reshape(tf.constant(x), tf.constant(new long[] {1, 1, c[0], 1}));
        Operand<TFloat32> kernel = tf.reshape(tf.constant(w), tf.constant(new long[] {1, c[1], 1, 1}));
        var conv = tf.nn.conv2d(input, kernel, List.of(1L, 1L, (long) c[2], 1L), c[4] == 1 ? "SAME" : "VALID",
            Conv2d.dilations(List.of(1L, 1L, (long) c[3], 1L)));
        try (TFloat32 mean = tf.math.mean(conv, tf.constant(new int[] {0, 1, 2, 3})).asTensor()) {
          assertEquals(mean.getFloat(), shares[k], 1e-6, java.util.Arrays.toString(c) + " offset " + k);
        }
      }
    }
  }
}

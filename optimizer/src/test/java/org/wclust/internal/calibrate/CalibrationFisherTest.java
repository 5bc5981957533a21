package org.wclust.internal.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wclust.TfJavaModels;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.graph.WeightTensor;
import org.wclust.internal.load.ModelLoader;

/**
 * The diagonal Fisher of a dense layer {@code y = x W + b} (y taken as logits), against the closed form:
 * the gradient of −log p(ŷ) with respect to {@code W_ij} is {@code x_i (p_j − [j = ŷ])}, ŷ the top-1 class.
 * Measured for inputs of every type a model may declare: the examples are fed in that type (uint8 pixels,
 * int64 ids), as fine-tuning feeds them.
 */
class CalibrationFisherTest {
  private static final int N = 64;

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"float32", "float64", "uint8", "int64"})
  void theFisherOfADenseLayerIsTheClosedFormWhateverTheInputType(String type) throws Exception {
    FlatModel model = ModelLoader.load(TfJavaModels.exportDense(tmp.resolve(type), TfJavaModels.inputType(type)),
        "serving_default");
    List<WeightTensor> kernel = WeightDiscovery.discoverForClustering(model).stream()
        .filter(w -> w.name().equals("dense/kernel")).toList();
    Random random = new Random(5);
    float[] x = new float[N * 4];
    for (int i = 0; i < x.length; i++) {
      x[i] = random.nextInt(8); // whole numbers, small enough that no class's probability rounds to 1
    }
    Map<String, float[]> fisher = Calibration.fisher(model, kernel, Dataset.unlabeled(new long[] {4}, x), null);

    float[][] w = TfJavaModels.KERNEL;
    double[] expected = new double[4 * 3];
    for (int e = 0; e < N; e++) {
      float[] example = java.util.Arrays.copyOfRange(x, e * 4, e * 4 + 4);
      float[] logits = TfJavaModels.dense(example, w, TfJavaModels.BIAS);
      int top = 0;
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < 3; j++) {
        if (logits[j] > max) {
          max = logits[j];
          top = j;
        }
      }
      double sum = 0;
      double[] p = new double[3];
      for (int j = 0; j < 3; j++) {
        p[j] = Math.exp(logits[j] - max);
        sum += p[j];
      }
      for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 3; j++) {
          double g = example[i] * (p[j] / sum - (j == top ? 1 : 0));
          expected[i * 3 + j] += g * g / N;
        }
      }
    }
    float[] measured = fisher.get("dense/kernel");
    assertEquals(expected.length, measured.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], measured[i], 1e-4 * Math.max(1, expected[i]), type + ": weight " + i);
    }
  }

  /**
   * On a ReLU perceptron whose hidden unit 2 never fires and whose input 3 is always zero, the weights
   * that {@link Calibration#reach} finds unreached are exactly those of zero Fisher: unit 2's incoming
   * weights (column 2 of the hidden kernel), input 3's (row 3), and the output kernel's row 2.
   */
  @org.junit.jupiter.api.Test
  void theReachIsZeroExactlyWhereTheFisherIs() throws Exception {
    float[][] hidden = {{1f, -0.5f, 0.3f}, {-1f, 1f, -0.2f}, {0.5f, 0.5f, 0.4f}, {0.7f, -0.3f, 0.1f}};
    float[][] out = {{1f, -1f}, {-0.5f, 1f}, {0.8f, 0.2f}};
    FlatModel model = ModelLoader.load(TfJavaModels.exportMlp(tmp.resolve("mlp"), hidden,
        new float[] {0.1f, 0.2f, -50f}, out, new float[] {0f, 0.1f}), "serving_default");
    List<WeightTensor> kernels = WeightDiscovery.discoverForClustering(model).stream()
        .filter(w -> w.name().endsWith("kernel")).toList();
    Random random = new Random(9);
    float[] x = new float[200 * 4];
    for (int e = 0; e < 200; e++) {
      for (int i = 0; i < 3; i++) {
        x[e * 4 + i] = (float) random.nextGaussian();
      }
    }
    Dataset data = Dataset.unlabeled(new long[] {4}, x);
    Map<String, float[]> fisher = Calibration.fisher(model, kernels, data, null);
    Map<String, float[]> reach = Calibration.reach(model, kernels, data, null, 1);
    assertEquals(2, fisher.size());
    int unreached = 0;
    for (String name : fisher.keySet()) {
      float[] f = fisher.get(name);
      float[] r = reach.get(name);
      for (int i = 0; i < f.length; i++) {
        assertEquals(f[i] == 0, r[i] == 0, name + ", weight " + i + ": Fisher " + f[i] + ", reach " + r[i]);
        unreached += f[i] == 0 ? 1 : 0;
      }
    }
    assertEquals(4 + 3 - 1 + 2, unreached, "column 2 and row 3 of the hidden kernel, row 2 of the output kernel");
  }
}

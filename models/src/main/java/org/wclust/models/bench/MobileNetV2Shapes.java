package org.wclust.models.bench;

import java.util.ArrayList;
import java.util.List;
import org.wclust.internal.graph.OutputChannels;

/**
 * The conv and dense weight tensors of MobileNetV2 (width 1.0, 224×224, 1000 classes) as the Keras
 * applications architecture has them: about 3.5 million weights in 53 tensors. Used as a benchmark
 * workload with the real tensor sizes and channel layouts, without needing the model itself.
 */
public final class MobileNetV2Shapes {
  /** One weight tensor: a name, its shape and where its output channels lie. */
  public record Tensor(String name, long[] shape, OutputChannels channels) {
    public int size() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return Math.toIntExact(n);
    }

    /** Fan-in of one output: all dimensions but the output-channel one. */
    long fanIn() {
      return size() / channels.count();
    }
  }

  private MobileNetV2Shapes() {}

  public static List<Tensor> tensors() {
    List<Tensor> list = new ArrayList<>();
    conv(list, "Conv1", 3, 3, 32);
    int in = 32;
    int[][] blocks = {{1, 16, 1}, {6, 24, 2}, {6, 32, 3}, {6, 64, 4}, {6, 96, 3}, {6, 160, 3}, {6, 320, 1}};
    int id = 0;
    for (int[] b : blocks) {
      int expansion = b[0];
      int out = b[1];
      for (int r = 0; r < b[2]; r++) {
        String block = "block_" + id++;
        int hidden = in * expansion;
        if (expansion != 1) {
          conv(list, block + "_expand", 1, in, hidden);
        }
        list.add(new Tensor(block + "_depthwise", new long[] {3, 3, hidden, 1}, new OutputChannels(hidden, 1)));
        conv(list, block + "_project", 1, hidden, out);
        in = out;
      }
    }
    conv(list, "Conv_1", 1, 320, 1280);
    list.add(new Tensor("predictions", new long[] {1280, 1000}, new OutputChannels(1000, 1)));
    return list;
  }

  private static void conv(List<Tensor> list, String name, int kernel, int in, int out) {
    list.add(new Tensor(name, new long[] {kernel, kernel, in, out}, new OutputChannels(out, 1)));
  }

  /** He-normal weights for each tensor, seeded, as a freshly initialised network would have. */
  public static float[] weights(Tensor tensor, long seed) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    double std = Math.sqrt(2.0 / tensor.fanIn());
    float[] values = new float[tensor.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (gaussian(random) * std);
    }
    return values;
  }

  private static double gaussian(java.util.SplittableRandom random) {
    // Box-Muller; SplittableRandom has no nextGaussian in Java 17.
    double u = 1.0 - random.nextDouble();
    double v = random.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

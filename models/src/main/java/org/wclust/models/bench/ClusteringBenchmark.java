package org.wclust.models.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.Granularity;
import org.wclust.internal.cluster.InitMethod;
import org.wclust.internal.cluster.WeightClusterer;

/**
 * Benchmark driver (not a test): milliseconds to cluster every conv/dense tensor of a MobileNetV2-sized
 * workload ({@link MobileNetV2Shapes}, ~3.5 M weights), per method, granularity and k, on one thread
 * and on all cores (tensors in parallel). Each cell is the median of a few timed runs after a warm-up.
 *
 * <pre>
 * scripts/bench-clustering.sh [--methods optimal,kmeans++] [--granularity tensor,channel] [--k 8,32,256] [--runs 3]
 * </pre>
 */
public final class ClusteringBenchmark {
  private ClusteringBenchmark() {}

  public static void main(String[] args) throws Exception {
    List<InitMethod> methods = new ArrayList<>(Arrays.asList(InitMethod.values()));
    List<String> granularities = List.of("tensor", "channel", "group:8");
    int[] ks = {8, 32, 256};
    int runs = 3;
    for (int i = 0; i < args.length; i += 2) {
      String value = args[i + 1];
      switch (args[i]) {
        case "--methods" -> methods = Arrays.stream(value.split(",")).map(InitMethod::fromCliName).toList();
        case "--granularity" -> granularities = List.of(value.split(","));
        case "--k" -> ks = Arrays.stream(value.split(",")).mapToInt(Integer::parseInt).toArray();
        case "--runs" -> runs = Integer.parseInt(value);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    List<MobileNetV2Shapes.Tensor> tensors = MobileNetV2Shapes.tensors();
    List<float[]> weights = new ArrayList<>();
    long total = 0;
    for (int t = 0; t < tensors.size(); t++) {
      weights.add(MobileNetV2Shapes.weights(tensors.get(t), t));
      total += tensors.get(t).size();
    }
    int cores = Runtime.getRuntime().availableProcessors();
    System.out.printf("MobileNetV2-sized workload: %d tensors, %,d weights; %d cores; median of %d runs%n%n",
        tensors.size(), total, cores, runs);
    System.out.printf("| %-10s | %-11s | %5s | %12s | %14s | %14s |%n",
        "method", "granularity", "k", "1 thread ms", cores + " threads ms", "SSE (sum)");
    System.out.println("|------------|-------------|-------|--------------|----------------|----------------|");
    for (InitMethod method : methods) {
      for (String g : granularities) {
        for (int k : ks) {
          ClusterSettings settings = new ClusterSettings(k, method, true, Granularity.parse(g), false, 0);
          double sse = run(tensors, weights, settings, 1); // warm-up, and the SSE of the result
          double single = median(runs, () -> run(tensors, weights, settings, 1));
          double parallel = median(runs, () -> run(tensors, weights, settings, cores));
          System.out.printf("| %-10s | %-11s | %5d | %12.0f | %14.0f | %14.6g |%n",
              method.cliName(), g, k, single, parallel, sse);
        }
      }
    }
  }

  /** Clusters every tensor; returns the summed SSE (or, when timed, is wrapped by {@link #median}). */
  private static double run(List<MobileNetV2Shapes.Tensor> tensors, List<float[]> weights,
      ClusterSettings settings, int threads) {
    ForkJoinPool pool = new ForkJoinPool(threads);
    try {
      return pool.submit(() -> java.util.stream.IntStream.range(0, tensors.size()).parallel()
          .mapToDouble(t -> WeightClusterer.cluster(weights.get(t), tensors.get(t).channels(), settings).sse())
          .sum()).get();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      pool.shutdown();
    }
  }

  private static double median(int runs, java.util.function.DoubleSupplier body) {
    double[] ms = new double[runs];
    for (int r = 0; r < runs; r++) {
      long t0 = System.nanoTime();
      body.getAsDouble();
      ms[r] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    return ms[runs / 2];
  }
}

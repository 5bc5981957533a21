package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightTensor;

/** Per-layer allocation of k meets the budget, and spends it where it buys the most. */
class LayerAllocationTest {
  private static WeightTensor tensor(String name, int params) {
    return new WeightTensor(name, name + "_handle", "MatMul", new long[] {params}, params, params, "DT_FLOAT", true,
        "clusterable", OutputChannels.single(params));
  }

  private static final List<WeightTensor> TARGETS =
      List.of(tensor("gaussian", 6000), tensor("heavy_tailed", 6000), tensor("small", 500));

  private static List<float[]> values() {
    Random random = new Random(9);
    float[] a = new float[6000];
    float[] b = new float[6000];
    float[] c = new float[500];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) random.nextGaussian();
      b[i] = (float) (random.nextGaussian() * Math.exp(random.nextGaussian()));
    }
    for (int i = 0; i < c.length; i++) {
      c[i] = (float) random.nextGaussian() * 10;
    }
    return List.of(a, b, c);
  }

  /** Bits per weight of clustering every layer at minimum SSE with the allocated k, recomputed. */
  private static double bitsPerWeight(Map<String, Integer> clusters, List<float[]> values) {
    double bits = 0;
    long n = 0;
    for (int l = 0; l < TARGETS.size(); l++) {
      ClusterSettings s = new ClusterSettings(clusters.get(TARGETS.get(l).name()), InitMethod.OPTIMAL, false,
          Granularity.TENSOR, false, 0);
      TensorClustering c = WeightClusterer.cluster(values.get(l), TARGETS.get(l).channels(), s);
      bits += RateControl.indexBits(c, TARGETS.get(l), s);
      n += values.get(l).length;
    }
    return bits / n;
  }

  @ParameterizedTest
  @ValueSource(doubles = {1.2, 2.0, 2.7, 3.5})
  void allocationRespectsTheBitsBudget(double budget) {
    List<float[]> values = values();
    LayerAllocation.Result r = LayerAllocation.allocate(TARGETS, values, 32, ClusterSettings.of(32, 0),
        new RateControl.Target(RateControl.Kind.BITS_PER_WEIGHT, budget, true), null);
    assertTrue(r.withinBudget());
    double bits = bitsPerWeight(r.clusters(), values);
    assertEquals(r.reached(), bits, 1e-9);
    assertTrue(bits <= budget, bits + " > " + budget);
    for (int k : r.clusters().values()) {
      assertTrue(k >= 2 && k <= 32 && Integer.bitCount(k) == 1, "k " + k);
    }
  }

  @Test
  void aLooserBudgetNeverGivesALayerFewerClusters() {
    List<float[]> values = values();
    Map<String, Integer> tight = LayerAllocation.allocate(TARGETS, values, 32, ClusterSettings.of(32, 0),
        new RateControl.Target(RateControl.Kind.BITS_PER_WEIGHT, 1.5, true), null).clusters();
    Map<String, Integer> loose = LayerAllocation.allocate(TARGETS, values, 32, ClusterSettings.of(32, 0),
        new RateControl.Target(RateControl.Kind.BITS_PER_WEIGHT, 3.0, true), null).clusters();
    for (String name : tight.keySet()) {
      assertTrue(loose.get(name) >= tight.get(name), name + ": " + tight + " vs " + loose);
    }
    assertTrue(loose.values().stream().mapToInt(Integer::intValue).sum()
        > tight.values().stream().mapToInt(Integer::intValue).sum());
  }

  @Test
  void anUnreachableBudgetGivesTwoClustersEverywhere() {
    LayerAllocation.Result r = LayerAllocation.allocate(TARGETS, values(), 16, ClusterSettings.of(16, 0),
        new RateControl.Target(RateControl.Kind.BITS_PER_WEIGHT, 0.1, true), null);
    assertFalse(r.withinBudget());
    assertEquals(Map.of("gaussian", 2, "heavy_tailed", 2, "small", 2), r.clusters());
  }

  private static WeightTensor matrix(String name, int rows) {
    return new WeightTensor(name, name + "_handle", "MatMul", new long[] {rows, 16}, rows * 16, rows * 16,
        "DT_FLOAT", true, "clusterable", new OutputChannels(16, 1));
  }

  /**
   * A zipped-size budget is stated in, and met in, the zipped file: the allocation's clusterings written
   * into the synthetic model file of {@link ZippedSizePredictorTest} (one weight stored transposed, as
   * FULLY_CONNECTED stores it, between other bytes) and zipped by java.util.zip come within the budget,
   * at exactly the size the allocation reports.
   */
  @ParameterizedTest
  @ValueSource(doubles = {0.12, 0.25, 0.4})
  void aSizeBudgetIsMetInTheZippedFile(double fraction) {
    List<WeightTensor> targets = List.of(matrix("a", 300), matrix("b", 40));
    Random random = new Random(5);
    float[] a = new float[300 * 16];
    float[] b = new float[40 * 16];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (random.nextGaussian() * 0.05);
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) (random.nextGaussian() * Math.exp(random.nextGaussian()));
    }
    List<float[]> values = List.of(a, b);
    long original = ZippedSizePredictorTest.zipOfFile(targets, values);
    double budget = fraction * original;
    LayerAllocation.Result r = LayerAllocation.allocate(targets, values, 64, ClusterSettings.of(64, 0),
        new RateControl.Target(RateControl.Kind.ZIPPED_BYTES, budget, true),
        ZippedSizePredictorTest.predictorOf(targets, values));
    assertTrue(r.withinBudget(), r.toString());
    List<float[]> clustered = new java.util.ArrayList<>();
    for (int l = 0; l < targets.size(); l++) {
      ClusterSettings s = new ClusterSettings(r.clusters().get(targets.get(l).name()), InitMethod.OPTIMAL, false,
          Granularity.TENSOR, false, 0);
      clustered.add(WeightClusterer.cluster(values.get(l), targets.get(l).channels(), s).reconstruct());
    }
    long zipped = ZippedSizePredictorTest.zipOfFile(targets, clustered);
    assertEquals(zipped, r.reached(), 0.0);
    assertTrue(zipped <= budget, zipped + " > " + budget);
  }

  @Test
  void aSizeBudgetBelowTwoClustersEverywhereIsNotReached() {
    List<WeightTensor> targets = List.of(matrix("a", 300), matrix("b", 40));
    Random random = new Random(6);
    float[] a = new float[300 * 16];
    float[] b = new float[40 * 16];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) random.nextGaussian();
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) random.nextGaussian();
    }
    List<float[]> values = List.of(a, b);
    LayerAllocation.Result r = LayerAllocation.allocate(targets, values, 16, ClusterSettings.of(16, 0),
        new RateControl.Target(RateControl.Kind.ZIPPED_BYTES, 100, true),
        ZippedSizePredictorTest.predictorOf(targets, values));
    assertFalse(r.withinBudget());
    assertEquals(Map.of("a", 2, "b", 2), r.clusters());
    assertTrue(r.reached() > 100);
  }
}

package org.wclust.internal.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.TfJavaModels;
import org.wclust.internal.load.ModelLoader;

/** WeightDiscovery on a dense layer built and exported with TF Java (VariableV2 kernel and bias). */
class WeightDiscoveryTest {
  @TempDir Path tmp;

  /** Distinct values: {1, 0, 2, 3, -1} = 5 (+0 and -0 are one). */
  private static final float[][] KERNEL = {
      {1f, 1f, 0f},
      {-0f, 2f, 3f},
      {3f, -1f, 1f},
      {0f, 2f, 2f}};
  private static final float[] BIAS = {4f, 4f, 4f};

  private List<WeightTensor> discover() throws Exception {
    return WeightDiscovery.discover(
        ModelLoader.load(TfJavaModels.exportDense(tmp.resolve("m"), KERNEL, BIAS), "serving_default"));
  }

  @Test
  void findsKernelThenBiasWithNamesAndHandles() throws Exception {
    List<WeightTensor> weights = discover();
    assertEquals(List.of("dense/kernel", "dense/bias"), weights.stream().map(WeightTensor::name).toList());
    assertEquals(List.of("dense/kernel/wclust_handle", "dense/bias/wclust_handle"),
        weights.stream().map(WeightTensor::handleNode).toList());
  }

  @Test
  void kernelIsAClusterableMatMulWeight() throws Exception {
    WeightTensor kernel = discover().get(0);
    assertEquals("MatMul", kernel.op());
    assertArrayEquals(new long[] {4, 3}, kernel.shape());
    assertEquals(12, kernel.params());
    assertEquals(5, kernel.distinctValues());
    assertEquals("DT_FLOAT", kernel.dtype());
    assertTrue(kernel.clusterable());
    assertEquals("weight of MatMul", kernel.reason());
  }

  @Test
  void biasFeedsAddAndIsNotClusterable() throws Exception {
    WeightTensor bias = discover().get(1);
    assertEquals("Add", bias.op());
    assertArrayEquals(new long[] {3}, bias.shape());
    assertEquals(3, bias.params());
    assertEquals(1, bias.distinctValues());
    assertFalse(bias.clusterable());
    assertEquals("not a weight of a conv, matmul, einsum or gather", bias.reason());
  }

  @Test
  void distinctCountsSignedZeroOnce() {
    assertEquals(3, WeightDiscovery.distinct(new float[] {0f, -0f, 1.5f, 1.5f, -1.5f}));
  }
}

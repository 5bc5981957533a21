package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.common.collect.ImmutableList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.GraphDef;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightTensor;

/**
 * A ReLU layer {@code relu(x·W + b)} on non-negative inputs, computed here in Java, with two dead units:
 * unit 3 just below zero (bias −0.05), unit 4 far below (bias −100). The tensor's most frequent centroid is
 * positive: on it unit 4 stays dead, but unit 3 would fire. The squeeze must put unit 4 on that centroid,
 * unit 3 on the next most frequent one that keeps it dead, and leave every live unit and every output as
 * they were.
 */
class DeadUnitSqueezeTest {
  private static final int IN = 6;
  private static final int OUT = 5;
  private static final int EXAMPLES = 64;
  /** Centroid 2 (0.3) gets the most members, centroid 1 (−0.1) the second most. */
  private static final float[] CODEBOOK = {-0.5f, -0.1f, 0.3f, 0.8f};
  private static final float[] BIAS = {0.5f, 0.5f, 0.5f, -0.05f, -100f};
  private static final float[] X = inputs();

  private static float[] inputs() {
    Random random = new Random(11);
    float[] x = new float[EXAMPLES * IN];
    for (int i = 0; i < x.length; i++) {
      x[i] = random.nextFloat(); // ≥ 0, like the output of a ReLU
    }
    return x;
  }

  /**
   * Indices of W [IN, OUT], row-major: unit 3's weights on −0.5 but one on −0.1 (so it is dead), unit 4's on
   * 0.8, the live units' on −0.1 and 0.3: counts 5, 7, 12, 6.
   */
  private static int[] indices() {
    int[] indices = new int[IN * OUT];
    for (int i = 0; i < IN; i++) {
      for (int u = 0; u < OUT; u++) {
        indices[i * OUT + u] = u == 3 ? (i < IN - 1 ? 0 : 1) : u == 4 ? 3 : u < 2 && i < 3 ? 1 : 2;
      }
    }
    return indices;
  }

  /** relu(x·W + b) for every example. */
  private static float[] relu(float[] w) {
    float[] y = new float[EXAMPLES * OUT];
    for (int e = 0; e < EXAMPLES; e++) {
      for (int u = 0; u < OUT; u++) {
        double z = BIAS[u];
        for (int i = 0; i < IN; i++) {
          z += X[e * IN + i] * (double) w[i * OUT + u];
        }
        y[e * OUT + u] = (float) Math.max(0, z);
      }
    }
    return y;
  }

  /** The Fisher's zero pattern: a weight is reached where its unit fires on some example (every x > 0). */
  private static float[] fisher(float[] w) {
    float[] y = relu(w);
    float[] f = new float[IN * OUT];
    for (int u = 0; u < OUT; u++) {
      boolean fires = false;
      for (int e = 0; e < EXAMPLES; e++) {
        fires |= y[e * OUT + u] > 0;
      }
      for (int i = 0; i < IN; i++) {
        f[i * OUT + u] = fires ? 1f : 0f;
      }
    }
    return f;
  }

  private static ClusteredModel model(int[] indices) {
    WeightTensor w = new WeightTensor("dense/kernel", "kernel_handle", "MatMul", new long[] {IN, OUT}, IN * OUT,
        IN * OUT, "DT_FLOAT", true, "clusterable", new OutputChannels(OUT, 1));
    ClusterSettings settings = new ClusterSettings(CODEBOOK.length, InitMethod.OPTIMAL, false, Granularity.TENSOR,
        false, 0);
    TensorClustering c = new TensorClustering(CODEBOOK, indices, 1, 0, CODEBOOK.length, false, 0);
    ClusteredLayer layer = new ClusteredLayer(w, settings, c, "centroids_handle", "indices_handle",
        "scale_handle", null, false, CodebookLayout.of(indices, Granularity.TENSOR, w.channels()),
        "gather:0", "gather:0");
    Map<String, ModelVariable> variables = Map.of(
        "kernel_handle", new ModelVariable("kernel_handle", "kernel", HostTensor.ofFloats(w.shape(), c.reconstruct())),
        "indices_handle", new ModelVariable("indices_handle", "indices", HostTensor.ofInts(w.shape(), indices)));
    return new ClusteredModel(FlatModel.of(GraphDef.getDefaultInstance(), null, variables), ImmutableList.of(layer));
  }

  private static DeadUnitSqueeze.Result squeeze(ClusteredModel tuned) {
    float[] w = tuned.layers().get(0).clustering().reconstruct();
    return DeadUnitSqueeze.squeeze(tuned, List.of(w), Map.of("dense/kernel", fisher(w)),
        layers -> relu(layers.get(0).clustering().reconstruct()), DeadUnitSqueeze.MAX_EVALUATIONS);
  }

  @Test
  void deadUnitsGoToTheMostFrequentCentroidThatKeepsThemDead() {
    int[] before = indices();
    float[] w = model(before).layers().get(0).clustering().reconstruct();
    assertEquals(List.of(3, 4), DeadUnitSqueeze.deadUnits(fisher(w), OUT), "the fixture's dead units");
    assertEquals(List.of(2, 1, 3, 0), DeadUnitSqueeze.mostFrequent(before, CODEBOOK.length));
    // The fixture's point: on the most frequent centroid, unit 3 would fire.
    int[] revived = before.clone();
    for (int i = 0; i < IN; i++) {
      revived[i * OUT + 3] = 2;
    }
    assertFalse(java.util.Arrays.equals(relu(w), relu(model(revived).layers().get(0).clustering().reconstruct())));

    DeadUnitSqueeze.Result r = squeeze(model(before));
    int[] after = r.model().layers().get(0).clustering().indices();
    for (int i = 0; i < IN; i++) {
      for (int u = 0; u < OUT; u++) {
        int expected = u == 4 ? 2 : u == 3 ? 1 : before[i * OUT + u];
        assertEquals(expected, after[i * OUT + u], "row " + i + ", unit " + u);
      }
    }
    assertEquals(2, r.deadUnits());
    assertEquals(2, r.collapsedUnits());
    assertEquals(IN - 1 + IN, r.weightsMoved(), "unit 3: all but its weight already on −0.1; unit 4: all");
    assertArrayEquals(relu(w), relu(r.model().layers().get(0).clustering().reconstruct()), "outputs unchanged");
    assertArrayEquals(after, r.model().model().variables().get("indices_handle").value().toInts(),
        "the model holds the new indices");
    assertArrayEquals(CODEBOOK, r.model().layers().get(0).clustering().codebook());
  }

  /**
   * With 4 output passes, the reference takes one, units 3 and 4 together on the most frequent centroid a
   * second (unit 3 fires: refused), unit 3 alone a third (refused) and unit 4 alone the last (kept): unit 3
   * has no pass left for the next centroid.
   */
  @Test
  void theCallersPassesBoundTheTries() {
    int[] before = indices();
    float[] w = model(before).layers().get(0).clustering().reconstruct();
    DeadUnitSqueeze.Result r = DeadUnitSqueeze.squeeze(model(before), List.of(w), Map.of("dense/kernel", fisher(w)),
        layers -> relu(layers.get(0).clustering().reconstruct()), 4);
    assertEquals(4, r.evaluations());
    assertEquals(1, r.collapsedUnits());
    int[] after = r.model().layers().get(0).clustering().indices();
    for (int i = 0; i < IN; i++) {
      assertEquals(2, after[i * OUT + 4], "unit 4 on the most frequent centroid");
      assertEquals(before[i * OUT + 3], after[i * OUT + 3], "unit 3 as it was");
    }
    assertArrayEquals(relu(w), relu(r.model().layers().get(0).clustering().reconstruct()), "outputs unchanged");
  }

  @Test
  void aTensorThatNoExampleReachesStaysAsItIs() {
    ClusteredModel tuned = model(indices());
    DeadUnitSqueeze.Result r = DeadUnitSqueeze.squeeze(tuned, List.of(new float[IN * OUT]),
        Map.of("dense/kernel", new float[IN * OUT]), layers -> relu(layers.get(0).clustering().reconstruct()),
        DeadUnitSqueeze.MAX_EVALUATIONS);
    assertEquals(0, r.deadUnits());
    assertEquals(0, r.weightsMoved());
    assertSame(tuned.layers().get(0).clustering().indices(), r.model().layers().get(0).clustering().indices());
  }
}

package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightTensor;
import org.tensorflow.proto.GraphDef;

/**
 * The trim of a fine-tuned model brings its index bits within a budget by moving weights to
 * neighbouring centroids, centroids unchanged, and writes the new indices into the model.
 */
class BudgetTrimTest {
  private static final int N = 20_000;
  private static final int K = 8;

  /** A "fine-tuned" layer: latent Laplacian-ish weights, minimum-SSE centroids, nearest indices. */
  private static ClusteredModel model(float[] trainable) {
    Random random = new Random(5);
    float[] latent = new float[N];
    for (int i = 0; i < N; i++) {
      latent[i] = (float) (random.nextGaussian() * random.nextGaussian() * 0.05);
    }
    WeightTensor w = new WeightTensor("dense/kernel", "kernel_handle", "MatMul", new long[] {N / 16, 16}, N, N,
        "DT_FLOAT", true, "clusterable", new OutputChannels(16, 1));
    ClusterSettings settings = new ClusterSettings(K, InitMethod.OPTIMAL, false, Granularity.TENSOR, false, 0);
    TensorClustering c = WeightClusterer.cluster(latent, w.channels(), settings);
    ClusteredLayer layer = new ClusteredLayer(w, settings, c, "centroids_handle", "indices_handle",
        "scale_handle", trainable, false, CodebookLayout.of(c.indices(), Granularity.TENSOR, w.channels()),
        "gather:0", "gather:0");
    Map<String, ModelVariable> variables = Map.of(
        "kernel_handle", new ModelVariable("kernel_handle", "kernel", HostTensor.ofFloats(w.shape(), latent)),
        "indices_handle", new ModelVariable("indices_handle", "indices", HostTensor.ofInts(w.shape(), c.indices())));
    return new ClusteredModel(FlatModel.of(GraphDef.getDefaultInstance(), null, variables), ImmutableList.of(layer));
  }

  private static double bits(ClusteredLayer l) {
    return RateDistortion.indexBits(l.clustering().indices(), l.clustering().codebook().length) / N;
  }

  private static float[] latent(ClusteredModel m) {
    return m.model().variables().get("kernel_handle").value().toFloats();
  }

  private static double sse(float[] x, TensorClustering c) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      double d = x[i] - c.codebook()[c.indices()[i]];
      s += d * d;
    }
    return s;
  }

  @Test
  void movesBorderWeightsToNeighbouringCentroidsUntilTheBudgetIsMet() {
    ClusteredModel tuned = model(null);
    ClusteredLayer before = tuned.layers().get(0);
    double budget = 0.85 * bits(before);
    BudgetTrim.Result r = BudgetTrim.trim(tuned, List.of(latent(tuned)),
        layers -> RateControl.measure(layers, RateControl.Kind.BITS_PER_WEIGHT, null), budget);
    ClusteredLayer after = r.model().layers().get(0);
    double reached = bits(after);
    assertEquals(reached, r.reached(), 1e-9);
    assertEquals(bits(before), r.before(), 1e-9);
    assertTrue(reached <= budget && reached >= 0.99 * budget, reached + " bits for a budget of " + budget);
    assertArrayEquals(before.clustering().codebook(), after.clustering().codebook());
    assertArrayEquals(after.clustering().indices(),
        r.model().model().variables().get("indices_handle").value().toInts(), "the model holds the new indices");
    // Each moved weight went to a centroid next to its nearest one (in sorted order), and the squared
    // error added is small against what the clustering already had.
    float[] codebook = before.clustering().codebook();
    Integer[] order = new Integer[codebook.length];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, (a, b) -> Float.compare(codebook[a], codebook[b]));
    int[] rank = new int[codebook.length];
    for (int p = 0; p < order.length; p++) {
      rank[order[p]] = p;
    }
    int moved = 0;
    for (int i = 0; i < N; i++) {
      int was = before.clustering().indices()[i];
      int now = after.clustering().indices()[i];
      if (was != now) {
        moved++;
        assertTrue(Math.abs(rank[was] - rank[now]) <= 2, "weight " + i + " moved from " + was + " to " + now);
      }
    }
    assertTrue(moved > 0);
    float[] x = latent(tuned);
    double added = sse(x, after.clustering()) - sse(x, before.clustering());
    assertTrue(added > 0 && added < 0.5 * sse(x, before.clustering()), "added SSE " + added);
    assertEquals(sse(x, after.clustering()), after.clustering().sse(), 1e-6 * after.clustering().sse());
  }

  @Test
  void aModelWithinTheBudgetIsLeftAsItIs() {
    ClusteredModel tuned = model(null);
    double now = bits(tuned.layers().get(0));
    BudgetTrim.Result r = BudgetTrim.trim(tuned, List.of(latent(tuned)),
        layers -> RateControl.measure(layers, RateControl.Kind.BITS_PER_WEIGHT, null), now);
    assertSame(tuned, r.model());
    assertEquals(0, r.multiplier());
  }

  @Test
  void pinnedCentroidsNeitherLoseNorGainMembers() {
    float[] trainable = new float[K];
    Arrays.fill(trainable, 1);
    ClusteredModel probe = model(null);
    int[] indices = probe.layers().get(0).clustering().indices();
    // Pin the centroid of the most weights (the central one, where a trim would move weights to).
    long[] counts = new long[K];
    for (int i : indices) {
      counts[i]++;
    }
    int pinned = 0;
    for (int e = 1; e < K; e++) {
      pinned = counts[e] > counts[pinned] ? e : pinned;
    }
    trainable[pinned] = 0;
    ClusteredModel tuned = model(trainable);
    BudgetTrim.Result r = BudgetTrim.trim(tuned, List.of(latent(tuned)),
        layers -> RateControl.measure(layers, RateControl.Kind.BITS_PER_WEIGHT, null),
        0.9 * bits(tuned.layers().get(0)));
    int[] after = r.model().layers().get(0).clustering().indices();
    for (int i = 0; i < N; i++) {
      assertEquals(indices[i] == pinned, after[i] == pinned, "weight " + i);
    }
  }

  @Test
  void withImportancesTheMovesGoToTheWeightsThatMatterLeast() {
    ClusteredModel tuned = model(null);
    ClusteredLayer before = tuned.layers().get(0);
    // A random fifth of the weights matter 1,000 times less (as weights that no example's gradient
    // reaches, a dead unit's, do in a diagonal Fisher).
    Random random = new Random(11);
    float[] importance = new float[N];
    int unimportant = 0;
    for (int i = 0; i < N; i++) {
      boolean low = random.nextInt(5) == 0;
      importance[i] = low ? 1e-3f : 1f;
      unimportant += low ? 1 : 0;
    }
    double budget = 0.85 * bits(before);
    float[] x = latent(tuned);
    BudgetTrim.Result weighted = BudgetTrim.trim(tuned, List.of(x), Map.of("dense/kernel", importance),
        layers -> RateControl.measure(layers, RateControl.Kind.BITS_PER_WEIGHT, null), budget);
    BudgetTrim.Result plain = BudgetTrim.trim(tuned, List.of(x),
        layers -> RateControl.measure(layers, RateControl.Kind.BITS_PER_WEIGHT, null), budget);
    double reached = bits(weighted.model().layers().get(0));
    assertTrue(reached <= budget && reached >= 0.99 * budget, reached + " bits for a budget of " + budget);

    int[] was = before.clustering().indices();
    int[] now = weighted.model().layers().get(0).clustering().indices();
    int moved = 0;
    int movedUnimportant = 0;
    for (int i = 0; i < N; i++) {
      if (was[i] != now[i]) {
        moved++;
        movedUnimportant += importance[i] < 1 ? 1 : 0;
      }
    }
    assertTrue(moved > 0);
    // Important weights on a border still move (to either side costs them about the same), but the
    // unimportant ones move at least three times as often as their share.
    assertTrue(movedUnimportant / (double) moved > 3 * unimportant / (double) N,
        movedUnimportant + " of " + moved + " moved weights are of the " + unimportant + " unimportant ones");
    // The point of the weights: the same budget at a smaller importance-weighted error than the plain trim's.
    double weightedAdded = weightedSse(x, importance, weighted.model().layers().get(0).clustering())
        - weightedSse(x, importance, before.clustering());
    double plainAdded = weightedSse(x, importance, plain.model().layers().get(0).clustering())
        - weightedSse(x, importance, before.clustering());
    assertTrue(weightedAdded < 0.5 * plainAdded, "weighted trim added " + weightedAdded + ", plain " + plainAdded);
  }

  private static double weightedSse(float[] x, float[] w, TensorClustering c) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      double d = x[i] - c.codebook()[c.indices()[i]];
      s += w[i] * d * d;
    }
    return s;
  }
}

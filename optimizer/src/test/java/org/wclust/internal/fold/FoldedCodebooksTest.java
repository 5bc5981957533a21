package org.wclust.internal.fold;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import com.google.common.collect.ImmutableList;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.GraphDef;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.ServingSignature;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.graph.WeightTensor;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.Granularity;
import org.wclust.internal.cluster.TensorClustering;
import org.wclust.internal.cluster.WeightClusterer;
import org.wclust.internal.graph.OutputChannels;

class FoldedCodebooksTest {
  private static final int CHANNELS = 32;
  private static final int PER_CHANNEL = 200;

  /** A folded [PER_CHANNEL, CHANNELS] kernel: Gaussian weights, channel c multiplied by scale[c]. */
  private static float[] folded(float[] scale, long seed) {
    Random r = new Random(seed);
    float[] w = new float[CHANNELS * PER_CHANNEL];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) r.nextGaussian() * scale[i % CHANNELS];
    }
    return w;
  }

  private static final OutputChannels LAYOUT = new OutputChannels(CHANNELS, 1);

  @Test
  void alikeFactorsKeepOneCodebook() {
    float[] scale = new float[CHANNELS];
    java.util.Arrays.fill(scale, 0.7f);
    Map<String, float[]> importance = new HashMap<>();
    FoldedCodebooks.Choice c = FoldedCodebooks.choose("k", folded(scale, 1), scale, LAYOUT, ClusterSettings.of(8, 0),
        importance, 1);
    assertEquals(Granularity.TENSOR, c.granularity());
    assertEquals(CHANNELS * PER_CHANNEL, importance.get("k").length);
  }

  @Test
  void spreadBelowTheThresholdIsNotWeightedAndKeepsOneCodebookWhileItsOutputErrorIsCloseToUnfolded() {
    // Gaussian weights, factors spread 2x: one folded codebook costs little against clustering unfolded.
    float[] scale = new float[CHANNELS];
    for (int c = 0; c < CHANNELS; c++) {
      scale[c] = 1 + c / (float) (CHANNELS - 1);
    }
    float[] w = folded(scale, 3);
    Map<String, float[]> importance = new HashMap<>();
    FoldedCodebooks.Choice c = FoldedCodebooks.choose("k", w, scale, LAYOUT, ClusterSettings.of(16, 0),
        importance, FoldedCodebooks.DEFAULT_SPREAD);
    assertEquals(Granularity.TENSOR, c.granularity(), c.reason());
    assertTrue(importance.isEmpty(), "no weights below the threshold");
    double ratio = foldedError(w, LAYOUT, Granularity.TENSOR) / unfoldedThenFoldedError(w, scale);
    assertEquals(ratio, c.errorRatio(), 1e-6 * ratio, c.reason());
    assertTrue(ratio <= FoldedCodebooks.OUTPUT_ERROR_RATIO, c.reason());
  }

  /**
   * Uniform weights (a random initialisation) with factors spread 5x: one folded codebook has about twice
   * the output error of clustering the unfolded kernel and folding afterwards, so the kernel gets
   * codebooks over channels grouped by factor, the fewest whose error is no larger than that.
   */
  @Test
  void uniformWeightsWithSpreadFactorsGetFactorGroupsNoWorseThanClusteringUnfolded() {
    float[] scale = new float[CHANNELS];
    for (int c = 0; c < CHANNELS; c++) {
      scale[c] = 0.3f + 1.2f * c / (CHANNELS - 1);
    }
    Random r = new Random(5);
    float[] w = new float[CHANNELS * PER_CHANNEL];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextDouble() * 2 - 1) * scale[i % CHANNELS];
    }
    FoldedCodebooks.Choice c = FoldedCodebooks.choose("k", w, scale, LAYOUT, ClusterSettings.of(16, 0),
        new HashMap<>(), FoldedCodebooks.DEFAULT_SPREAD);
    double reference = unfoldedThenFoldedError(w, scale);
    assertTrue(foldedError(w, LAYOUT, Granularity.TENSOR) > FoldedCodebooks.OUTPUT_ERROR_RATIO * reference,
        "expected one folded codebook to be well above clustering unfolded");
    assertNotEquals(Granularity.TENSOR, c.granularity(), c.reason());
    assertTrue(c.reason().contains("output error"), c.reason());
    double chosen = foldedError(w, LAYOUT, c.granularity());
    assertTrue(chosen <= reference, c + ": " + chosen + " against " + reference);
    assertEquals(chosen / reference, c.errorRatio(), 1e-6, c.reason());
    // The fewest codebooks: half as many factor groups would have more error than the reference.
    int groups = c.granularity().groups(CHANNELS);
    if (groups > 2 && groups < CHANNELS) {
      Granularity fewer = Granularity.byChannel(FoldedCodebooks.factorGroups(toDoubles(scale), groups / 2));
      assertTrue(foldedError(w, LAYOUT, fewer) > reference, c.toString());
    }
  }

  @Test
  void groupingsRuledOutByTheLowerBoundWouldHaveFailedAndTheChoiceIsTheExhaustiveSearchs() {
    // A large folded kernel (3x3x256 inputs, 64 output channels): uniform weights, factors spread up to 9x, as
    // in a network with random BatchNorm statistics. At k = 4 the groupings of 2 to 32 codebooks have
    // enough values per group to be bounded.
    int channels = 64;
    int k = 4;
    OutputChannels layout = new OutputChannels(channels, 1);
    Random r = new Random(5);
    double[] factor = new double[channels];
    for (int c = 0; c < channels; c++) {
      factor[c] = 0.3 + 2.4 * r.nextDouble();
    }
    float[] folded = new float[3 * 3 * 256 * channels];
    for (int i = 0; i < folded.length; i++) {
      folded[i] = (float) ((r.nextDouble() * 2 - 1) * factor[i % channels]);
    }
    ClusterSettings settings = optimal(k);
    // The reference as the rule defines it: the unfolded kernel clustered, its error measured folded.
    float[] unfolded = new float[folded.length];
    for (int i = 0; i < folded.length; i++) {
      unfolded[i] = (float) (folded[i] / factor[i % channels]);
    }
    TensorClustering u = WeightClusterer.cluster(unfolded, layout, settings);
    double reference = 0;
    for (int i = 0; i < folded.length; i++) {
      double e = factor[i % channels] * (unfolded[i] - (double) u.codebook()[u.indices()[i]]);
      reference += e * e;
    }
    assertTrue(WeightClusterer.cluster(folded, layout, settings).sse()
        > FoldedCodebooks.OUTPUT_ERROR_RATIO * reference, "one folded codebook must not qualify here");

    // Every grouping solved, as the rule did before the bound: the first no worse than the reference.
    Granularity expected = Granularity.CHANNEL;
    double expectedRatio = Double.NaN;
    for (int groups = 2; groups < channels; groups *= 2) {
      Granularity g = Granularity.byChannel(FoldedCodebooks.factorGroups(factor, groups));
      double ratio = WeightClusterer.cluster(folded, layout, settings.withGranularity(g)).sse() / reference;
      if (ratio <= 1) {
        expected = g;
        expectedRatio = ratio;
        break;
      }
    }
    double spread = java.util.Arrays.stream(factor).max().getAsDouble() / java.util.Arrays.stream(factor).min().getAsDouble();
    FoldedCodebooks.Choice choice = FoldedCodebooks.againstUnfolded("k", folded, factor, layout, settings, spread,
        FoldedCodebooks.DEFAULT_SPREAD, new HashMap<>());
    assertEquals(expected, choice.granularity(), choice.toString());
    assertEquals(expectedRatio, choice.errorRatio(), choice.toString());
    // One codebook was ruled out by its bound too, which the reason gives.
    double oneExact = WeightClusterer.cluster(folded, layout, settings).sse() / reference;
    double oneBound = new FoldedCodebooks.GroupingBound(folded, null, layout, k, reference)
        .lowerBound(Granularity.TENSOR) / reference;
    assertTrue(oneBound > FoldedCodebooks.OUTPUT_ERROR_RATIO && oneBound <= oneExact, oneBound + " vs " + oneExact);
    assertTrue(choice.reason().contains(String.format("one folded codebook has at least %.3gx", oneBound)),
        choice.reason());

    // The bound did rule groupings out, and only ones whose solved error is above the reference.
    FoldedCodebooks.GroupingBound bound = new FoldedCodebooks.GroupingBound(folded, null, layout, k, reference);
    for (int groups = 2; groups < channels; groups *= 2) {
      Granularity g = Granularity.byChannel(FoldedCodebooks.factorGroups(factor, groups));
      if (!bound.exceeded(g)) {
        break;
      }
      assertTrue(WeightClusterer.cluster(folded, layout, settings.withGranularity(g)).sse() > reference,
          groups + " groups ruled out");
    }
    assertTrue(bound.ruledOut() >= 2, bound.ruledOut() + " groupings ruled out");
  }

  /** Squared error of the optimal clustering into 16 values per codebook of the folded kernel. */
  private static double foldedError(float[] w, OutputChannels layout, Granularity g) {
    return WeightClusterer.cluster(w, layout, optimal(16).withGranularity(g)).sse();
  }

  /** The folded kernel divided by its factors, clustered as one tensor, multiplied back: its squared error. */
  private static double unfoldedThenFoldedError(float[] w, float[] scale) {
    float[] unfolded = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      unfolded[i] = w[i] / scale[i % CHANNELS];
    }
    TensorClustering u = WeightClusterer.cluster(unfolded, LAYOUT, optimal(16));
    double sum = 0;
    for (int i = 0; i < w.length; i++) {
      double e = scale[i % CHANNELS] * (unfolded[i] - (double) u.codebook()[u.indices()[i]]);
      sum += e * e;
    }
    return sum;
  }

  private static ClusterSettings optimal(int k) {
    return new ClusterSettings(k, org.wclust.internal.cluster.InitMethod.OPTIMAL, false, Granularity.TENSOR, false, 0);
  }

  private static double[] toDoubles(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  @Test
  void widelySpreadFactorsGetCodebooksThatKeepEveryChannelWithinTheTolerance() {
    // Factors over four orders of magnitude, as in trained networks' depthwise layers.
    float[] scale = new float[CHANNELS];
    for (int c = 0; c < CHANNELS; c++) {
      scale[c] = (float) Math.pow(10, -2 + 4.0 * c / (CHANNELS - 1));
    }
    float[] w = folded(scale, 2);
    Map<String, float[]> importance = new HashMap<>();
    // The default method at the rate weight ClusterRewriter gives a tensor of this size.
    ClusterSettings settings = ClusterSettings.of(8, 0).withRateWeight(16.0 * w.length / 200_000);
    FoldedCodebooks.Choice c = FoldedCodebooks.choose("k", w, scale, LAYOUT, settings, importance,
        FoldedCodebooks.DEFAULT_SPREAD);
    assertNotEquals(Granularity.TENSOR, c.granularity(), c.reason());
    assertTrue(c.errorRatio() <= FoldedCodebooks.TOLERANCE || c.granularity().equals(Granularity.CHANNEL),
        c.toString());

    // Clustered as chosen: at most k values in every channel, and the low-factor channels keep their
    // relative precision (unlike one plain codebook, which flattens them).
    TensorClustering chosen = WeightClusterer.cluster(w, importance.get("k"), LAYOUT, settings.withGranularity(
        c.granularity()));
    TensorClustering plain = WeightClusterer.cluster(w, LAYOUT, settings);
    for (int ch = 0; ch < CHANNELS; ch++) {
      Set<Float> values = new HashSet<>();
      for (int i = ch; i < w.length; i += CHANNELS) {
        values.add(chosen.codebook()[chosen.indices()[i]]);
      }
      assertTrue(values.size() <= 8, "channel " + ch + " has " + values.size() + " values");
    }
    assertTrue(relativeError(w, chosen, 0) < 0.5, c + " lowest-factor channel: " + relativeError(w, chosen, 0));
    assertTrue(relativeError(w, plain, 0) > 0.9, "expected one plain codebook to flatten channel 0");
  }

  private static double relativeError(float[] w, TensorClustering c, int channel) {
    double err = 0;
    double norm = 0;
    for (int i = channel; i < w.length; i += CHANNELS) {
      double e = w[i] - c.codebook()[c.indices()[i]];
      err += e * e;
      norm += w[i] * (double) w[i];
    }
    return Math.sqrt(err / norm);
  }

  /**
   * A folded kernel of at most 1,024 weights and 1 % of the clustered weights gets one codebook per
   * channel with its reason; a large one keeps one per tensor, with a larger knee rate weight; in a
   * model where that kernel is over 1 % of the weights it keeps one per tensor too.
   */
  @Test
  void smallFoldedKernelsGetOneCodebookPerChannelAndLargeOnesAStrongerKnee() {
    WeightTensor small = conv("small/kernel", 3, 3, 3, 16);
    WeightTensor large = conv("large/kernel", 1, 1, 200, 300);
    float[] ones16 = new float[16];
    float[] ones300 = new float[300];
    java.util.Arrays.fill(ones16, 1f);
    java.util.Arrays.fill(ones300, 1f);
    Map<String, ModelVariable> variables = new HashMap<>();
    variables.put(large.handleNode(), new ModelVariable(large.handleNode(), large.name(),
        HostTensor.ofFloats(large.shape(), gaussian(large.params()))));
    FlatModel model = FlatModel.of(GraphDef.getDefaultInstance(),
        new ServingSignature("serving_default", ImmutableList.of(), ImmutableList.of()), variables);
    List<BatchNormFolder.Fold> folds = List.of(fold(small, ones16), fold(large, ones300));
    FoldedCodebooks.Result r = FoldedCodebooks.choose(model, folds, List.of(small, large),
        Map.of(small.name(), 16, large.name(), 16), ClusterSettings.of(16, 0), FoldedCodebooks.DEFAULT_SPREAD, false);
    assertEquals(Granularity.CHANNEL, r.hints().granularity().get(small.name()));
    assertTrue(r.choices().get(0).reason().contains("one codebook per channel"), r.choices().get(0).reason());
    assertEquals(Granularity.TENSOR, r.choices().get(1).granularity());
    // 432 of 60,432 weights went per channel: the large kernel's rate weight grows by 60 times that share.
    assertEquals(1 + 60 * 432 / 60432.0, r.hints().rateScale().get(large.name()), 1e-12);
    assertEquals(1, r.hints().rateScale().size());

    // Only the small kernel and one of 10,000 weights: 432 weights are over 1 % of the model.
    WeightTensor medium = conv("medium/kernel", 1, 1, 100, 100);
    variables.put(medium.handleNode(), new ModelVariable(medium.handleNode(), medium.name(),
        HostTensor.ofFloats(medium.shape(), gaussian(medium.params()))));
    variables.put(small.handleNode(), new ModelVariable(small.handleNode(), small.name(),
        HostTensor.ofFloats(small.shape(), gaussian(small.params()))));
    FlatModel smallModel = FlatModel.of(GraphDef.getDefaultInstance(),
        new ServingSignature("serving_default", ImmutableList.of(), ImmutableList.of()), variables);
    float[] ones100 = new float[100];
    java.util.Arrays.fill(ones100, 1f);
    FoldedCodebooks.Result alone = FoldedCodebooks.choose(smallModel, List.of(fold(small, ones16), fold(medium, ones100)),
        List.of(small, medium), Map.of(small.name(), 16, medium.name(), 16), ClusterSettings.of(16, 0),
        FoldedCodebooks.DEFAULT_SPREAD, false);
    assertTrue(alone.hints().granularity().isEmpty(), alone.choices().toString());
    assertTrue(alone.hints().rateScale().isEmpty(), "no small kernel, no stronger knee");
  }

  private static WeightTensor conv(String name, long h, long w, long in, long out) {
    return new WeightTensor(name, name + "_handle", "Conv2D", new long[] {h, w, in, out}, h * w * in * out, 0,
        "float32", true, "", new OutputChannels((int) out, 1));
  }

  private static BatchNormFolder.Fold fold(WeightTensor w, float[] scale) {
    return new BatchNormFolder.Fold(w.name(), "bn", scale, null, null, null, null);
  }

  private static float[] gaussian(long n) {
    Random r = new Random(4);
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }
}

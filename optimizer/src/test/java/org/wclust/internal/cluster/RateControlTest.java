package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightTensor;

/** The multiplier search meets budgets stated in bits per weight and in zipped bytes. */
class RateControlTest {
  private static final int CHANNELS = 16;

  private static WeightTensor tensor(String name, int params) {
    return new WeightTensor(name, name + "_handle", "MatMul", new long[] {params / CHANNELS, CHANNELS}, params,
        params, "DT_FLOAT", true, "clusterable", new OutputChannels(CHANNELS, 1));
  }

  /** Two Laplacian-ish tensors of different sizes and scales, a fifth of the small one's values zero. */
  private static List<float[]> values() {
    Random random = new Random(3);
    float[] big = new float[12_000];
    for (int i = 0; i < big.length; i++) {
      big[i] = (float) (random.nextGaussian() * random.nextGaussian() * 0.02);
    }
    float[] small = new float[2_000];
    for (int i = 0; i < small.length; i++) {
      small[i] = i % 5 == 0 ? 0f : (float) (random.nextGaussian() * 0.3);
    }
    return List.of(big, small);
  }

  private static double bitsPerWeight(List<WeightTensor> targets, List<float[]> values, Map<String, Integer> plan,
      ClusterSettings settings) {
    List<ClusterSettings> layers = ClusterRewriter.layerSettings(targets, plan, settings);
    double bits = 0;
    long n = 0;
    for (int t = 0; t < targets.size(); t++) {
      TensorClustering c = WeightClusterer.cluster(values.get(t), targets.get(t).channels(), layers.get(t));
      bits += RateControl.indexBits(c, targets.get(t), layers.get(t));
      n += values.get(t).length;
    }
    return bits / n;
  }

  @ParameterizedTest
  @CsvSource({"16, tensor, false, 1.5", "16, tensor, true, 1.2", "4, channel, false, 1.2", "8, group:4, true, 1.6",
      "16, tensor, false, 2.5"})
  void searchHitsATargetInBitsPerWeight(int k, String granularity, boolean preserveSparsity, double target) {
    List<WeightTensor> targets = List.of(tensor("big", 12_000), tensor("small", 2_000));
    List<float[]> values = values();
    Map<String, Integer> plan = new LinkedHashMap<>(Map.of("big", k, "small", k));
    ClusterSettings settings = new ClusterSettings(k, InitMethod.KNEE, false, Granularity.parse(granularity),
        preserveSparsity, 0);
    RateControl.Found found = RateControl.search(targets, values, plan, settings,
        new RateControl.Target(RateControl.Kind.BITS_PER_WEIGHT, target), null);
    assertTrue(found.reached());
    // Recomputed independently of the search: cluster again at the multiplier found.
    double bits = bitsPerWeight(targets, values, plan, settings.withRateWeight(found.rateWeight()));
    assertEquals(found.predicted(), bits, 1e-9);
    assertTrue(bits <= target, bits + " bits > target " + target);
    assertTrue(bits >= 0.98 * target, bits + " bits, target " + target);
    if (preserveSparsity) {
      List<ClusterSettings> layers = ClusterRewriter.layerSettings(targets, plan,
          settings.withRateWeight(found.rateWeight()));
      float[] small = WeightClusterer.cluster(values.get(1), targets.get(1).channels(), layers.get(1)).reconstruct();
      for (int i = 0; i < small.length; i += 5) {
        assertEquals(0f, small[i], "pruned weight " + i + " stays zero");
      }
    }
  }

  /**
   * Below 8 clusters the share shrinks with (k / 8)²: at k = 2 the full weight all but empties one of a
   * Gaussian tensor's two clusters (about the tensor's variance as error, against 0.36 of it at the
   * optimum), the scaled weight stays near the optimum's squared error.
   */
  @Test
  void rateWeightSharesShrinkBelowEightClusters() {
    List<WeightTensor> targets = List.of(tensor("big", 200_000), tensor("small", 2_000));
    Map<String, Integer> plan = Map.of("big", 2, "small", 4);
    List<ClusterSettings> layers = ClusterRewriter.layerSettings(targets, plan, ClusterSettings.of(16, 0));
    assertEquals(16.0 / 16, layers.get(0).rateWeight(), 1e-12);
    assertEquals(16.0 / 4 * 2_000 / 200_000, layers.get(1).rateWeight(), 1e-12);
    assertEquals(1.0, ClusterRewriter.kneeScale(8));
    assertEquals(1.0, ClusterRewriter.kneeScale(16));

    Random random = new Random(5);
    float[] gaussian = new float[200_000];
    for (int i = 0; i < gaussian.length; i++) {
      gaussian[i] = (float) random.nextGaussian();
    }
    OutputChannels channels = targets.get(0).channels();
    double optimal = WeightClusterer.cluster(gaussian, channels, layers.get(0).withRateWeight(0)).sse();
    double scaled = WeightClusterer.cluster(gaussian, channels, layers.get(0)).sse();
    double full = WeightClusterer.cluster(gaussian, channels, layers.get(0).withRateWeight(16)).sse();
    assertTrue(scaled <= 1.2 * optimal, "k = 2 at the scaled weight: SSE " + scaled + " vs optimal " + optimal);
    assertTrue(full >= 2 * optimal, "k = 2 at the full weight: SSE " + full + " vs optimal " + optimal);
  }

  /**
   * A layer's share of the rate weight is W × its size relative to the largest (at least 200,000),
   * times k / 16 above 16 clusters; the larger share at k = 32 codes the indices in fewer bits.
   */
  @Test
  void rateWeightSharesGrowAboveSixteenClusters() {
    List<WeightTensor> targets = List.of(tensor("big", 12_000), tensor("small", 2_000));
    Map<String, Integer> plan = Map.of("big", 32, "small", 16);
    List<ClusterSettings> layers = ClusterRewriter.layerSettings(targets, plan, ClusterSettings.of(16, 0));
    assertEquals(16 * 2.0 * 12_000 / 200_000, layers.get(0).rateWeight(), 1e-12);
    assertEquals(16.0 * 2_000 / 200_000, layers.get(1).rateWeight(), 1e-12);
    assertEquals(32, layers.get(0).clusters());
    float[] big = values().get(0);
    double unscaled = RateControl.indexBits(WeightClusterer.cluster(big, targets.get(0).channels(),
        layers.get(0).withRateWeight(16.0 * 12_000 / 200_000)), targets.get(0), layers.get(0));
    double scaled = RateControl.indexBits(WeightClusterer.cluster(big, targets.get(0).channels(), layers.get(0)),
        targets.get(0), layers.get(0));
    assertTrue(scaled < unscaled, scaled + " bits with the k = 32 share, " + unscaled + " without");
  }

  @Test
  void searchHitsATargetInZippedBytes() {
    List<WeightTensor> targets = List.of(tensor("big", 12_000), tensor("small", 2_000));
    List<float[]> values = values();
    Map<String, Integer> plan = Map.of("big", 8, "small", 8);
    ClusterSettings settings = ClusterSettings.of(8, 0);
    ZippedSizePredictor size = ZippedSizePredictorTest.predictorOf(targets, values);
    // Three quarters of what minimum squared error zips to, the file around the weights included.
    List<ClusterSettings> optimal = ClusterRewriter.layerSettings(targets, plan, settings.withRateWeight(0));
    double target = 0.75 * ZippedSizePredictorTest.zipOfFile(targets, List.of(
        WeightClusterer.cluster(values.get(0), targets.get(0).channels(), optimal.get(0)).reconstruct(),
        WeightClusterer.cluster(values.get(1), targets.get(1).channels(), optimal.get(1)).reconstruct()));
    RateControl.Found found = RateControl.search(targets, values, plan, settings,
        new RateControl.Target(RateControl.Kind.ZIPPED_BYTES, target), size);
    assertTrue(found.reached());
    assertTrue(size.allFound());
    // Checked on the zip archive of the file itself, with the weights clustered at the multiplier found.
    List<ClusterSettings> layers = ClusterRewriter.layerSettings(targets, plan,
        settings.withRateWeight(found.rateWeight()));
    long bytes = ZippedSizePredictorTest.zipOfFile(targets, List.of(
        WeightClusterer.cluster(values.get(0), targets.get(0).channels(), layers.get(0)).reconstruct(),
        WeightClusterer.cluster(values.get(1), targets.get(1).channels(), layers.get(1)).reconstruct()));
    assertEquals(found.predicted(), bytes, 0.0);
    assertTrue(bytes <= target && bytes >= 0.99 * target, bytes + " bytes for a target of " + target);
  }

  @Test
  void extremeBudgets() {
    List<WeightTensor> targets = List.of(tensor("big", 12_000));
    // k clusters are kept, so a budget of almost nothing is not reached; the search goes far below
    // minimum SSE's ~3 bits before it gives up.
    RateControl.Found found = RateControl.search(targets, List.of(values().get(0)), Map.of("big", 8),
        ClusterSettings.of(8, 0), new RateControl.Target(RateControl.Kind.BITS_PER_WEIGHT, 1e-4), null);
    assertFalse(found.reached());
    assertTrue(found.predicted() > 1e-4 && found.predicted() < 1, "bits " + found.predicted());
    // A size no clustering reaches is reported as not reached.
    RateControl.Found tooSmall = RateControl.search(targets, List.of(values().get(0)), Map.of("big", 8),
        ClusterSettings.of(8, 0), new RateControl.Target(RateControl.Kind.ZIPPED_BYTES, 10),
        ZippedSizePredictorTest.predictorOf(targets, List.of(values().get(0))));
    assertFalse(tooSmall.reached());
    // A budget above what minimum SSE needs is met by minimum SSE (multiplier 0).
    RateControl.Found loose = RateControl.search(targets, List.of(values().get(0)), Map.of("big", 8),
        ClusterSettings.of(8, 0), new RateControl.Target(RateControl.Kind.BITS_PER_WEIGHT, 5), null);
    assertEquals(0, loose.rateWeight());
  }

  @Test
  void otherMethodsAreRefused() {
    ClusterSettings linear = new ClusterSettings(8, InitMethod.LINEAR, true, Granularity.TENSOR, false, 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RateControl.search(
        List.of(tensor("big", 12_000)), List.of(values().get(0)), Map.of("big", 8), linear,
        new RateControl.Target(RateControl.Kind.BITS_PER_WEIGHT, 2), null));
    assertTrue(e.getMessage().contains("--init linear"), e.getMessage());
  }

  @Test
  void deflatedBytesIsTheCompressedSizeOfAZipEntry() {
    for (float[] v : values()) {
      assertEquals(zipEntrySize(v), RateControl.deflatedBytes(v));
    }
  }

  /** The compressed size of a zip entry holding the values as little-endian float32. */
  private static long zipEntrySize(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    try (ByteArrayOutputStream out = new ByteArrayOutputStream(); ZipOutputStream zip = new ZipOutputStream(out)) {
      ZipEntry entry = new ZipEntry("model.tflite");
      zip.putNextEntry(entry);
      zip.write(bytes.array());
      zip.closeEntry();
      zip.finish();
      return entry.getCompressedSize();
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }
}

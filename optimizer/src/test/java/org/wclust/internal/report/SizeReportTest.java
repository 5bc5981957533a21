package org.wclust.internal.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.wclust.internal.bridge.TfliteSize;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.CodebookLayout;
import org.wclust.internal.cluster.Granularity;
import org.wclust.internal.cluster.InitMethod;
import org.wclust.internal.cluster.TensorClustering;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightTensor;

/** The packed and Huffman sizes of clustered layers, and the {@code size} JSON. */
class SizeReportTest {
  private static ClusteredLayer layer(int k, Granularity granularity, float[] codebook, int[] indices,
      int groups, OutputChannels channels) {
    WeightTensor w = new WeightTensor("dense/kernel", "dense/kernel_handle", "MatMul",
        new long[] {indices.length / channels.count(), channels.count()}, indices.length, codebook.length,
        "DT_FLOAT", true, "clusterable", channels);
    ClusterSettings settings = new ClusterSettings(k, InitMethod.DEFAULT, true, granularity, false, 0);
    return new ClusteredLayer(w, settings, new TensorClustering(codebook, indices, groups, 0, k, false, 0),
        "centroids", "indices", "gradient_scale", new float[codebook.length], false,
        CodebookLayout.of(indices, granularity, channels), "gather:0", "gather:0");
  }

  /** 9 weights of one codebook with the histogram {5, 2, 1, 1} (plus 4 unused centroids, k = 8). */
  private static ClusteredLayer skewed() {
    float[] codebook = {-3, -2, -1, 0, 1, 2, 3, 4};
    int[] indices = {0, 0, 0, 0, 0, 1, 1, 2, 3};
    return layer(8, Granularity.TENSOR, codebook, indices, 1, new OutputChannels(3, 1));
  }

  @Test
  void packedSizeIsCeilLog2KBitsPerWeightPlusAFloatPerCentroid() {
    ClusteredLayer l = skewed();
    // 9 weights x 3 bits + 8 centroids x 32 bits = 283 bits -> 36 bytes (rounded up).
    assertEquals(9 * 3 + 8 * 32, l.packedBits());
    SizeReport report = SizeReport.weightsOnly(List.of(l), "skipped");
    assertEquals(36, report.packedBytes());
    assertEquals(9 * 4, report.float32WeightBytes());
  }

  @Test
  void huffmanSizeCodesTheIndexHistogramPlusTheCodebook() {
    ClusteredLayer l = skewed();
    // Code lengths 1, 2, 3, 3 for counts 5, 2, 1, 1: 15 bits; plus 8 x 32 codebook bits = 271 -> 34 bytes.
    assertEquals(15, SizeReport.huffmanIndexBits(l));
    SizeReport report = SizeReport.weightsOnly(List.of(l), "skipped");
    assertEquals(15 + 256, report.layers().get(0).huffmanBits());
    assertEquals(34, report.huffmanBytes());
  }

  @Test
  void layersAreRoundedUpToBytesSeparately() {
    SizeReport report = SizeReport.weightsOnly(List.of(skewed(), skewed()), "skipped");
    assertEquals(2 * 36, report.packedBytes());
    assertEquals(2 * 34, report.huffmanBytes());
  }

  @Test
  void singleSymbolLayerCostsOneBitPerWeight() {
    ClusteredLayer l = layer(2, Granularity.TENSOR, new float[] {0.5f, 1}, new int[] {1, 1, 1, 1, 1, 1},
        1, new OutputChannels(2, 1));
    assertEquals(6, SizeReport.huffmanIndexBits(l));
  }

  @Test
  void perChannelCodebooksCodeTheIndexWithinTheCodebook() {
    // Two output channels (element i is in channel i % 2), one 2-entry codebook each: channel 0 uses
    // entries 0/1 with counts {3, 1}, channel 1 uses entries 2/3 with counts {1, 3}. The codebook is
    // known from the position, so the local indices are coded: ranked histograms {3, 1} + {3, 1} =
    // {6, 2} -> 1 bit per weight. The global histogram {3, 1, 1, 3} would take 2 bits per weight.
    int[] indices = {0, 2, 0, 3, 0, 3, 1, 3};
    ClusteredLayer l = layer(2, Granularity.CHANNEL, new float[] {-1, 1, -2, 2}, indices, 2,
        new OutputChannels(2, 1));
    assertEquals(8, SizeReport.huffmanIndexBits(l));
    assertEquals(8 * 1 + 4 * 32, l.packedBits());
  }

  @Test
  void perTensorCodebookIsOneHistogramEvenWhenChannelsUseDisjointEntries() {
    // Channel 0 uses entry 0 only, channel 1 entries 1-3; still one codebook of k = 4 entries: the
    // plain histogram {4, 2, 1, 1} -> lengths 1, 2, 3, 3.
    int[] indices = {0, 1, 0, 2, 0, 3, 0, 1};
    ClusteredLayer l = layer(4, Granularity.TENSOR, new float[] {0, 1, 2, 3}, indices, 1,
        new OutputChannels(2, 1));
    assertEquals(4 + 4 + 3 + 3, SizeReport.huffmanIndexBits(l));
  }

  @Test
  void perChannelCodebooksAfterInt8SnappingAreFoundFromTheIndices() {
    // k = 2 per tensor, but snapping gave each of the 3 channels its own 2 entries (6 > k): channel c
    // uses entries 2c and 2c+1 with counts {2, 1} -> ranked {6, 3} -> 1 bit per weight.
    int[] indices = {0, 2, 4, 0, 3, 4, 1, 2, 5};
    ClusteredLayer l = layer(2, Granularity.TENSOR, new float[] {-1, 1, -2, 2, -3, 3}, indices, 1,
        new OutputChannels(3, 1));
    assertEquals(9, SizeReport.huffmanIndexBits(l));
  }

  @Test
  void jsonWithoutTfliteHasTheNoteOnly() {
    JsonObject json = SizeReport.weightsOnly(List.of(skewed()), TfliteSizes.NO_PYTHON).toJson();
    assertFalse(json.has("original"));
    assertFalse(json.has("clustered"));
    assertFalse(json.has("ratio"));
    assertEquals(36, json.get("packed_bytes").getAsLong());
    assertEquals(34, json.get("huffman_bytes").getAsLong());
    assertEquals(36, json.get("float32_weight_bytes").getAsLong());
    assertTrue(json.get("tflite").getAsString().startsWith("Python TensorFlow not found; "));
    assertTrue(json.get("tflite").getAsString().contains("scripts/setup-python.sh"));
  }

  @Test
  void jsonWithTfliteHasBothSizesAndTheRatio() {
    SizeReport report = SizeReport.weightsOnly(List.of(skewed()), "skipped")
        .withTflite(new TfliteSize(1000, 900), new TfliteSize(1000, 300));
    JsonObject json = report.toJson();
    assertEquals(1000, json.getAsJsonObject("original").get("tflite_bytes").getAsLong());
    assertEquals(900, json.getAsJsonObject("original").get("zipped_tflite_bytes").getAsLong());
    assertEquals(300, json.getAsJsonObject("clustered").get("zipped_tflite_bytes").getAsLong());
    assertEquals(3.0, json.get("ratio").getAsDouble());
    assertFalse(json.has("tflite"));
  }
}

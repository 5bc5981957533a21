package org.wclust.internal.report;

import com.google.gson.JsonObject;
import java.util.Arrays;
import java.util.List;
import org.wclust.internal.bridge.TfliteSize;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.TensorClustering;
import org.wclust.internal.graph.OutputChannels;

/**
 * The {@code size} section of {@code wclust-report.json}: what the clustered weights need in a packed
 * and in a Huffman-coded codebook format, and, when Python TensorFlow converted them, the
 * {@code .tflite} sizes of the original and the clustered model.
 *
 * @param layers per clustered layer
 * @param original the original model's .tflite size, or null when not measured
 * @param clustered the clustered model's .tflite size, or null when not measured
 * @param tfliteNote why the .tflite sizes are missing, or null when they are present
 */
public record SizeReport(List<LayerSize> layers, TfliteSize original, TfliteSize clustered,
    String tfliteNote) {

  /**
   * Sizes of one clustered weight.
   *
   * @param name the weight's name
   * @param params number of weights
   * @param centroids codebook entries (all codebooks)
   * @param packedBits ⌈log2 k⌉ bits per weight plus 32 per centroid ({@link ClusteredLayer#packedBits()})
   * @param huffmanIndexBits the indices Huffman-coded (see {@link #huffmanIndexBits(ClusteredLayer)})
   */
  public record LayerSize(String name, long params, int centroids, long packedBits, long huffmanIndexBits) {
    /** Huffman-coded indices plus a float32 per centroid. */
    public long huffmanBits() {
      return huffmanIndexBits + 32L * centroids;
    }

    public static LayerSize of(ClusteredLayer layer) {
      return new LayerSize(layer.weight().name(), layer.weight().params(),
          layer.clustering().codebook().length, layer.packedBits(), SizeReport.huffmanIndexBits(layer));
    }
  }

  /** The weight figures only, with a note saying why there are no .tflite sizes. */
  public static SizeReport weightsOnly(List<ClusteredLayer> layers, String tfliteNote) {
    return new SizeReport(layers.stream().map(LayerSize::of).toList(), null, null, tfliteNote);
  }

  public SizeReport withTflite(TfliteSize original, TfliteSize clustered) {
    return new SizeReport(layers, original, clustered, null);
  }

  public SizeReport withTfliteNote(String note) {
    return new SizeReport(layers, null, null, note);
  }

  /** Whether both .tflite sizes were measured. */
  public boolean hasTflite() {
    return original != null && clustered != null;
  }

  /** Sum over layers of the packed size, each layer rounded up to whole bytes. */
  public long packedBytes() {
    return layers.stream().mapToLong(l -> bytes(l.packedBits())).sum();
  }

  /** Sum over layers of the Huffman-coded size (indices and codebook), each rounded up to whole bytes. */
  public long huffmanBytes() {
    return layers.stream().mapToLong(l -> bytes(l.huffmanBits())).sum();
  }

  /** The clustered weights stored as float32. */
  public long float32WeightBytes() {
    return layers.stream().mapToLong(l -> 4 * l.params()).sum();
  }

  /** Original zipped .tflite bytes / clustered zipped .tflite bytes. */
  public double ratio() {
    return (double) original.zippedBytes() / clustered.zippedBytes();
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    if (hasTflite()) {
      o.add("original", original.toJson());
      o.add("clustered", clustered.toJson());
      o.addProperty("ratio", ratio());
    }
    o.addProperty("packed_bytes", packedBytes());
    o.addProperty("huffman_bytes", huffmanBytes());
    o.addProperty("float32_weight_bytes", float32WeightBytes());
    if (tfliteNote != null) {
      o.addProperty("tflite", tfliteNote);
    }
    return o;
  }

  private static long bytes(long bits) {
    return (bits + 7) / 8;
  }

  /**
   * Bits of a layer's cluster indices under one Huffman code per layer, built from the layer's index
   * histogram. When the layer's codebook has at most k entries (one codebook per tensor) that is the
   * histogram of the indices. With more (one codebook per channel or group of channels; or per channel
   * after int8 snapping), each weight's codebook is known from its position, so what is coded is its
   * index within its codebook: the codebooks' histograms are merged entry by entry, each codebook's
   * entries ordered by decreasing count (a format would store each codebook in that order). The
   * codebooks are found from the indices: output channels that use a common entry share a codebook.
   */
  public static long huffmanIndexBits(ClusteredLayer layer) {
    TensorClustering c = layer.clustering();
    return huffmanIndexBits(c.indices(), c.codebook().length, layer.settings().clusters(),
        layer.weight().channels());
  }

  static long huffmanIndexBits(int[] indices, int codebookSize, int clusters, OutputChannels channels) {
    long[] counts = new long[codebookSize];
    if (codebookSize <= clusters) {
      for (int index : indices) {
        counts[index]++;
      }
      return HuffmanSize.bits(counts);
    }
    int[] firstChannel = new int[codebookSize];
    Arrays.fill(firstChannel, -1);
    int[] parent = new int[channels.count()];
    for (int i = 0; i < parent.length; i++) {
      parent[i] = i;
    }
    for (int i = 0; i < indices.length; i++) {
      int symbol = indices[i];
      int channel = channels.channelOf(i);
      counts[symbol]++;
      if (firstChannel[symbol] < 0) {
        firstChannel[symbol] = channel;
      } else {
        union(parent, firstChannel[symbol], channel);
      }
    }
    // Group the used symbols by codebook (component of channels), counts in decreasing order.
    int[] component = new int[codebookSize];
    int components = 0;
    int[] componentId = new int[parent.length];
    Arrays.fill(componentId, -1);
    for (int s = 0; s < codebookSize; s++) {
      if (counts[s] == 0) {
        component[s] = -1;
        continue;
      }
      int root = find(parent, firstChannel[s]);
      if (componentId[root] < 0) {
        componentId[root] = components++;
      }
      component[s] = componentId[root];
    }
    if (components <= 1) {
      return HuffmanSize.bits(counts);
    }
    long[][] perComponent = new long[components][];
    int[] sizes = new int[components];
    for (int s = 0; s < codebookSize; s++) {
      if (component[s] >= 0) {
        sizes[component[s]]++;
      }
    }
    int longest = 0;
    for (int g = 0; g < components; g++) {
      perComponent[g] = new long[sizes[g]];
      longest = Math.max(longest, sizes[g]);
      sizes[g] = 0;
    }
    for (int s = 0; s < codebookSize; s++) {
      if (component[s] >= 0) {
        perComponent[component[s]][sizes[component[s]]++] = counts[s];
      }
    }
    long[] merged = new long[longest];
    for (long[] group : perComponent) {
      Arrays.sort(group);
      for (int r = 0; r < group.length; r++) {
        merged[r] += group[group.length - 1 - r];
      }
    }
    return HuffmanSize.bits(merged);
  }

  private static int find(int[] parent, int x) {
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  }

  private static void union(int[] parent, int a, int b) {
    int ra = find(parent, a);
    int rb = find(parent, b);
    if (ra != rb) {
      parent[Math.max(ra, rb)] = Math.min(ra, rb);
    }
  }
}

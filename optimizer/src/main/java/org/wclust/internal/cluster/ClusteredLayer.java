package org.wclust.internal.cluster;

import com.google.common.base.Suppliers;
import java.util.function.Supplier;
import org.wclust.internal.graph.WeightTensor;

/**
 * One weight replaced by a trainable centroid-gather subgraph (see {@link ClusteredWeight}).
 *
 * @param weight the original weight (its variable still feeds the straight-through term)
 * @param settings how it was clustered (k, method, granularity, sparsity)
 * @param clustering the codebook(s), indices and SSE as clustered, before any fine-tuning
 * @param centroidsHandle the VarHandleOp of the centroids variable (float[K])
 * @param indicesHandle the VarHandleOp of the indices variable (int32, the weight's shape)
 * @param gradientScaleHandle the VarHandleOp of the per-centroid gradient scale (float[K])
 * @param trainableEntries per centroid, 1 if fine-tuning may move it, 0 if it is pinned at zero
 * @param sparsityMasked whether a zero mask keeps the original zeros at zero
 * @param layoutSource which centroids each element may be re-assigned to ({@link #layout()}), made when
 *     first asked for: only re-assignment needs it, and for grouped codebooks it holds two ints per weight
 *     (200 MB on ResNet50) that a run without fine-tuning would carry to its end for nothing
 * @param weightTensor the graph tensor that now computes the weight ({@code centroids[indices]})
 * @param gatheredTensor the gathered centroids inside it, before the sparsity mask (see
 *     {@link ClusteredWeight.Parts})
 */
public record ClusteredLayer(WeightTensor weight, ClusterSettings settings, TensorClustering clustering,
    String centroidsHandle, String indicesHandle, String gradientScaleHandle, float[] trainableEntries,
    boolean sparsityMasked, Supplier<CodebookLayout> layoutSource, String weightTensor, String gatheredTensor) {

  /** A layer whose layout is at hand. */
  public ClusteredLayer(WeightTensor weight, ClusterSettings settings, TensorClustering clustering,
      String centroidsHandle, String indicesHandle, String gradientScaleHandle, float[] trainableEntries,
      boolean sparsityMasked, CodebookLayout layout, String weightTensor, String gatheredTensor) {
    this(weight, settings, clustering, centroidsHandle, indicesHandle, gradientScaleHandle, trainableEntries,
        sparsityMasked, Suppliers.ofInstance(layout), weightTensor, gatheredTensor);
  }

  /**
   * The layout of {@code indices} (never changed afterwards) at {@code granularity}, made once when first
   * asked for.
   */
  public static Supplier<CodebookLayout> layoutOf(int[] indices, Granularity granularity, WeightTensor weight) {
    return Suppliers.memoize(() -> CodebookLayout.of(indices, granularity, weight.channels()));
  }

  /** Which centroids each element may be re-assigned to. */
  public CodebookLayout layout() {
    return layoutSource.get();
  }

  /** Bits of a packed codebook format: ⌈log2 k⌉ per weight plus a float32 per centroid. */
  public long packedBits() {
    int indexBits = 32 - Integer.numberOfLeadingZeros(Math.max(1, settings.clusters() - 1));
    return weight.params() * indexBits + 32L * clustering.codebook().length;
  }
}

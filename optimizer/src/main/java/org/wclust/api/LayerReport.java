package org.wclust.api;

import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.InitMethod;
import org.wclust.internal.cluster.RateControl;

/**
 * Per clustered layer, as written to {@code wclust-report.json}.
 *
 * <pre>{@code
 * for (LayerReport l : summary.layers()) {
 *   System.out.println(l.name() + ": " + l.distinctValues() + " values, SSE " + l.sse());
 * }
 * }</pre>
 *
 * @param name layer path of the weight
 * @param op the op the weight feeds
 * @param shape the weight's shape
 * @param params number of weights
 * @param clusters number of clusters asked for (per codebook)
 * @param init initialisation method, e.g. {@code optimal}
 * @param granularity {@code tensor}, {@code channel} or {@code group:G}
 * @param codebooks number of codebooks (1 per tensor, or per channel / group)
 * @param distinctValues distinct values of the weight in the exported model
 * @param maxDistinctPerCodebook the most distinct values in any one codebook's members
 * @param sse within-cluster sum of squared errors
 * @param packedBits bits of a packed format: ⌈log2 k⌉ per weight plus 32 per centroid
 * @param keptOriginalValues true when a codebook's members had no more distinct values than clusters
 * @param emptyClusters initial centroids left without members (only without refinement)
 * @param rateWeight for {@code knee}: this layer's share of the rate weight; NaN for other methods
 * @param indexBits ideal entropy-coded bits of the indices, each index taken within its own
 *     codebook (per-channel and grouped codebooks are coded separately)
 */
public record LayerReport(String name, String op, long[] shape, long params, int clusters, String init,
    String granularity, int codebooks, int distinctValues, int maxDistinctPerCodebook, double sse,
    long packedBits, boolean keptOriginalValues, int emptyClusters, double rateWeight, double indexBits) {

  static LayerReport of(ClusteredLayer layer, int exportedDistinctValues) {
    var w = layer.weight();
    var c = layer.clustering();
    return new LayerReport(w.name(), w.op(), w.shape(), w.params(), layer.settings().clusters(),
        layer.settings().init().cliName() + (layer.settings().refine() || !layer.settings().init().refinable()
            ? "" : " (no refine)")
            + (layer.settings().sizeWeight() > 0 ? " + size-aware " + layer.settings().sizeWeight() : ""),
        layer.settings().granularity().toString(), c.groups(), exportedDistinctValues,
        c.maxDistinctPerGroup(), c.sse(), layer.packedBits(), c.keptOriginalValues(), c.emptyClusters(),
        layer.settings().init() == InitMethod.KNEE ? layer.settings().rateWeight() : Double.NaN,
        RateControl.indexBits(c, w, layer.settings()));
  }
}

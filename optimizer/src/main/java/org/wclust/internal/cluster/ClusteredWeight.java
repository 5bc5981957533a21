package org.wclust.internal.cluster;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.nn.TopK;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TUint8;

/**
 * The trainable clustered-layer building block, over {@link Ops} so that it builds into a
 * {@code Graph} or runs eagerly in an {@code EagerSession}:
 *
 * <ul>
 *   <li>{@link #forward}: the weight the layer uses, {@code mask * centroids[indices]}, with the
 *       straight-through estimator of Deep Compression / tfmot: the gradient of the loss with respect
 *       to the weight reaches the original (unclustered) weight unchanged, and each centroid receives
 *       the sum of its members' gradients times its gradient scale (1 for sum aggregation,
 *       1 / members for mean, 0 for a centroid pinned at zero).
 *   <li>{@link #gradients}: the same two gradients computed explicitly from the gradient with respect
 *       to the weight, for eager mode, where TF Java has no automatic differentiation.
 *   <li>{@link #reassign}: new indices, each element's nearest centroid of its own codebook, found by a
 *       binary search over the sorted centroids (O(n log k), no n × k distance matrix), or for
 *       codebooks of at most {@value #COUNTED_ENTRIES} centroids by counting the midpoints below
 *       each element (k - 1 vectorised comparisons, the same result).
 * </ul>
 */
public final class ClusteredWeight {
  private ClusteredWeight() {}

  /**
   * @param centroids float[K], all codebooks laid end to end
   * @param gradientScale float[K], multiplies each centroid's gradient (its forward value is unused)
   * @param indices int32, same number of elements as the weight: an index into {@code centroids}
   * @param original the original weight, which receives the straight-through gradient
   * @param sparsityMask null, or 1 where the weight may be non-zero and 0 where it stays zero
   * @param shape the weight's shape
   */
  public static Operand<TFloat32> forward(Ops tf, Operand<TFloat32> centroids,
      Operand<TFloat32> gradientScale, Operand<TInt32> indices, Operand<TFloat32> original,
      Operand<TFloat32> sparsityMask, Shape shape) {
    return forwardParts(tf, centroids, gradientScale, indices, original, sparsityMask, shape).weight();
  }

  /**
   * The clustered weight and, inside it, the gathered centroids before the mask: differentiating the
   * loss with respect to {@code gathered} and applying {@link #gradients} gives the centroid gradient
   * without TensorFlow's gather gradient (an UnsortedSegmentSum, ~10x slower than Bincount on CPU).
   */
  public record Parts(Operand<TFloat32> weight, Operand<TFloat32> gathered) {}

  /** {@link #forward}, returning the gathered centroids too (see {@link Parts}). */
  public static Parts forwardParts(Ops tf, Operand<TFloat32> centroids,
      Operand<TFloat32> gradientScale, Operand<TInt32> indices, Operand<TFloat32> original,
      Operand<TFloat32> sparsityMask, Shape shape) {
    // scaled == centroids exactly in the forward pass (c - stop(c) is 0), while d scaled / d c is
    // gradientScale: the gather then hands each centroid the scaled sum of its members' gradients.
    Operand<TFloat32> fixedCentroids = tf.stopGradient(centroids);
    Operand<TFloat32> scaled = tf.withName("scaled_centroids").math.add(fixedCentroids,
        tf.math.mul(tf.math.sub(centroids, fixedCentroids), gradientScale));
    Operand<TFloat32> gathered = CentroidGather.apply(tf, scaled, indices, shape);
    Operand<TFloat32> clustered = gathered;
    if (sparsityMask != null) {
      clustered = tf.withName("masked").math.mul(gathered, sparsityMask);
    }
    // Straight-through: original - stop(original) is 0 forward and passes the gradient unchanged.
    Operand<TFloat32> straightThrough = tf.math.sub(original, tf.stopGradient(original));
    return new Parts(tf.withName("clustered_weight").math.add(clustered, straightThrough), gathered);
  }

  /** The gradients {@link #forward} routes to the centroids and to the original weight. */
  public record Gradients(Operand<TFloat32> centroids, Operand<TFloat32> original) {}

  /**
   * Given {@code weightGradient}, the gradient of the loss with respect to the clustered weight,
   * the gradients automatic differentiation of {@link #forward} would give.
   */
  public static Gradients gradients(Ops tf, Operand<TFloat32> weightGradient, Operand<TInt32> indices,
      Operand<TFloat32> gradientScale, Operand<TFloat32> sparsityMask, int codebookSize) {
    Operand<TFloat32> masked = sparsityMask == null ? weightGradient : tf.math.mul(weightGradient, sparsityMask);
    return new Gradients(centroidGradient(tf, masked, indices, gradientScale, codebookSize), weightGradient);
  }

  /**
   * Each centroid's gradient from the gradient with respect to the gathered centroids (mask already
   * applied): the scaled sum over its members, as a weighted Bincount.
   *
   * <p>The sum is exact and therefore the same on every run: TensorFlow's CPU Bincount adds float
   * weights into one partial histogram per worker thread, and which thread takes which shard varies
   * from run to run, so float sums differed in the last bits on most calls and fine-tuning with a
   * fixed seed ended 0.5-1 point apart. Here each member's gradient is rounded to a fixed-point int64
   * ({@link #fixedPointBits} bits below the batch's largest magnitude), the integers are summed
   * (integer addition does not depend on the order), and the sums are scaled back. The rounding error,
   * 2^-40 of the largest gradient per member, is far below float32's own summation error.
   */
  public static Operand<TFloat32> centroidGradient(Ops tf, Operand<TFloat32> gatheredGradient,
      Operand<TInt32> indices, Operand<TFloat32> gradientScale, int codebookSize) {
    Operand<TInt32> flat = tf.constant(new int[] {-1});
    Operand<TFloat32> g = tf.reshape(gatheredGradient, flat);
    Shape shape = gatheredGradient.shape();
    long members = shape.hasUnknownDimension() ? Integer.MAX_VALUE : shape.size();
    // largest |g|, at least SMALLEST_RANGE so that the scale stays finite in float32
    Operand<TFloat32> range = tf.math.maximum(tf.max(tf.math.abs(g), tf.constant(0)), tf.constant(SMALLEST_RANGE));
    Operand<TFloat32> toFixed = tf.math.div(tf.constant((float) Math.scalb(1.0, fixedPointBits(members))), range);
    Operand<TInt64> fixed = tf.dtypes.cast(tf.math.round(tf.math.mul(g, toFixed)), TInt64.class);
    Operand<TInt64> sums = tf.math.bincount(tf.reshape(indices, flat), tf.constant(codebookSize), fixed);
    Operand<TFloat64> exact = tf.math.div(tf.dtypes.cast(sums, TFloat64.class),
        tf.dtypes.cast(toFixed, TFloat64.class));
    return tf.math.mul(tf.dtypes.cast(exact, TFloat32.class), gradientScale);
  }

  /** Below this largest gradient magnitude all gradients are taken as relative to it (avoids 1 / 0). */
  static final float SMALLEST_RANGE = 1e-20f;

  /**
   * Fixed-point bits for the largest magnitude among {@code members} gradients: at most 40, and few
   * enough that the sum of all members cannot overflow an int64 (|sum| <= members * 2^bits < 2^62).
   */
  static int fixedPointBits(long members) {
    int log2 = 64 - Long.numberOfLeadingZeros(Math.max(1, members - 1)); // ceil(log2(members))
    return Math.min(40, 62 - log2);
  }

  /**
   * Each element's nearest centroid within its own codebook: the centroids of every group are
   * sorted (TopK), the midpoints between neighbours bound the cells, and a batched lower-bound
   * search (or, for codebooks of at most {@value #COUNTED_ENTRIES} centroids, a count of the midpoints
   * below) finds each value's cell, whose codebook index a table lookup gives ({@link PackedSlotTable}
   * where the table packs into a word, gathers otherwise). Ties at a midpoint go to the smaller centroid.
   *
   * @return int32 indices into {@code centroids}, shaped as {@code original}
   */
  public static Operand<TInt32> reassign(Ops tf, Operand<TFloat32> centroids, Operand<TFloat32> original,
      CodebookLayout layout, Shape shape) {
    int g = layout.groups();
    int k = layout.entries();
    int m = layout.members();
    boolean counted = k >= 2 && k <= COUNTED_ENTRIES;
    PackedSlotTable packedTable = counted ? PackedSlotTable.of(layout) : null;
    // One codebook per channel of the last axis, counted and looked up in packed tables: compared in the
    // weight's own [m, g] layout, against rows of midpoints, so that no transpose is needed either way.
    boolean columns = packedTable != null && layout.strided();
    Operand<TFloat32> flatWeights = tf.reshape(original, tf.constant(new int[] {-1}));
    Operand<TInt32> swap = tf.constant(new int[] {1, 0});
    // One codebook per channel of the last axis: the [g, m] layout is a transpose, cheaper than a gather.
    Operand<TFloat32> values = layout.identity()
        ? tf.reshape(flatWeights, tf.constant(new int[] {1, m}))
        : columns ? tf.reshape(flatWeights, tf.constant(new int[] {m, g}))
        : layout.strided() ? tf.linalg.transpose(tf.reshape(flatWeights, tf.constant(new int[] {m, g})), swap)
        : tf.reshape(tf.gather(flatWeights, tf.constant(layout.order()), tf.constant(0)),
            tf.constant(new int[] {g, m}));
    Operand<TFloat32> groupCentroids = tf.reshape(
        tf.gather(centroids, tf.constant(layout.entryTable()), tf.constant(0)), tf.constant(new int[] {g, k}));
    // TopK of the negated centroids sorts each row ascending; indices are positions in the row.
    TopK<TFloat32, TInt32> top = tf.nn.topK(tf.math.neg(groupCentroids), tf.constant(k), new TopK.Options[0]);
    Operand<TFloat32> sorted = tf.math.neg(top.values());
    Operand<TInt32> flatIndex;
    if (k == 1) {
      flatIndex = gathered(tf, layout, top.indices(), tf.zerosLike(tf.dtypes.cast(values, TInt32.class)));
    } else {
      Operand<TFloat32> below = tf.slice(sorted, tf.constant(new int[] {0, 0}), tf.constant(new int[] {g, k - 1}));
      Operand<TFloat32> above = tf.slice(sorted, tf.constant(new int[] {0, 1}), tf.constant(new int[] {g, k - 1}));
      Operand<TFloat32> midpoints = tf.math.mul(tf.math.add(below, above), tf.constant(0.5f));
      // The number of midpoints below a value is the rank of its nearest centroid (its slot).
      if (packedTable != null) {
        Operand<TUint8> slots = countBelow(tf, midpoints, values, g, k - 1, columns);
        flatIndex = tf.reshape(packedTable.lookup(tf, top.indices(), slots, columns), tf.constant(new int[] {-1}));
      } else {
        Operand<TInt32> lowerBound = counted
            ? tf.dtypes.cast(countBelow(tf, midpoints, values, g, k - 1, false), TInt32.class)
            : tf.lowerBound(midpoints, values);
        flatIndex = gathered(tf, layout, top.indices(), lowerBound);
      }
    }
    if (layout.strided() && !columns) {
      flatIndex = tf.reshape(tf.linalg.transpose(tf.reshape(flatIndex, tf.constant(new int[] {g, m})), swap),
          tf.constant(new int[] {-1}));
    } else if (!layout.identity() && !layout.strided()) {
      flatIndex = tf.gather(flatIndex, tf.constant(layout.position()), tf.constant(0));
    }
    return tf.withName("reassigned").reshape(flatIndex, tf.constant(toInts(shape)));
  }

  /**
   * Each slot's codebook index by gathers (for tables too wide to pack, and k = 1), flattened in the
   * [g, m] layout.
   */
  private static Operand<TInt32> gathered(Ops tf, CodebookLayout layout, Operand<TInt32> perm,
      Operand<TInt32> lowerBound) {
    int g = layout.groups();
    int k = layout.entries();
    // With one group every row offset is 0, so the offsets are not added; and when that group's
    // entry table is the identity (every centroid in use, in order), a slot is its codebook index,
    // so the table gather over all n elements is skipped.
    Operand<TInt32> flatPermutation = tf.reshape(perm, tf.constant(new int[] {-1}));
    Operand<TInt32> codebookIndex;
    if (g == 1) {
      Operand<TInt32> slot = tf.gather(flatPermutation, lowerBound, tf.constant(0));
      codebookIndex = isIdentity(layout.entryTable()) ? slot
          : tf.gather(tf.constant(layout.entryTable()), slot, tf.constant(0));
    } else {
      Operand<TInt32> rowStart = rowStarts(tf, g, k);
      Operand<TInt32> slot = tf.gather(flatPermutation, tf.math.add(lowerBound, rowStart), tf.constant(0));
      codebookIndex = tf.gather(tf.constant(layout.entryTable()), tf.math.add(slot, rowStart), tf.constant(0));
    }
    return tf.reshape(codebookIndex, tf.constant(new int[] {-1}));
  }

  /**
   * The gradient scale of every centroid for {@code mean} aggregation: {@code trainable / members},
   * with empty clusters treated as having one member.
   */
  public static Operand<TFloat32> meanScale(Ops tf, Operand<TInt32> indices, Operand<TFloat32> trainable,
      int codebookSize) {
    Operand<TInt32> flat = tf.reshape(indices, tf.constant(new int[] {-1}));
    Operand<TFloat32> ones = tf.onesLike(tf.dtypes.cast(flat, TFloat32.class));
    Operand<TFloat32> counts = tf.math.unsortedSegmentSum(ones, flat, tf.constant(codebookSize));
    return tf.math.div(trainable, tf.math.maximum(counts, tf.constant(1f)));
  }

  /**
   * Up to this many centroids per codebook, {@link #reassign} counts the midpoints below each value
   * (of each group's row, for per-channel codebooks) with one vectorised comparison per midpoint
   * instead of LowerBound, whose per-element binary
   * search (branch mispredictions, one thread) costs about 15 ns per weight on CPU: at k = 8 a
   * 200 k-weight tensor is re-assigned several times faster.
   */
  static final int COUNTED_ENTRIES = 16;

  /**
   * For sorted rows of {@code midpoints} [groups, count] and {@code values} [groups, m] (or, with
   * {@code columns}, [m, groups]: group j's values in column j): how many midpoints of its own group are
   * strictly below each value, i.e. exactly {@code lowerBound(midpoints, values)} (a NaN value is below
   * nothing and gets 0, as there). The counts are summed as uint8 (at most {@value #COUNTED_ENTRIES} - 1),
   * so each comparison in flight takes a byte per value.
   */
  private static Operand<TUint8> countBelow(Ops tf, Operand<TFloat32> midpoints, Operand<TFloat32> values,
      int groups, int count, boolean columns) {
    Operand<TFloat32> flat = tf.reshape(midpoints, tf.constant(new int[] {-1}));
    Operand<TFloat32> byColumn = columns && groups > 1 ? tf.linalg.transpose(midpoints, tf.constant(new int[] {1, 0}))
        : null;
    List<Operand<TUint8>> below = new ArrayList<>();
    for (int j = 0; j < count; j++) {
      // One codebook: its j-th midpoint as a scalar; several: the j-th midpoint of every group, as a
      // [groups, 1] column that each group's row of values is compared with (or a [1, groups] row for
      // values in columns).
      Operand<TFloat32> midpoint = groups == 1 ? tf.gather(flat, tf.constant(j), tf.constant(0))
          : columns ? tf.slice(byColumn, tf.constant(new int[] {j, 0}), tf.constant(new int[] {1, groups}))
          : tf.slice(midpoints, tf.constant(new int[] {0, j}), tf.constant(new int[] {groups, 1}));
      below.add(tf.dtypes.cast(tf.math.less(midpoint, values), TUint8.class));
    }
    return below.size() == 1 ? below.get(0) : tf.math.addN(below);
  }

  /** The [groups, 1] column of each row's first position in a row-major [groups, entries] table. */
  static Operand<TInt32> rowStarts(Ops tf, int groups, int entries) {
    int[][] starts = new int[groups][1];
    for (int r = 0; r < groups; r++) {
      starts[r][0] = r * entries;
    }
    return tf.constant(starts);
  }

  /** Whether {@code table[i] == i} for every i. */
  static boolean isIdentity(int[] table) {
    for (int i = 0; i < table.length; i++) {
      if (table[i] != i) {
        return false;
      }
    }
    return true;
  }

  static int[] toInts(Shape shape) {
    int[] dims = new int[shape.numDimensions()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = Math.toIntExact(shape.get(i));
    }
    return dims;
  }
}

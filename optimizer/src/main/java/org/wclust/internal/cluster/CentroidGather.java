package org.wclust.internal.cluster;

import static com.google.common.base.Preconditions.checkArgument;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The centroid-gather building block: a clustered weight is {@code centroids[indices]}, computed as
 * GatherV2 over the flattened indices and reshaped to the weight's shape. Built with {@link Ops}, so
 * the same code runs eagerly (an {@code EagerSession}) or adds nodes to a {@code Graph}. Gradients
 * flow to the centroids through GatherV2 (each centroid receives the sum of its members' gradients).
 */
public final class CentroidGather {
  private CentroidGather() {}

  /**
   * @param centroids float[k] codebook
   * @param indices int32 cluster index per weight element, any shape with {@code weightShape}'s size
   * @param weightShape the shape of the weight to produce
   */
  public static Operand<TFloat32> apply(Ops tf, Operand<TFloat32> centroids, Operand<TInt32> indices,
      Shape weightShape) {
    checkArgument(!weightShape.isUnknown() && !weightShape.hasUnknownDimension(),
        "the weight shape must be fully known, got %s", weightShape);
    Operand<TInt32> flatIndices = tf.withName("flat_indices").reshape(indices, tf.constant(new int[] {-1}));
    Operand<TFloat32> gathered = tf.withName("gather").gather(centroids, flatIndices, tf.constant(0));
    return tf.withName("weight").reshape(gathered, tf.constant(toInts(weightShape)));
  }

  private static int[] toInts(Shape shape) {
    int[] dims = new int[shape.numDimensions()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = Math.toIntExact(shape.get(i));
    }
    return dims;
  }
}

package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.tensorflow.EagerSession;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

class CentroidGatherTest {
  private static final float[] CENTROIDS = {-1f, 0.5f, 2f};
  private static final int[][] INDICES = {{2, 0, 1}, {1, 1, 0}};
  /** centroids[indices], by hand. */
  private static final float[] EXPECTED = {2f, -1f, 0.5f, 0.5f, 0.5f, -1f};

  private static float[] values(TFloat32 t) {
    float[] out = new float[(int) t.shape().size()];
    int[] i = {0};
    t.scalars().forEach(v -> out[i[0]++] = v.getFloat()); // row-major
    return out;
  }

  @Test
  void eagerGatherGivesCentroidsAtIndicesWithWeightShape() {
    try (EagerSession session = EagerSession.create()) {
      Ops tf = Ops.create(session);
      Operand<TFloat32> w = CentroidGather.apply(tf, tf.constant(CENTROIDS), tf.constant(INDICES), Shape.of(2, 3));
      TFloat32 t = w.asTensor();
      assertEquals(Shape.of(2, 3), t.shape());
      assertArrayEquals(EXPECTED, values(t));
    }
  }

  @Test
  void graphGatherGivesCentroidsAtIndicesWithWeightShape() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> w = CentroidGather.apply(tf, tf.constant(CENTROIDS), tf.constant(INDICES), Shape.of(2, 3));
      try (Result r = s.runner().fetch(w).run()) {
        TFloat32 t = (TFloat32) r.get(0);
        assertEquals(Shape.of(2, 3), t.shape());
        assertArrayEquals(EXPECTED, values(t));
      }
    }
  }

  @Test
  void indicesOfAnotherShapeAreReshapedToTheWeightShape() {
    try (EagerSession session = EagerSession.create()) {
      Ops tf = Ops.create(session);
      Operand<TInt32> flat = tf.constant(new int[] {2, 0, 1, 1, 1, 0});
      TFloat32 t = CentroidGather.apply(tf, tf.constant(CENTROIDS), flat, Shape.of(3, 2)).asTensor();
      assertEquals(Shape.of(3, 2), t.shape());
      assertArrayEquals(EXPECTED, values(t));
    }
  }

  @Test
  void gradientPerCentroidIsSumOfUpstreamOverItsMembers() {
    // loss = sum(weight * c), c = [[1,2,3],[4,5,6]]; d loss / d centroid j = sum of c where index == j:
    // centroid 0 at (0,1),(1,2): 2+6 = 8; centroid 1 at (0,2),(1,0),(1,1): 3+4+5 = 12; centroid 2 at (0,0): 1.
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> centroids = tf.constant(CENTROIDS);
      Operand<TFloat32> w = CentroidGather.apply(tf, centroids, tf.constant(INDICES), Shape.of(2, 3));
      Operand<TFloat32> loss = tf.reduceSum(tf.math.mul(w, tf.constant(new float[][] {{1, 2, 3}, {4, 5, 6}})),
          tf.constant(new int[] {0, 1}));
      Output<?>[] grads = g.addGradients(loss.asOutput(), new Output<?>[] {centroids.asOutput()});
      try (Result r = s.runner().fetch(grads[0]).run()) {
        TFloat32 t = (TFloat32) r.get(0);
        assertEquals(Shape.of(3), t.shape());
        assertArrayEquals(new float[] {8f, 12f, 1f}, values(t));
      }
    }
  }

  @Test
  void rejectsWeightShapeWithUnknownDimension() {
    try (EagerSession session = EagerSession.create()) {
      Ops tf = Ops.create(session);
      assertThrows(IllegalArgumentException.class, () ->
          CentroidGather.apply(tf, tf.constant(CENTROIDS), tf.constant(INDICES), Shape.of(-1, 3)));
    }
  }
}

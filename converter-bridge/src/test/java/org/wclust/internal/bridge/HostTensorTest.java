package org.wclust.internal.bridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Tensor;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TInt32;

/** An int32 tensor that shares its array reads, converts and serialises exactly as a copied one. */
class HostTensorTest {
  private static final long[] SHAPE = {3, 5, 7};

  private static int[] randomInts() {
    Random r = new Random(3);
    int[] v = new int[3 * 5 * 7];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextInt() >> r.nextInt(31); // negative and positive, small and large
    }
    return v;
  }

  @Test
  void sharedIntsGiveTheSameProtoAsCopiedInts() {
    int[] v = randomInts();
    assertEquals(HostTensor.ofInts(SHAPE, v).toProto(), HostTensor.sharingInts(SHAPE, v).toProto());
  }

  @Test
  void sharedIntsGiveTheSameNativeTensorAndValues() {
    int[] v = randomInts();
    HostTensor shared = HostTensor.sharingInts(SHAPE, v);
    assertEquals(DataType.DT_INT32, shared.dtype());
    assertArrayEquals(SHAPE, shared.shape());
    int[] read = shared.toInts();
    assertArrayEquals(v, read);
    assertNotSame(v, read, "toInts hands out a copy, so callers cannot change the shared array");
    try (Tensor t = shared.toTensor()) {
      assertEquals(DataType.DT_INT32, t.dataType());
      assertArrayEquals(SHAPE, t.shape().asArray());
      int[] back = new int[v.length];
      ((TInt32) t).asRawTensor().data().asInts().read(back);
      assertArrayEquals(v, back);
      assertArrayEquals(v, HostTensor.copyOf(t).toInts());
    }
  }

  @Test
  void sharingIntsChecksTheShape() {
    assertThrows(IllegalArgumentException.class, () -> HostTensor.sharingInts(SHAPE, new int[4]));
    assertThrows(IllegalArgumentException.class, () -> HostTensor.sharingInts(SHAPE, randomInts()).toFloats());
  }
}

package org.wclust.internal.bridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Tensor;
import org.tensorflow.proto.DataType;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TUint8;

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

  /** A replica's slice of a batch: whole rows, in order, of any fixed-size type, shared ints included. */
  @Test
  void rowsAreWholeRowsInOrderOfAnyType() {
    HostTensor floats = HostTensor.ofFloats(new long[] {3, 2}, new float[] {0, 1, 2, 3, 4, 5});
    HostTensor middle = floats.rows(1, 3);
    assertArrayEquals(new long[] {2, 2}, middle.shape());
    assertArrayEquals(new float[] {2, 3, 4, 5}, middle.toFloats());

    HostTensor bytes;
    try (TUint8 t = TUint8.tensorOf(Shape.of(4, 1), DataBuffers.of(new byte[] {9, 8, 7, (byte) 200}, true, false))) {
      bytes = HostTensor.copyOf(t);
    }
    HostTensor last = bytes.rows(3, 4);
    assertArrayEquals(new long[] {1, 1}, last.shape());
    assertEquals(DataType.DT_UINT8, last.dtype());
    assertArrayEquals(new byte[] {(byte) 200}, last.toProto().getTensorContent().toByteArray());
    assertArrayEquals(new int[] {7}, HostTensor.ofInts(new long[] {3}, new int[] {5, 6, 7}).rows(2, 3).toInts());
    int[] v = randomInts();
    assertEquals(HostTensor.ofInts(SHAPE, v).rows(1, 2).toProto(), HostTensor.sharingInts(SHAPE, v).rows(1, 2).toProto());
    assertEquals(0, floats.rows(2, 2).size());
    assertThrows(IllegalArgumentException.class, () -> floats.rows(2, 4));
  }
}

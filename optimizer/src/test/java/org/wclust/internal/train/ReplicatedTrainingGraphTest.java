package org.wclust.internal.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;
import org.tensorflow.types.TUint8;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.wclust.internal.bridge.HostTensor;

/** A replica's slice of a batch: whole rows, in order, of any fixed-size type. */
class ReplicatedTrainingGraphTest {
  @Test
  void slicesRowsOfFloatsAndBytes() {
    HostTensor floats = HostTensor.ofFloats(new long[] {3, 2}, new float[] {0, 1, 2, 3, 4, 5});
    HostTensor middle = ReplicatedTrainingGraph.rows(floats, 1, 3);
    assertArrayEquals(new long[] {2, 2}, middle.shape());
    assertArrayEquals(new float[] {2, 3, 4, 5}, middle.toFloats());

    HostTensor bytes;
    try (TUint8 t = TUint8.tensorOf(Shape.of(4, 1), DataBuffers.of(new byte[] {9, 8, 7, (byte) 200}, true, false))) {
      bytes = HostTensor.copyOf(t);
    }
    HostTensor last = ReplicatedTrainingGraph.rows(bytes, 3, 4);
    assertArrayEquals(new long[] {1, 1}, last.shape());
    assertArrayEquals(new byte[] {(byte) 200}, last.toProto().getTensorContent().toByteArray());
    assertArrayEquals(new int[] {7}, ReplicatedTrainingGraph.rows(HostTensor.ofInts(new long[] {3}, new int[] {5, 6, 7}),
        2, 3).toInts());
  }
}

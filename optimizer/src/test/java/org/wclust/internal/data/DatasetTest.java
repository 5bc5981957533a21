package org.wclust.internal.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.wclust.internal.bridge.HostTensor;
import org.tensorflow.proto.DataType;

/** Batches, slices and reshapes of the in-memory dataset. */
class DatasetTest {
  // Three examples of shape [2, 2]: example i holds 10i, 10i+1, 10i+2, 10i+3.
  private static final float[] VALUES = {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23};
  private final Dataset data = Dataset.of(new long[] {2, 2}, VALUES, new int[] {4, 0, 9});

  @Test
  void batchesGatherExamplesInTheGivenOrder() {
    HostTensor batch = data.batchInputs(new int[] {2, 0, 2});
    assertEquals(DataType.DT_FLOAT, batch.dtype());
    assertArrayEquals(new long[] {3, 2, 2}, batch.shape());
    assertArrayEquals(new float[] {20, 21, 22, 23, 0, 1, 2, 3, 20, 21, 22, 23}, batch.toFloats());
    assertArrayEquals(new int[] {9, 4, 9}, data.batchLabels(new int[] {2, 0, 2}));
    assertArrayEquals(new long[] {0, 2, 2}, data.batchInputs(new int[0]).shape());
  }

  @Test
  void accessors() {
    assertEquals(3, data.size());
    assertEquals(4, data.exampleSize());
    assertArrayEquals(new long[] {2, 2}, data.exampleShape());
    assertTrue(data.hasLabels());
    assertArrayEquals(new int[] {4, 0, 9}, data.labels().orElseThrow());
    assertArrayEquals(new float[] {10, 11, 12, 13}, data.example(1));
    assertEquals("Dataset[3 x [2, 2], labelled]", data.toString());
  }

  @Test
  void isImmutable() {
    float[] values = VALUES.clone();
    int[] labels = {1, 2, 3};
    Dataset d = Dataset.of(new long[] {4}, values, labels);
    values[0] = 99;
    labels[0] = 99;
    d.labels().orElseThrow()[1] = 99;
    d.exampleShape()[0] = 99;
    assertArrayEquals(new float[] {0, 1, 2, 3}, d.example(0));
    assertArrayEquals(new int[] {1, 2, 3}, d.labels().orElseThrow());
    assertArrayEquals(new long[] {4}, d.exampleShape());
  }

  @Test
  void sliceAndReshape() {
    Dataset tail = data.slice(1, 3);
    assertEquals(2, tail.size());
    assertArrayEquals(new float[] {10, 11, 12, 13}, tail.example(0));
    assertArrayEquals(new int[] {0, 9}, tail.labels().orElseThrow());
    assertEquals(0, data.slice(3, 3).size());
    assertThrows(IllegalArgumentException.class, () -> data.slice(2, 4));

    Dataset reshaped = data.withExampleShape(new long[] {2, 2, 1});
    assertArrayEquals(new long[] {3, 2, 2, 1}, reshaped.batchInputs(new int[] {0, 1, 2}).shape());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> data.withExampleShape(new long[] {3}));
    assertEquals("examples of shape [2, 2] (4 values) cannot be reshaped to [3] (3 values)", e.getMessage());
  }

  @Test
  void unlabelled() {
    Dataset d = Dataset.unlabeled(new long[] {3}, new float[] {1, 2, 3, 4, 5, 6});
    assertEquals(2, d.size());
    assertFalse(d.hasLabels());
    assertTrue(d.labels().isEmpty());
    assertEquals("the dataset has no labels",
        assertThrows(IllegalStateException.class, () -> d.batchLabels(new int[] {0})).getMessage());
    assertThrows(IllegalArgumentException.class, () -> Dataset.unlabeled(new long[] {4}, new float[6]));
  }

  @Test
  void rejectsBadIndicesAndLabels() {
    IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
        () -> data.batchInputs(new int[] {0, 3}));
    assertEquals("example index 3 outside [0, 3)", e.getMessage());
    assertThrows(IndexOutOfBoundsException.class, () -> data.batchLabels(new int[] {-1}));
    assertEquals("label -2 of example 1 is negative; labels are class indices >= 0",
        assertThrows(IllegalArgumentException.class,
            () -> Dataset.of(new long[] {1}, new float[] {1, 2}, new int[] {0, -2})).getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Dataset.of(new long[] {2}, new float[] {1, 2, 3}, new int[] {0, 1}));
  }

  @Test
  void namedInputsAreChosenInTheModelsOrderShapedAndSlicedTogether() {
    java.util.Map<String, Dataset> parts = new java.util.LinkedHashMap<>();
    parts.put("ids", Dataset.unlabeled(new long[] {2}, new float[] {1, 2, 3, 4, 5, 6}));
    parts.put("pixels", Dataset.unlabeled(new long[] {4}, new float[] {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23}));
    parts.put("unused", Dataset.unlabeled(new long[] {1}, new float[] {7, 8, 9}));
    Dataset data = Dataset.withNamedInputs(new NamedInputs(parts, "f.npz", false), new int[] {0, 1, 2}, null, null);
    Dataset fitted = data.forInputs(java.util.List.of("pixels", "ids"),
        java.util.List.of(java.util.Optional.of(new long[] {2, 2}), java.util.Optional.empty()));
    NamedInputs named = fitted.namedInputs().orElseThrow();
    assertEquals(java.util.List.of("pixels", "ids"), named.names());
    assertArrayEquals(new long[] {2, 2}, named.get("pixels").exampleShape());
    Dataset tail = fitted.slice(1, 3);
    assertArrayEquals(new float[] {20, 21, 22, 23}, tail.namedInputs().orElseThrow().get("pixels").example(1));
    assertArrayEquals(new float[] {3, 4}, tail.namedInputs().orElseThrow().get("ids").example(0));
    assertArrayEquals(new int[] {1, 2}, tail.labels().orElseThrow());
    // One model input: the array of its name, as plain inputs
    Dataset one = data.forInputs(java.util.List.of("ids"), java.util.List.of(java.util.Optional.empty()));
    assertFalse(one.namedInputs().isPresent());
    assertArrayEquals(new float[] {5, 6}, one.example(2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> data.forInputs(java.util.List.of("pixels", "mask"),
            java.util.List.of(java.util.Optional.empty(), java.util.Optional.empty())));
    assertTrue(e.getMessage().startsWith("f.npz has no array for the model input 'mask'"), e.getMessage());
    Dataset plain = Dataset.unlabeled(new long[] {1}, new float[] {1});
    e = assertThrows(IllegalArgumentException.class, () -> plain.forInputs(java.util.List.of("a", "b"),
        java.util.List.of(java.util.Optional.empty(), java.util.Optional.empty())));
    assertTrue(e.getMessage().startsWith("the model has 2 inputs (a, b)"), e.getMessage());
  }
}

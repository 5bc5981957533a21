package org.wclust.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.api.Examples;
import org.wclust.api.Wclust;

/** The bundled demo data: the test slice and the training slice for fine-tuning. */
class DefaultModelTest {
  private static final int PIXELS = 28 * 28;

  @Test
  void trainingSliceHas100DigitsPerClassOrderedByClass() throws Exception {
    checkBalanced(DefaultModel.trainDigits());
  }

  @Test
  void testSliceHas100DigitsPerClassOrderedByClass() throws Exception {
    checkBalanced(DefaultModel.testDigits());
  }

  @Test
  void trainingAndTestSlicesShareNoImage() throws Exception {
    Set<FloatBuffer> test = images(DefaultModel.testDigits());
    Set<FloatBuffer> train = images(DefaultModel.trainDigits());
    assertEquals(1000, test.size(), "duplicate images in the test slice");
    assertEquals(1000, train.size(), "duplicate images in the training slice");
    train.retainAll(test);
    assertEquals(Set.of(), train, "images in both slices");
  }

  @Test
  void trainingSliceAsExamplesFeedsTheModel(@TempDir Path tmp) throws Exception {
    Examples data = DefaultModel.trainDigits().toExamples();
    assertEquals(1000, data.size());
    assertArrayEquals(new long[] {28, 28, 1}, data.exampleShape());
    assertTrue(data.hasLabels());
    // The model was trained on this split, so it knows these digits at least as well as the test digits.
    Path model = DefaultModel.extractSavedModel(tmp);
    double train = Wclust.accuracy(model, data);
    double test = Wclust.accuracy(model, DefaultModel.testDigits().toExamples());
    assertTrue(train >= 0.97 && train >= test, "training slice accuracy " + train + ", test " + test);
  }

  private static void checkBalanced(DefaultModel.Digits digits) {
    assertEquals(1000, digits.count());
    assertEquals(1000 * PIXELS, digits.images().length);
    int[] labels = digits.labels();
    for (int i = 0; i < labels.length; i++) {
      assertEquals(i / 100, labels[i], "label of record " + i);
    }
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (float v : digits.images()) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertEquals(0f, min);
    assertEquals(1f, max);
  }

  private static Set<FloatBuffer> images(DefaultModel.Digits digits) {
    Set<FloatBuffer> images = new HashSet<>();
    for (int i = 0; i < digits.count(); i++) {
      images.add(FloatBuffer.wrap(digits.images(), i * PIXELS, PIXELS).slice());
    }
    return images;
  }
}

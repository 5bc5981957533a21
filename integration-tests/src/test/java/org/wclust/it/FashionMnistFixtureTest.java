package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.wclust.internal.bridge.ServingSignature;
import org.wclust.internal.bridge.TfliteConverter;
import org.wclust.internal.load.ModelLoader;

/**
 * The real-data fixture that the fine-tuning acceptance tests stand on: the data is Fashion-MNIST as
 * promised, the trained CNN is good enough (≥ 89 % test accuracy), and evaluate_accuracy.py, the
 * independent check of wclust's accuracies, agrees with Keras on the SavedModel and on its .tflite.
 */
class FashionMnistFixtureTest {
  private static final double MIN_ACCURACY = 0.89;
  private static final double TOLERANCE = 0.001;

  @Test
  void kerasTestAccuracyIsAtLeast89Percent() {
    double accuracy = FashionMnist.kerasAccuracy();
    assertTrue(accuracy >= MIN_ACCURACY, "Keras test accuracy " + accuracy);
  }

  @Test
  void npzFilesHoldTheWholeDatasetAsUint8ImagesAndInt64Labels() throws Exception {
    assertSplit(FashionMnist.train(), 60000, true);
    assertSplit(FashionMnist.test(), 10000, true);
    assertSplit(FashionMnist.trainImages(), 60000, false);
    // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class 0..9.
    assertClassCounts(FashionMnist.longs(FashionMnist.train(), "y"), 6000);
    assertClassCounts(FashionMnist.longs(FashionMnist.test(), "y"), 1000);
  }

  @Test
  void manifestAndSavedModelAgreeOnTheSignature() throws Exception {
    JsonObject manifest = FashionMnist.manifest();
    assertEquals("image", FashionMnist.inputKey());
    assertEquals("float32", manifest.get("input_dtype").getAsString());
    assertEquals("[null,28,28,1]", manifest.get("input_shape").toString());
    assertEquals("[null,10]", manifest.get("output_shape").toString());
    assertTrue(manifest.get("output_is_probabilities").getAsBoolean());
    assertEquals(FashionMnist.SCALE, manifest.get("input_scale").getAsDouble(), 1e-15);

    ServingSignature signature = ModelLoader.load(FashionMnist.model(), FashionMnist.SIGNATURE).signature();
    assertEquals(1, signature.inputs().size());
    assertEquals(1, signature.outputs().size());
    assertEquals(FashionMnist.inputKey(), signature.inputs().get(0).key());
    assertEquals(DataType.DT_FLOAT, signature.inputs().get(0).dtype());
    assertArrayEquals(new long[] {-1, 28, 28, 1}, signature.inputs().get(0).dims());
    assertEquals(FashionMnist.outputKey(), signature.outputs().get(0).key());
  }

  @Test
  void savedModelAccuracyMatchesKeras() {
    double accuracy = FashionMnist.accuracy(FashionMnist.model(), FashionMnist.test(), FashionMnist.SCALE);
    assertEquals(FashionMnist.kerasAccuracy(), accuracy, TOLERANCE);
  }

  @Test
  void tfliteAccuracyMatchesTheSavedModel(@TempDir Path tmp) throws Exception {
    Path tflite = tmp.resolve("model.tflite");
    long bytes = new TfliteConverter(Fixtures.python()).convert(FashionMnist.model(), FashionMnist.SIGNATURE, tflite);
    assertEquals(Files.size(tflite), bytes);
    double savedModel = FashionMnist.accuracy(FashionMnist.model(), FashionMnist.test(), FashionMnist.SCALE);
    double converted = FashionMnist.accuracy(tflite, FashionMnist.test(), FashionMnist.SCALE);
    assertEquals(savedModel, converted, TOLERANCE);
  }

  private static void assertSplit(Path npz, long examples, boolean labelled) throws Exception {
    Map<String, org.wclust.internal.data.NpyArray> arrays = FashionMnist.arrays(npz);
    assertEquals(labelled ? Set.of("x", "y") : Set.of("x"), arrays.keySet(), npz.toString());
    assertEquals("|u1", arrays.get("x").dtype().descr(), npz + " x dtype");
    assertArrayEquals(new long[] {examples, 28, 28, 1}, arrays.get("x").shape(), npz + " x shape");
    if (labelled) {
      assertEquals("<i8", arrays.get("y").dtype().descr(), npz + " y dtype");
      assertArrayEquals(new long[] {examples}, arrays.get("y").shape(), npz + " y shape");
    }
  }

  private static void assertClassCounts(long[] labels, int perClass) {
    int[] counts = new int[10];
    for (long label : labels) {
      assertTrue(label >= 0 && label < 10, "label " + label);
      counts[(int) label]++;
    }
    for (int c = 0; c < 10; c++) {
      assertEquals(perClass, counts[c], "examples of class " + c);
    }
  }
}

package org.wclust.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.TfJavaModels;

/** The API's measures of a model that the demo uses: top-1 accuracy on examples and zipped bytes. */
class WclustMeasuresTest {
  @TempDir
  Path tmp;

  /** y = the first three inputs: the arg-max is the position of the largest of them. */
  private static final float[][] PICK_FIRST_THREE = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 0, 0}};

  @Test
  void accuracyCountsTheExamplesWhoseArgMaxIsTheLabel() throws Exception {
    Path model = TfJavaModels.exportDense(tmp.resolve("m"), PICK_FIRST_THREE, new float[3]);
    // 700 examples (more than one evaluation batch): example i has its largest value at i % 3, and the
    // fourth input (ignored by the model) larger still; every fourth label is wrong, so 525 are right.
    int n = 700;
    float[] inputs = new float[n * 4];
    int[] labels = new int[n];
    int right = 0;
    for (int i = 0; i < n; i++) {
      int best = i % 3;
      inputs[i * 4 + best] = 1 + i % 5;
      inputs[i * 4 + 3] = 10;
      labels[i] = i % 4 == 0 ? (best + 1) % 3 : best;
      right += labels[i] == best ? 1 : 0;
    }
    assertEquals(525, right);
    assertEquals(0.75, Wclust.accuracy(model, Datasets.of(new long[] {4}, inputs, labels)), 1e-12);
  }

  @Test
  void accuracyNeedsLabelsAndAReadableModel() throws Exception {
    Path model = TfJavaModels.exportDense(tmp.resolve("m"), PICK_FIRST_THREE, new float[3]);
    Examples unlabeled = Datasets.unlabeled(new long[] {4}, new float[8]);
    assertThrows(IllegalArgumentException.class, () -> Wclust.accuracy(model, unlabeled));
    Path missing = tmp.resolve("missing");
    IOException e = assertThrows(IOException.class,
        () -> Wclust.accuracy(missing, Datasets.of(new long[] {4}, new float[4], new int[] {0})));
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
  }

  @Test
  void zippedBytesOfADirectoryIsTheArchiveOfItsFiles() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("d"));
    Path file = Files.write(dir.resolve("zeros.bin"), new byte[100_000]);
    long zipped = Wclust.zippedBytes(dir);
    // One entry with the same name either way; 100,000 zero bytes deflate to a few hundred.
    assertEquals(Wclust.zippedBytes(file), zipped);
    assertTrue(zipped > 100 && zipped < 1_000, "zipped " + zipped);
    Files.write(dir.resolve("more.bin"), new byte[] {1, 2, 3});
    assertTrue(Wclust.zippedBytes(dir) > zipped, "a second entry adds its header and data");
  }
}

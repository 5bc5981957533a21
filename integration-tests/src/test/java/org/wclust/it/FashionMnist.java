package org.wclust.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.wclust.internal.data.NpyArray;
import org.wclust.internal.data.NpzReader;

/**
 * The real-data acceptance fixture: Fashion-MNIST (from the Debian package {@code dataset-fashion-mnist},
 * installed by {@code scripts/setup-data.sh}) as .npz files, and a small Keras CNN trained on it, made
 * once per build by {@code make_fashion_mnist.py} into {@code target/fashion-mnist} (about a minute).
 *
 * <p>The .npz files hold raw uint8 pixels ({@code x}, [N, 28, 28, 1]) and int64 labels ({@code y});
 * the model takes float32 pixels in [0, 1] under the signature input {@link #inputKey()}, so inputs are
 * multiplied by {@link #SCALE} (wclust's {@code --scale}). Its output {@link #outputKey()} is class
 * probabilities (softmax). {@link #accuracy} is the independent Python check of an accuracy.
 */
final class FashionMnist {
  /** The input scale of the model: pixel / 255. */
  static final double SCALE = 1.0 / 255.0;
  static final String SIGNATURE = "serving_default";
  private static final Path DIR = Path.of("target/fashion-mnist").toAbsolutePath();
  private static JsonObject manifest;

  private FashionMnist() {}

  /** The fixture directory, made on first use (by this or an earlier test run). */
  static synchronized Path dir() {
    if (manifest == null) {
      try {
        if (!Files.exists(DIR.resolve("manifest.json"))) {
          Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_fashion_mnist.py").toString(), DIR.toString());
        }
        manifest = JsonParser.parseString(Files.readString(DIR.resolve("manifest.json"))).getAsJsonObject();
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("cannot make the Fashion-MNIST fixture", e);
      }
    }
    return DIR;
  }

  /** {@code manifest.json}: accuracy, signature keys and shapes, training time, epochs, seed. */
  static synchronized JsonObject manifest() {
    dir();
    return manifest.deepCopy();
  }

  /** The trained CNN, a SavedModel exported by Keras {@code model.export()}. */
  static Path model() {
    return dir().resolve("model");
  }

  /** 60,000 training images and labels. */
  static Path train() {
    return dir().resolve("train.npz");
  }

  /** 10,000 test images and labels. */
  static Path test() {
    return dir().resolve("test.npz");
  }

  /** The 60,000 training images without labels ({@code x} only), for distillation. */
  static Path trainImages() {
    return dir().resolve("train_images.npz");
  }

  /** Test accuracy of the trained model as measured by Keras {@code model.evaluate}. */
  static double kerasAccuracy() {
    return manifest().get("keras_test_accuracy").getAsDouble();
  }

  static String inputKey() {
    return manifest().get("input_key").getAsString();
  }

  static String outputKey() {
    return manifest().get("output_key").getAsString();
  }

  /**
   * Top-1 accuracy of a SavedModel directory or a .tflite file on an .npz with {@code x} and {@code y},
   * inputs multiplied by {@code scale}, computed by Python TensorFlow ({@code evaluate_accuracy.py}).
   */
  static double accuracy(Path modelOrTflite, Path npz, double scale) {
    JsonObject result = runJson(Fixtures.PYTHON_DIR.resolve("evaluate_accuracy.py").toString(),
        modelOrTflite.toAbsolutePath().toString(), npz.toAbsolutePath().toString(), "--scale", Double.toString(scale));
    return result.get("accuracy").getAsDouble();
  }

  /**
   * The arrays of an .npz file by name, read with wclust's own reader (itself checked against NumPy
   * in {@code DataReadersTest}).
   */
  static Map<String, NpyArray> arrays(Path npz) throws IOException {
    return NpzReader.readAll(npz);
  }

  /** The values of an integer array of an .npz (e.g. the labels {@code y}). */
  static long[] longs(Path npz, String name) throws IOException {
    try (NpzReader reader = NpzReader.open(npz)) {
      return reader.read(name).toLongs();
    }
  }

  /** Runs a Python script of the project's virtualenv and parses the last line of its stdout as JSON. */
  private static JsonObject runJson(String... args) {
    try {
      List<String> command = new ArrayList<>(List.of(Fixtures.python().python().toString()));
      command.addAll(List.of(args));
      Path err = Files.createTempFile("wclust-python", ".err");
      try {
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(err.toFile());
        pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
          in.transferTo(out);
        }
        String stdout = out.toString(StandardCharsets.UTF_8).strip();
        if (p.waitFor() != 0) {
          throw new IllegalStateException("python " + String.join(" ", args) + " failed:\n" + stdout + "\n"
              + Files.readString(err));
        }
        String[] lines = stdout.split("\n");
        return JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
      } finally {
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run python " + String.join(" ", args), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: python " + String.join(" ", args), e);
    }
  }
}

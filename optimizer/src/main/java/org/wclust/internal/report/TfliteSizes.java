package org.wclust.internal.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.wclust.internal.bridge.PythonTensorFlow;
import org.wclust.internal.bridge.SavedModelWriter;
import org.wclust.internal.bridge.TfliteSize;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.strip.ClusterStripper;

/**
 * Measures the .tflite sizes of the size report: the original model exported the way the clustered
 * one is (a constants-only SavedModel of the loaded flat model, BatchNorm folded as for clustering,
 * not clustered) and the clustered SavedModel, both converted by the TFLite converter of Python
 * TensorFlow into a temporary directory that is deleted afterwards. Both are measured as
 * {@value #TFLITE_NAME}.
 */
public final class TfliteSizes {
  /** The {@code size.tflite} note when Python TensorFlow is missing. */
  public static final String NO_PYTHON = "Python TensorFlow not found; " + PythonTensorFlow.INSTALL_HINT;
  /**
   * The name both .tflite files get: a zip archive holds the entry's name, so the zipped sizes of the
   * two models are compared under the same name (and equal those of {@code wclust convert -o
   * model.tflite}).
   */
  public static final String TFLITE_NAME = "model.tflite";

  private TfliteSizes() {}

  /**
   * {@code weights} with the .tflite sizes of {@code original} and {@code clusteredSavedModel}, or with
   * a note saying why they are missing (no Python TensorFlow, or a conversion failed).
   */
  public static SizeReport measure(SizeReport weights, FlatModel original, Path clusteredSavedModel,
      String clusteredSignature) throws IOException {
    Optional<PythonTensorFlow> python = PythonTensorFlow.find();
    if (python.isEmpty()) {
      return weights.withTfliteNote(NO_PYTHON);
    }
    Path tmp = Files.createTempDirectory("wclust-size");
    try {
      ClusterStripper.Frozen frozen = ClusterStripper.strip(original, List.of());
      Path originalDir = tmp.resolve("original_savedmodel");
      SavedModelWriter.write(originalDir, frozen.graph(), original.signature());
      TfliteSize originalSize = TfliteSize.convert(python.get(), originalDir, original.signature().name(),
          tmp.resolve("original").resolve(TFLITE_NAME));
      TfliteSize clusteredSize = TfliteSize.convert(python.get(), clusteredSavedModel, clusteredSignature,
          tmp.resolve("clustered").resolve(TFLITE_NAME));
      return weights.withTflite(originalSize, clusteredSize);
    } catch (IOException e) {
      return weights.withTfliteNote("conversion failed: " + e.getMessage());
    } finally {
      deleteRecursively(tmp);
    }
  }

  /**
   * The .tflite size of {@code original} exported as {@link #measure} exports it.
   *
   * @throws IOException when Python TensorFlow is missing or the conversion fails
   */
  public static TfliteSize original(FlatModel original) throws IOException {
    return originalTflite(original).size();
  }

  /** A converted .tflite: its bytes and sizes. */
  public record Converted(byte[] tflite, TfliteSize size) {}

  /**
   * The .tflite of {@code original} exported as {@link #measure} exports it, with its bytes.
   *
   * @throws IOException when Python TensorFlow is missing or the conversion fails
   */
  public static Converted originalTflite(FlatModel original) throws IOException {
    PythonTensorFlow python = PythonTensorFlow.find().orElseThrow(() -> new IOException(NO_PYTHON));
    Path tmp = Files.createTempDirectory("wclust-size");
    try {
      ClusterStripper.Frozen frozen = ClusterStripper.strip(original, List.of());
      Path originalDir = tmp.resolve("original_savedmodel");
      SavedModelWriter.write(originalDir, frozen.graph(), original.signature());
      Path tflite = tmp.resolve("original").resolve(TFLITE_NAME);
      TfliteSize size = TfliteSize.convert(python, originalDir, original.signature().name(), tflite);
      return new Converted(Files.readAllBytes(tflite), size);
    } finally {
      deleteRecursively(tmp);
    }
  }

  /** Deletes a file or directory tree; a missing path is fine. */
  public static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}

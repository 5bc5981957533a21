package org.wclust.internal.load;

import java.nio.file.Files;
import java.nio.file.Path;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.load.keras.KerasFile;
import org.wclust.internal.load.keras.KerasModelLoader;

/** Loads any supported model file or directory into a {@link FlatModel}. */
public final class ModelLoader {
  public static final String DEFAULT_SIGNATURE = "serving_default";

  private ModelLoader() {}

  /**
   * Loads {@code path}. Every failure is a {@link ModelLoadException} with one line naming the file:
   * the readers' own checks, and as a last resort any exception a library raises on a damaged file.
   */
  public static FlatModel load(Path path, String signature) throws ModelLoadException {
    try {
      return loadChecked(path, signature);
    } catch (ModelLoadException e) {
      if (e.getMessage() != null && e.getMessage().contains(path.toString())) {
        throw e;
      }
      throw new ModelLoadException(path + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new ModelLoadException("cannot load " + path + ": it is truncated, corrupt or not a model wclust reads ("
          + (e.getMessage() == null ? e.getClass().getSimpleName() : firstLine(e.getMessage())) + ")", e);
    }
  }

  private static String firstLine(String message) {
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  private static FlatModel loadChecked(Path path, String signature) throws ModelLoadException {
    if (!Files.exists(path)) {
      throw new ModelLoadException("no such file or directory: " + path);
    }
    if (Files.isDirectory(path) && !SavedModelLoader.looksLikeSavedModel(path) && KerasFile.isTfjsModel(path)) {
      return KerasModelLoader.load(path, signature);
    }
    if (Files.isDirectory(path)) {
      return SavedModelLoader.load(path, signature);
    }
    if (KerasFile.isKerasFile(path) || KerasFile.isTfjsModel(path)) {
      return KerasModelLoader.load(path, signature);
    }
    throw new ModelLoadException("not a model: " + path
        + " (expected a SavedModel directory, a .keras or an .h5 file, or a TensorFlow.js model.json)");
  }
}

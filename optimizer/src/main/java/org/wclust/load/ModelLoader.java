package org.wclust.load;

import java.nio.file.Files;
import java.nio.file.Path;
import org.wclust.graph.FlatModel;
import org.wclust.load.keras.KerasFile;
import org.wclust.load.keras.KerasModelLoader;

/** Loads any supported model file or directory into a {@link FlatModel}. */
public final class ModelLoader {
  public static final String DEFAULT_SIGNATURE = "serving_default";

  private ModelLoader() {}

  public static FlatModel load(Path path, String signature) throws ModelLoadException {
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

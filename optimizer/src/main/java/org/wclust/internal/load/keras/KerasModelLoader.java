package org.wclust.internal.load.keras;

import java.nio.file.Path;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.load.ModelLoadException;

/** Loads a Keras {@code .keras} / {@code .h5} file into an inference-mode {@link FlatModel}. */
public final class KerasModelLoader {
  private KerasModelLoader() {}

  public static FlatModel load(Path path, String signatureName) throws ModelLoadException {
    try (KerasFile file = KerasFile.open(path)) {
      return KerasGraphBuilder.inference(file, signatureName);
    }
  }

  /** The training-mode graph (batch statistics and update ops, active dropout). */
  public static KerasGraphBuilder.KerasGraph loadTraining(Path path, String signatureName) throws ModelLoadException {
    try (KerasFile file = KerasFile.open(path)) {
      return KerasGraphBuilder.build(file, signatureName, true);
    }
  }
}

package org.wclust.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.wclust.bridge.AtomicOutputDirectory;
import org.wclust.bridge.SavedModelWriter;
import org.wclust.graph.FlatModel;
import org.wclust.load.ModelLoadException;
import org.wclust.load.ModelLoader;
import org.wclust.strip.ClusterStripper;

/**
 * Exports any input wclust reads (SavedModel, .keras, .h5) as the TFLite-ready SavedModel, without
 * clustering: the loaded flat model with every variable read frozen into a constant, under the
 * source's serving signature. OUT appears complete or not at all.
 */
public final class Export {
  private Export() {}

  /** Returns the exported model's flat form (before freezing). */
  public static FlatModel toSavedModel(Path input, Path output, String signature)
      throws ModelLoadException, IOException {
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(output)) {
      FlatModel model = ModelLoader.load(input, signature);
      ClusterStripper.Frozen frozen = ClusterStripper.strip(model, List.of());
      try {
        SavedModelWriter.write(out.path(), frozen.graph(), model.signature());
      } catch (IOException e) {
        throw out.writeFailed(e);
      }
      out.commit();
      return model;
    }
  }
}

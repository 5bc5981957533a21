package org.wclust.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.wclust.internal.bridge.AtomicOutputDirectory;
import org.wclust.internal.bridge.SavedModelWriter;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.load.ModelLoadException;
import org.wclust.internal.load.ModelLoader;
import org.wclust.internal.strip.ClusterStripper;

/**
 * Exports any input wclust reads (SavedModel, .keras, .h5, model.json) as the TFLite-ready SavedModel,
 * without clustering: the loaded model with every variable read frozen into a constant, under the
 * source's serving signature. OUT appears complete or not at all.
 *
 * <pre>{@code
 * Export.Keys keys = Export.toSavedModel(Path.of("model.keras"), Path.of("model_savedmodel"), "serving_default");
 * }</pre>
 */
public final class Export {
  private Export() {}

  /** The input and output keys of the exported signature. */
  public record Keys(List<String> inputs, List<String> outputs) {}

  /** Returns the exported signature's input and output keys. */
  public static Keys toSavedModel(Path input, Path output, String signature) throws IOException {
    try {
      FlatModel model = write(input, output, signature);
      return new Keys(model.signature().inputs().stream().map(TensorSpec::key).toList(),
          model.signature().outputs().stream().map(TensorSpec::key).toList());
    } catch (ModelLoadException e) {
      throw Wclust.unreadable(e);
    }
  }

  private static FlatModel write(Path input, Path output, String signature) throws ModelLoadException, IOException {
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

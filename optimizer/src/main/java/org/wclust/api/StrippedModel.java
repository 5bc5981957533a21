package org.wclust.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.wclust.internal.bridge.AtomicOutputDirectory;

/**
 * A clustered model frozen into constants (each clustered weight {@code centroids[indices]}), ready to
 * export as a TFLite-ready SavedModel under the source's serving signature.
 *
 * <pre>{@code
 * StrippedModel stripped = clustered.strip();
 * stripped.distinctValues().forEach((w, n) -> System.out.println(w + ": " + n + " distinct values"));
 * stripped.exportSavedModel(Path.of("out"));
 * }</pre>
 */
public final class StrippedModel {
  private final ClusterPipeline pipeline;

  StrippedModel(ClusterPipeline pipeline) {
    this.pipeline = pipeline;
  }

  /** Per clustered weight (e.g. {@code dense/kernel}), its distinct values in the stripped model. */
  public Map<String, Integer> distinctValues() {
    Map<String, Integer> distinct = new LinkedHashMap<>();
    layers().forEach(l -> distinct.put(l.name(), l.distinctValues()));
    return distinct;
  }

  /** The per-layer figures of {@value Wclust#REPORT_FILE}. */
  public List<LayerReport> layers() {
    return pipeline.layerReports();
  }

  /**
   * Writes the SavedModel (constants only, the source's signature) with its {@value Wclust#REPORT_FILE}
   * into {@code dir}, which must not exist and appears complete or not at all.
   */
  public ClusterSummary exportSavedModel(Path dir) throws IOException {
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(dir)) {
      ClusterResult result;
      try {
        pipeline.write(out.path());
        result = pipeline.report(dir, out.path(), false);
        pipeline.writeReport(out.path(), result, null);
      } catch (IOException e) {
        throw out.writeFailed(e);
      }
      out.commit();
      return ClusterSummary.of(result);
    }
  }
}

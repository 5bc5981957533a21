package org.wclust.examples;

import java.nio.file.Path;
import org.wclust.api.ClusterConfig;
import org.wclust.api.ClusterSummary;
import org.wclust.api.LayerReport;
import org.wclust.api.Wclust;

/**
 * Example 1: cluster a SavedModel in one call, with the CLI's defaults and 16 clusters per weight.
 *
 * <p>Usage: {@code OneCallExample SAVED_MODEL_DIR OUT_DIR}
 */
public final class OneCallExample {
  public static void main(String[] args) throws Exception {
    Path model = Path.of(args[0]);
    Path out = Path.of(args[1]);

    ClusterSummary s = Wclust.cluster(model, out, ClusterConfig.builder().clusters(16).build());

    for (LayerReport l : s.layers()) {
      System.out.printf("%-20s %-8s %2d clusters, %2d distinct values%n", l.name(), l.op(), l.clusters(),
          l.distinctValues());
    }
    s.sizes().originalTflite().ifPresent(t -> System.out.printf("original .tflite: %d bytes zipped%n", t.zippedBytes()));
    s.sizes().clusteredTflite().ifPresent(t -> System.out.printf("clustered .tflite: %d bytes zipped%n", t.zippedBytes()));
    System.out.println("wrote " + s.output() + " with " + s.reportFile().getFileName());
    if (s.maxDistinctValues() > 16) {
      throw new AssertionError("a weight kept " + s.maxDistinctValues() + " values, more than 16");
    }
  }
}

package org.wclust.api;

import com.google.gson.JsonElement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.wclust.internal.bridge.PythonTensorFlow;
import org.wclust.internal.bridge.TfliteSize;
import org.wclust.internal.report.TfliteSizes;

/**
 * The {@code .tflite} figures of a SavedModel that {@code wclust report} compares: the bytes and zipped
 * bytes of its float {@code .tflite}, the number of conv/dense weight tensors in it and the most distinct
 * values in any one of them (at most k after clustering into k).
 *
 * <pre>{@code
 * TfliteStats s = TfliteStats.of(Path.of("model_k16"), Wclust.DEFAULT_SIGNATURE);
 * System.out.println(s.size().zippedBytes() + " bytes zipped, " + s.maxDistinctPerTensor() + " values");
 * }</pre>
 */
public record TfliteStats(Path savedModel, ClusterSummary.TfliteBytes size, int weightTensors,
    int maxDistinctPerTensor) {

  /**
   * Converts {@code savedModel} (signature {@code signature}) with Python TensorFlow's TFLite converter
   * into a temporary file, deleted afterwards, and measures it; {@code savedModel} is not modified.
   */
  public static TfliteStats of(Path savedModel, String signature) throws IOException {
    PythonTensorFlow python = PythonTensorFlow.require();
    Path tmp = Files.createTempDirectory("wclust-report");
    try {
      // The same file name for every model: a zip archive holds the entry's name.
      Path tflite = tmp.resolve(TfliteSizes.TFLITE_NAME);
      TfliteSize size = TfliteSize.convert(python, savedModel, signature, tflite);
      int tensors = 0;
      int maxDistinct = 0;
      for (JsonElement e : python.runTool("weights", tflite.toString()).getAsJsonArray("weights")) {
        tensors++;
        JsonElement distinct = e.getAsJsonObject().get("distinct");
        if (distinct != null && !distinct.isJsonNull()) {
          maxDistinct = Math.max(maxDistinct, distinct.getAsInt());
        }
      }
      return new TfliteStats(savedModel, ClusterSummary.TfliteBytes.of(size), tensors, maxDistinct);
    } finally {
      TfliteSizes.deleteRecursively(tmp);
    }
  }
}

package org.wclust.internal.bridge;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The size of a {@code .tflite} file and its zipped size ({@link ZipSize}: deflate at the default
 * level, the metric of tfmot's published results).
 */
public record TfliteSize(long tfliteBytes, long zippedBytes) {
  /** Measures an existing {@code .tflite} file. */
  public static TfliteSize of(Path tflite) throws IOException {
    return new TfliteSize(Files.size(tflite), ZipSize.of(tflite));
  }

  /** Converts {@code savedModel} (signature {@code signatureKey}) into {@code tflite} and measures it. */
  public static TfliteSize convert(PythonTensorFlow python, Path savedModel, String signatureKey, Path tflite)
      throws IOException {
    new TfliteConverter(python).convert(savedModel, signatureKey, tflite);
    return of(tflite);
  }

  /** {@code {"tflite_bytes": N, "zipped_tflite_bytes": N}}. */
  public JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("tflite_bytes", tfliteBytes);
    o.addProperty("zipped_tflite_bytes", zippedBytes);
    return o;
  }
}

package org.wclust.bridge;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Converts a SavedModel to a .tflite file with the Python TFLite converter. */
public final class TfliteConverter {
  private final PythonTensorFlow python;

  public TfliteConverter(PythonTensorFlow python) {
    this.python = python;
  }

  /**
   * Converts {@code savedModel} (signature {@code signatureKey}) into {@code tflite}, written atomically
   * (a temporary file renamed on success); returns the .tflite size in bytes.
   */
  public long convert(Path savedModel, String signatureKey, Path tflite) throws IOException {
    Path absolute = tflite.toAbsolutePath();
    Files.createDirectories(absolute.getParent());
    Path partial = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".partial");
    try {
      JsonObject result = python.runTool("convert", savedModel.toString(), partial.toString(),
          "--signature", signatureKey);
      Files.move(partial, absolute, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      return result.get("tflite_bytes").getAsLong();
    } finally {
      Files.deleteIfExists(partial);
    }
  }
}

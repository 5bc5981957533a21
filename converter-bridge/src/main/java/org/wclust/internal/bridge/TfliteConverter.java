package org.wclust.internal.bridge;

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
    return convert(savedModel, signatureKey, tflite, Quantization.NONE, null, 1f);
  }

  /** Weight/activation quantization applied by the converter. */
  public enum Quantization {
    /** float32 weights and activations */
    NONE,
    /** int8 weights, float activations (dynamic range) */
    DYNAMIC,
    /** int8 weights and activations, calibrated on representative inputs; float input/output */
    INT8,
    /** as {@link #INT8} with one scale per weight tensor instead of one per output channel */
    INT8_PER_TENSOR;

    public String cliName() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** Whether activations are quantized too, which needs representative inputs. */
    public boolean needsData() {
      return this == INT8 || this == INT8_PER_TENSOR;
    }

    /** The value of {@code --quantize NAME}, or an error naming {@code allowed}. */
    public static Quantization parse(String name, java.util.List<Quantization> allowed) {
      for (Quantization q : allowed) {
        if (q.cliName().equals(name)) {
          return q;
        }
      }
      throw new IllegalArgumentException("unknown --quantize '" + name + "'; expected "
          + String.join(", ", allowed.stream().map(Quantization::cliName).toList()));
    }
  }

  /**
   * Converts with quantization; {@code data} (an .npz with an array {@code x}, multiplied by
   * {@code dataScale}) is the representative dataset that {@link Quantization#INT8} calibrates on.
   */
  public long convert(Path savedModel, String signatureKey, Path tflite, Quantization quantization,
      Path data, float dataScale) throws IOException {
    Path absolute = tflite.toAbsolutePath();
    Files.createDirectories(absolute.getParent());
    Path partial = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".partial");
    try {
      java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("convert",
          savedModel.toString(), partial.toString(), "--signature", signatureKey,
          "--quantize", quantization.cliName(), "--data-scale", Float.toString(dataScale)));
      if (data != null) {
        args.add("--data");
        args.add(data.toAbsolutePath().toString());
      }
      JsonObject result = python.runTool(args.toArray(new String[0]));
      Files.move(partial, absolute, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      return result.get("tflite_bytes").getAsLong();
    } finally {
      Files.deleteIfExists(partial);
    }
  }
}

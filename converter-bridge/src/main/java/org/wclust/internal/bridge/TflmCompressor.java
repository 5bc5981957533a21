package org.wclust.internal.bridge;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Lookup-table compression of a .tflite for TensorFlow Lite Micro (TFLM), with PyPI
 * {@code tflite-micro} ({@code tflite_tool.py compress}, see {@code tflm_compression.py}): each conv /
 * depthwise / dense / transposed-conv weight that gets smaller is stored as b-bit indices into value
 * tables that TFLM's {@code TFLM_DECODE} operators expand at run time. The result is written only after
 * both models ran in TFLM's interpreter: every decoded weight equal to the original, outputs equal
 * within 1e-4 of the largest |output| (float) or exactly (int8 weights).
 */
public final class TflmCompressor {
  private final PythonTensorFlow python;

  public TflmCompressor(PythonTensorFlow python) {
    this.python = python;
  }

  /**
   * How the compressed model is verified and what happens when nothing compresses.
   *
   * @param samples inputs run through both models
   * @param seed of the random inputs
   * @param data null for random inputs, or an .npz whose array {@code x} (times {@code dataScale})
   *     gives them
   * @param allowUncompressed with no weight to compress, write the model unchanged instead of failing
   */
  public record Options(int samples, long seed, Path data, float dataScale, boolean allowUncompressed) {
    public Options {
      if (samples < 1) {
        throw new IllegalArgumentException("verification needs at least 1 input, got " + samples);
      }
    }
  }

  /**
   * What compression did: file sizes before and after, the weights compressed, and per weight
   * tensor its {@code mode} ({@code per_tensor}, {@code per_channel} or {@code none}), {@code bits},
   * {@code table_length}, {@code saved_bytes} (estimated; the file sizes are exact) or a {@code note}
   * saying why it stayed; the TFLM run that verified it (null when nothing was compressed).
   */
  public record Result(long uncompressedBytes, long compressedBytes, int compressedTensors, JsonArray tensors,
      JsonObject verification, String tfliteMicroVersion, double seconds) {

    public List<JsonObject> tensorList() {
      List<JsonObject> list = new ArrayList<>();
      for (JsonElement e : tensors) {
        list.add(e.getAsJsonObject());
      }
      return list;
    }

    public double ratio() {
      return (double) compressedBytes / uncompressedBytes;
    }

    public JsonObject toJson() {
      JsonObject o = new JsonObject();
      o.addProperty("uncompressed_tflite_bytes", uncompressedBytes);
      o.addProperty("compressed_tflite_bytes", compressedBytes);
      o.addProperty("ratio", ratio());
      o.addProperty("compressed_tensors", compressedTensors);
      o.add("tensors", tensors);
      if (verification != null) {
        o.add("verification", verification);
      }
      o.addProperty("tflite_micro", tfliteMicroVersion);
      o.addProperty("seconds", seconds);
      return o;
    }
  }

  /**
   * Compresses {@code tflite} into {@code out} (overwritten; callers write to a temporary file and
   * rename it). Fails with the tool's one-line reason: nothing to compress (unless
   * {@link Options#allowUncompressed}), a TFLM mismatch naming the weight or output, or tflite-micro
   * missing with its install command.
   */
  public Result compress(Path tflite, Path out, Options options) throws IOException {
    List<String> args = new ArrayList<>(List.of("compress", tflite.toAbsolutePath().toString(),
        out.toAbsolutePath().toString(), "--samples", Integer.toString(options.samples()),
        "--seed", Long.toString(options.seed()), "--data-scale", Float.toString(options.dataScale())));
    if (options.data() != null) {
      args.add("--data");
      args.add(options.data().toAbsolutePath().toString());
    }
    if (options.allowUncompressed()) {
      args.add("--allow-uncompressed");
    }
    JsonObject r;
    try {
      r = python.runTool(args.toArray(new String[0]));
    } catch (IOException e) {
      throw new IOException(e.getMessage().replace("TFLite tool failed: tflite_tool: ", "TFLM compression: "), e);
    }
    return new Result(r.get("uncompressed_bytes").getAsLong(), r.get("compressed_bytes").getAsLong(),
        r.get("compressed_tensors").getAsInt(), r.getAsJsonArray("tensors"),
        r.has("verification") ? r.getAsJsonObject("verification") : null,
        r.get("tflite_micro_version").getAsString(), r.get("seconds").getAsDouble());
  }
}

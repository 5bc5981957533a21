package org.wclust.internal.load.keras;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.load.ModelLoadException;

/**
 * The weights of a TensorFlow.js layers model, decoded from its {@code weightsManifest} and binary
 * shards as TF.js' {@code decodeWeights} does: each group's shards are concatenated and its weights
 * follow one another, little-endian. A weight of dtype float32 is stored as
 *
 * <ul>
 *   <li>float32 (no {@code quantization} entry);
 *   <li>{@code "quantization": {"dtype": "uint8"|"uint16", "scale": s, "min": m}}: unsigned integers
 *       q, the value being {@code q * s + m} (computed in double, then rounded to float32, as TF.js
 *       does);
 *   <li>{@code "quantization": {"dtype": "float16"}}: IEEE 754 half precision.
 * </ul>
 */
final class TfjsWeights {
  private TfjsWeights() {}

  /** Every weight of the manifest, in manifest order, named as the manifest names it. */
  static List<KerasFile.NamedValue> read(Path json, JsonArray manifest) throws IOException, ModelLoadException {
    List<KerasFile.NamedValue> weights = new ArrayList<>();
    for (JsonElement g : manifest) {
      JsonObject group = g.getAsJsonObject();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (JsonElement p : group.getAsJsonArray("paths")) {
        Path shard = json.resolveSibling(p.getAsString());
        if (!Files.isRegularFile(shard)) {
          throw new ModelLoadException("missing TensorFlow.js weight file " + shard + " (listed in " + json + ")");
        }
        bytes.write(Files.readAllBytes(shard));
      }
      ByteBuffer data = ByteBuffer.wrap(bytes.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
      for (JsonElement w : group.getAsJsonArray("weights")) {
        weights.add(decode(json, w.getAsJsonObject(), data));
      }
    }
    return weights;
  }

  private static KerasFile.NamedValue decode(Path json, JsonObject spec, ByteBuffer data) throws ModelLoadException {
    String name = spec.get("name").getAsString();
    String dtype = spec.get("dtype").getAsString();
    if (!dtype.equals("float32")) {
      throw new ModelLoadException("unsupported TensorFlow.js weight " + name + " in " + json + ": dtype " + dtype
          + " (float32 weights are supported, also when quantized to uint8, uint16 or float16)");
    }
    JsonObject quantization = spec.has("quantization") ? spec.getAsJsonObject("quantization") : null;
    String stored = quantization == null ? "float32" : quantization.get("dtype").getAsString();
    int bytesPerValue = switch (stored) {
      case "float32" -> 4;
      case "uint16", "float16" -> 2;
      case "uint8" -> 1;
      default -> throw new ModelLoadException("unsupported TensorFlow.js weight " + name + " in " + json
          + ": quantization dtype " + stored + " (uint8, uint16 and float16 are supported)");
    };
    JsonArray dims = spec.getAsJsonArray("shape");
    long[] shape = new long[dims.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      shape[i] = dims.get(i).getAsLong();
      if (shape[i] < 0 || count * (double) shape[i] > Integer.MAX_VALUE) {
        throw new ModelLoadException("corrupt TensorFlow.js model " + json + ": weight " + name
            + " declares an impossible shape " + dims);
      }
      count *= shape[i];
    }
    if (data.remaining() < count * bytesPerValue) {
      throw new ModelLoadException("corrupt TensorFlow.js model " + json + ": the weight files end before "
          + name + " (truncated?)");
    }
    float[] values = new float[(int) count];
    switch (stored) {
      case "float32" -> data.asFloatBuffer().get(values);
      case "float16" -> {
        for (int i = 0; i < values.length; i++) {
          values[i] = HostTensor.halfToFloat(data.getShort(data.position() + 2 * i));
        }
      }
      default -> {
        if (!quantization.has("scale") || !quantization.has("min")) {
          throw new ModelLoadException("corrupt TensorFlow.js model " + json + ": weight " + name
              + " is quantized to " + stored + " without scale and min");
        }
        double scale = quantization.get("scale").getAsDouble();
        double min = quantization.get("min").getAsDouble();
        for (int i = 0; i < values.length; i++) {
          int q = stored.equals("uint8") ? Byte.toUnsignedInt(data.get(data.position() + i))
              : Short.toUnsignedInt(data.getShort(data.position() + 2 * i));
          values[i] = (float) (q * scale + min);
        }
      }
    }
    data.position(data.position() + values.length * bytesPerValue);
    return new KerasFile.NamedValue(name, HostTensor.ofFloats(shape, values));
  }
}

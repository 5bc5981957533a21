package org.wclust.api;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.wclust.internal.bridge.TflmCompressor;

/**
 * What the TFLM lookup-table compression of a {@code .tflite} did: the file's bytes before and after,
 * how many weight tensors it compressed, per weight tensor how, and on how many inputs TFLM's
 * interpreter verified it (empty when nothing was compressed).
 */
public record TflmCompression(long uncompressedBytes, long compressedBytes, int compressedTensors,
    List<Tensor> tensors, OptionalInt verifiedInputs) {

  /**
   * One weight tensor: its operator, shape and {@code mode} ({@code per_tensor}, {@code per_channel}
   * or {@code none}); when compressed the index {@code bits}, the number of lookup {@code tables}, their
   * length and the bytes saved (estimated; the file sizes are exact), else a {@code note} saying why not.
   */
  public record Tensor(String op, List<Long> shape, String mode, int bits, int tables, int tableLength,
      long savedBytes, String note) {
    /** Whether the tensor is stored as lookup-table indices. */
    public boolean compressed() {
      return !mode.equals("none");
    }

    static Tensor of(JsonObject t) {
      List<Long> shape = new ArrayList<>();
      t.getAsJsonArray("shape").forEach(d -> shape.add(d.getAsLong()));
      return new Tensor(t.get("op").getAsString(), List.copyOf(shape), t.get("mode").getAsString(),
          integer(t, "bits"), integer(t, "tables"), integer(t, "table_length"),
          t.has("saved_bytes") ? t.get("saved_bytes").getAsLong() : 0,
          t.has("note") && !t.get("note").isJsonNull() ? t.get("note").getAsString() : "");
    }

    private static int integer(JsonObject t, String key) {
      JsonElement e = t.get(key);
      return e == null || e.isJsonNull() ? 0 : e.getAsInt();
    }
  }

  /** The compressed size over the uncompressed size. */
  public double ratio() {
    return (double) compressedBytes / uncompressedBytes;
  }

  static TflmCompression of(TflmCompressor.Result r) {
    List<Tensor> tensors = new ArrayList<>();
    r.tensorList().forEach(t -> tensors.add(Tensor.of(t)));
    JsonObject verification = r.verification();
    return new TflmCompression(r.uncompressedBytes(), r.compressedBytes(), r.compressedTensors(),
        List.copyOf(tensors), verification == null ? OptionalInt.empty()
            : OptionalInt.of(verification.get("inputs").getAsInt()));
  }
}

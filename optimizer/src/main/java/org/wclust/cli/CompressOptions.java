package org.wclust.cli;

import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Path;
import org.wclust.bridge.TflmCompressor;
import picocli.CommandLine.Option;

/** The TFLM lookup-table compression options of {@code convert} and {@code cluster --tflite}. */
final class CompressOptions {
  @Option(names = "--compress",
      description = "compress the .tflite for TensorFlow Lite Micro (lookup tables of b-bit indices, "
          + "TFLM_DECODE operators; needs PyPI 'tflite-micro') and verify it in TFLM's interpreter")
  boolean compress;

  @Option(names = "--allow-uncompressed",
      description = "with --compress: when no weight gets smaller as lookup tables, write the plain "
          + ".tflite instead of failing")
  boolean allowUncompressed;

  @Option(names = "--verify-inputs", paramLabel = "N", defaultValue = "3",
      description = "with --compress: inputs run through the uncompressed and the compressed model in TFLM "
          + "(rows of --data, else seeded random values) (default: ${DEFAULT-VALUE})")
  int verifyInputs;

  @Option(names = "--verify-seed", paramLabel = "S", defaultValue = "0",
      description = "with --compress: seed of the random verification inputs (default: ${DEFAULT-VALUE})")
  long verifySeed;

  /** Null without --compress; {@code data} (times {@code scale}) gives the verification inputs. */
  TflmCompressor.Options options(Path data, float scale) {
    if (!compress) {
      if (allowUncompressed) {
        throw new IllegalArgumentException("--allow-uncompressed needs --compress");
      }
      return null;
    }
    return new TflmCompressor.Options(verifyInputs, verifySeed, data, scale, allowUncompressed);
  }

  /** One line for the sizes, one per weight tensor. */
  static void print(PrintWriter out, TflmCompressor.Result r) {
    out.printf("TFLM lookup tables: %d of %d weight tensors, %d -> %d bytes (%.3fx)%s%n", r.compressedTensors(),
        r.tensors().size(), r.uncompressedBytes(), r.compressedBytes(), r.ratio(), r.verification() == null ? ""
            : String.format("; verified in TFLM on %d inputs", r.verification().get("inputs").getAsInt()));
    for (JsonObject t : r.tensorList()) {
      String mode = t.get("mode").getAsString();
      out.printf("  %-18s %-20s %-11s %s%n", t.get("op").getAsString(), t.get("shape").toString(), mode,
          mode.equals("none") ? t.get("note").getAsString()
              : String.format("%d bits, %d table%s of %d, saves %d bytes", t.get("bits").getAsInt(),
                  t.get("tables").getAsInt(), t.get("tables").getAsInt() == 1 ? "" : "s",
                  t.get("table_length").getAsInt(), t.get("saved_bytes").getAsLong()));
    }
  }
}

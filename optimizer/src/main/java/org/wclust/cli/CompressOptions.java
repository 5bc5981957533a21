package org.wclust.cli;

import java.io.PrintWriter;
import java.util.stream.Collectors;
import org.wclust.api.TfliteOutput;
import org.wclust.api.TflmCompression;
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

  /** {@code builder} with these options; its {@code build()} fails on --allow-uncompressed without --compress. */
  TfliteOutput.Builder apply(TfliteOutput.Builder builder) {
    return builder.compress(compress).allowUncompressed(allowUncompressed).verifyInputs(verifyInputs)
        .verifySeed(verifySeed);
  }

  /** One line for the sizes, one per weight tensor. */
  static void print(PrintWriter out, TflmCompression r) {
    out.printf("TFLM lookup tables: %d of %d weight tensors, %d -> %d bytes (%.3fx)%s%n", r.compressedTensors(),
        r.tensors().size(), r.uncompressedBytes(), r.compressedBytes(), r.ratio(), r.verifiedInputs().isEmpty() ? ""
            : String.format("; verified in TFLM on %d inputs", r.verifiedInputs().getAsInt()));
    for (TflmCompression.Tensor t : r.tensors()) {
      String shape = t.shape().stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
      out.printf("  %-18s %-20s %-11s %s%n", t.op(), shape, t.mode(), !t.compressed() ? t.note()
          : String.format("%d bits, %d table%s of %d, saves %d bytes", t.bits(), t.tables(),
              t.tables() == 1 ? "" : "s", t.tableLength(), t.savedBytes()));
    }
  }
}

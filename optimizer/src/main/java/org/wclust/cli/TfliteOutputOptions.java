package org.wclust.cli;

import java.nio.file.Path;
import org.wclust.api.TfliteOutput;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code cluster --tflite FILE.tflite}: convert (and compress) the clustered model in the same run. */
final class TfliteOutputOptions {
  @Option(names = "--tflite", paramLabel = "FILE.tflite",
      description = "also convert OUT to FILE.tflite (with FILE.tflite.json), written only if OUT is; "
          + "its sizes go into the report's size.tflite_output")
  Path file;

  @Option(names = "--quantize", paramLabel = "MODE", defaultValue = "none",
      description = {"with --tflite (default: ${DEFAULT-VALUE}):",
          "  none             float32",
          "  int8             int8 weights (scale per output channel) and activations, calibrated on "
              + "--representative; implies --int8-aware, so every int8 weight keeps at most K values per "
              + "channel and reproduces the clustered values",
          "  int8-per-tensor  int8 with one weight scale per tensor: a weight clustered into K values keeps "
              + "at most K int8 values (rounded to the tensor's grid); the smallest with --compress"})
  String quantize;

  @Option(names = "--representative", paramLabel = "FILE.npz",
      description = "with --tflite: representative inputs for --quantize int8 and the inputs that verify "
          + "--compress: an .npz with an array 'x' (times --scale) (default: --data when it is an .npz)")
  Path representative;

  @Mixin
  CompressOptions compress;

  /** Null without --tflite; fails on options that need it, or int8 without representative data. */
  TfliteOutput output(Path data, double scale) {
    if (file == null) {
      if (!quantize.equals("none") || representative != null || compress.compress) {
        throw new IllegalArgumentException("--quantize, --representative and --compress need --tflite FILE.tflite");
      }
      return null;
    }
    Path inputs = representative != null ? representative
        : data != null && data.getFileName().toString().endsWith(".npz") ? data : null;
    return compress.apply(TfliteOutput.to(file).quantize(quantize).representative(inputs, scale)).build();
  }
}

package org.wclust.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.wclust.bridge.TfliteConverter;
import org.wclust.bridge.TfliteExport;
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

  /** --quantize int8: the per-channel int8 grids that --int8-aware snaps to. */
  boolean int8() {
    return quantization() == TfliteConverter.Quantization.INT8;
  }

  private TfliteConverter.Quantization quantization() {
    return TfliteConverter.Quantization.parse(quantize, List.of(TfliteConverter.Quantization.NONE,
        TfliteConverter.Quantization.INT8, TfliteConverter.Quantization.INT8_PER_TENSOR));
  }

  /**
   * Per-channel snapping gives a tensor up to K values per channel, which one scale per tensor would
   * round into a table too long for TFLM: --int8-aware goes with int8, not int8-per-tensor.
   */
  void checkSnapping(boolean int8Aware) {
    if (int8Aware && quantization() == TfliteConverter.Quantization.INT8_PER_TENSOR) {
      throw new IllegalArgumentException("--int8-aware snaps to per-channel int8 grids; use it with "
          + "--quantize int8, not int8-per-tensor");
    }
  }

  /** Null without --tflite; fails on options that need it, or int8 without representative data. */
  TfliteExport.Target target(Path data, double scale) {
    if (file == null) {
      if (quantization() != TfliteConverter.Quantization.NONE || representative != null || compress.compress) {
        throw new IllegalArgumentException("--quantize, --representative and --compress need --tflite FILE.tflite");
      }
      return null;
    }
    if (!file.getFileName().toString().endsWith(".tflite")) {
      throw new IllegalArgumentException("--tflite must name a .tflite file: " + file);
    }
    Path inputs = representative != null ? representative
        : data != null && data.getFileName().toString().endsWith(".npz") ? data : null;
    if (inputs != null && !Files.isRegularFile(inputs)) {
      throw new IllegalArgumentException("no such file: " + inputs);
    }
    if (quantization().needsData() && inputs == null) {
      throw new IllegalArgumentException("--quantize " + quantize + " needs representative inputs: "
          + "--representative FILE.npz (or --data FILE.npz)");
    }
    return new TfliteExport.Target(file, quantization(), inputs, (float) scale, compress.options(inputs, (float) scale));
  }
}

package org.wclust.cli;

import java.nio.file.Files;
import java.nio.file.Path;
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
      description = {"with --tflite: none (float32, default) or int8 (int8 weights and activations, "
          + "calibrated on --representative). int8 implies --int8-aware, so every int8 weight keeps at "
          + "most K values per output channel and the int8 model reproduces the clustered values."})
  String quantize;

  @Option(names = "--representative", paramLabel = "FILE.npz",
      description = "with --tflite: representative inputs for --quantize int8 and the inputs that verify "
          + "--compress: an .npz with an array 'x' (times --scale) (default: --data when it is an .npz)")
  Path representative;

  @Mixin
  CompressOptions compress;

  boolean int8() {
    return quantization() == TfliteConverter.Quantization.INT8;
  }

  private TfliteConverter.Quantization quantization() {
    return switch (quantize) {
      case "none" -> TfliteConverter.Quantization.NONE;
      case "int8" -> TfliteConverter.Quantization.INT8;
      default -> throw new IllegalArgumentException("unknown --quantize '" + quantize + "'; expected none or int8");
    };
  }

  /** Null without --tflite; fails on options that need it, or int8 without representative data. */
  TfliteExport.Target target(Path data, double scale) {
    if (file == null) {
      if (int8() || representative != null || compress.compress) {
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
    if (int8() && inputs == null) {
      throw new IllegalArgumentException("--quantize int8 needs representative inputs: --representative FILE.npz "
          + "(or --data FILE.npz)");
    }
    return new TfliteExport.Target(file, quantization(), inputs, (float) scale, compress.options(inputs, (float) scale));
  }
}

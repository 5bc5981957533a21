package org.wclust.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.wclust.api.TfliteConversion;
import org.wclust.api.TfliteOutput;
import org.wclust.api.Wclust;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code wclust convert}: the bridge to the TFLite converter of Python TensorFlow. */
@Command(name = "convert", mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    description = {"Convert a SavedModel to .tflite with the TFLite converter, optionally compressed for TFLM.",
        "Converts SAVEDMODEL (e.g. the output of 'wclust cluster') with the TFLite converter of the "
            + "Python 'tensorflow' package and prints the .tflite size and its zipped size (deflate, "
            + "the metric of tfmot's published results); both are also written to FILE.tflite.json "
            + "({\"tflite_bytes\": N, \"zipped_tflite_bytes\": N, ...}) next to it. SAVEDMODEL is never "
            + "modified. Python is found via WCLUST_PYTHON, the project's .venv (made by "
            + "scripts/setup-python.sh), or python3.",
        "With --compress the .tflite is compressed for TensorFlow Lite for Microcontrollers (TFLM, "
            + "PyPI 'tflite-micro'): every CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and "
            + "TRANSPOSE_CONV weight that gets smaller is stored as b-bit indices (the fewest bits that "
            + "hold its values, at most 7) into lookup tables, one per tensor, or one per output "
            + "channel for int8 weights quantized per channel, and TFLM_DECODE operators expand them "
            + "at run time. The file is written only after both models ran in TFLM's interpreter on "
            + "--verify-inputs inputs (rows of --data, else random) with every decoded weight equal "
            + "to the original and the outputs equal (float: within 1e-4 of the largest |output|; "
            + "int8: exactly). SAVEDMODEL may then also be a .tflite file. FILE.tflite.json gets the "
            + "uncompressed sizes and per weight: mode, bits, table length, bytes saved.",
        "",
        "Examples:",
        "  wclust convert model_k16/ -o model.tflite",
        "  wclust convert model_k16/ -o model.tflite --compress",
        "  wclust convert model_k16/ -o model_int8.tflite --quantize int8 --data images.npz --compress",
        "  wclust convert model.tflite -o model_tflm.tflite --compress"})
public final class ConvertCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "SAVEDMODEL", description = "a SavedModel directory (or, with --compress, a .tflite file)")
  Path savedModel;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.tflite",
      description = "the .tflite file to write")
  Path output;

  @Option(names = "--signature", defaultValue = Wclust.DEFAULT_SIGNATURE,
      description = "signature to convert (default: ${DEFAULT-VALUE})")
  String signature;

  @Option(names = "--quantize", paramLabel = "MODE", defaultValue = "none",
      description = {"weight quantization by the converter (default: ${DEFAULT-VALUE}):",
          "  none     float32",
          "  dynamic  int8 weights, float activations",
          "  int8     int8 weights and activations, calibrated on --data; float input and output",
          "  int8-per-tensor  as int8, with one weight scale per tensor instead of per output channel",
          "Weights are quantized symmetrically per output channel; cluster with --int8-aware to keep "
              + "the clustered values exact. With int8-per-tensor a tensor clustered into k values keeps "
              + "at most k int8 values (rounded to the tensor's grid), so one lookup table fits it and "
              + "--compress has no per-channel tables and scales to store."})
  String quantize;

  @Option(names = "--data", paramLabel = "FILE.npz",
      description = "representative inputs for --quantize int8, and the inputs that verify --compress: "
          + "an .npz with an array 'x' shaped like the model input")
  Path data;

  @Option(names = "--scale", defaultValue = "1.0",
      description = "multiply --data by this before calibration, e.g. 0.00392157 for uint8 images (default: ${DEFAULT-VALUE})")
  float scale;

  @Mixin
  CompressOptions compress;

  @Override
  public Integer call() throws Exception {
    // Checks the quantization, --data and the compression options.
    TfliteOutput target = compress.apply(TfliteOutput.convertTo(output).quantize(quantize).representative(data, scale))
        .build();
    if (!Files.exists(savedModel)) {
      throw new IllegalArgumentException("no such file or directory: " + savedModel);
    }
    boolean tfliteInput = Files.isRegularFile(savedModel) && savedModel.toString().endsWith(".tflite");
    if (tfliteInput && !target.compressed()) {
      throw new IllegalArgumentException(savedModel + " is already a .tflite; pass --compress to compress it for TFLM");
    }
    if (tfliteInput && target.quantized()) {
      throw new IllegalArgumentException("--quantize applies to a SavedModel, not to the .tflite " + savedModel);
    }
    if (!tfliteInput && !Wclust.isSavedModel(savedModel)) {
      throw new IllegalArgumentException("not a SavedModel: " + savedModel + " has no saved_model.pb");
    }
    Path input = savedModel.toAbsolutePath().normalize();
    if (output.toAbsolutePath().normalize().startsWith(input)) { // also when OUT is the input .tflite
      throw new IllegalArgumentException("output " + output + " is inside SAVEDMODEL " + savedModel
          + ", which is never modified; write it elsewhere");
    }
    TfliteConversion converted = Wclust.convert(savedModel, signature, target);
    PrintWriter out = spec.commandLine().getOut();
    out.printf("wrote %s: %d bytes, %d bytes zipped%n", output, converted.size().bytes(),
        converted.size().zippedBytes());
    converted.compression().ifPresent(c -> CompressOptions.print(out, c));
    out.flush();
    return 0;
  }
}

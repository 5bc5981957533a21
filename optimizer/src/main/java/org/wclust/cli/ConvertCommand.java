package org.wclust.cli;

import com.google.gson.GsonBuilder;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import org.wclust.bridge.PythonTensorFlow;
import org.wclust.bridge.TfliteConverter;
import org.wclust.bridge.TfliteSize;
import org.wclust.load.ModelLoader;
import org.wclust.load.SavedModelLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code wclust convert}: the bridge to the TFLite converter of Python TensorFlow. */
@Command(name = "convert", mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    description = {"Convert a SavedModel to .tflite with the TFLite converter.",
        "Converts SAVEDMODEL (e.g. the output of 'wclust cluster') with the TFLite converter of the "
            + "Python 'tensorflow' package and prints the .tflite size and its zipped size (deflate, "
            + "the metric of tfmot's published results); both are also written to FILE.tflite.json "
            + "({\"tflite_bytes\": N, \"zipped_tflite_bytes\": N}) next to it. SAVEDMODEL is never "
            + "modified. Python is found via WCLUST_PYTHON, the project's .venv (made by "
            + "scripts/setup-python.sh), or python3."})
public final class ConvertCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "SAVEDMODEL", description = "a SavedModel directory")
  Path savedModel;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.tflite",
      description = "the .tflite file to write")
  Path output;

  @Option(names = "--signature", defaultValue = ModelLoader.DEFAULT_SIGNATURE,
      description = "signature to convert (default: ${DEFAULT-VALUE})")
  String signature;

  @Option(names = "--quantize", paramLabel = "MODE", defaultValue = "none",
      description = {"weight quantization by the converter (default: ${DEFAULT-VALUE}):",
          "  none     float32",
          "  dynamic  int8 weights, float activations",
          "  int8     int8 weights and activations, calibrated on --data; float input and output",
          "Weights are quantized symmetrically per output channel; cluster with --int8-aware to keep "
              + "the clustered values exact."})
  String quantize;

  @Option(names = "--data", paramLabel = "FILE.npz",
      description = "representative inputs for --quantize int8: an .npz with an array 'x' shaped like the model input")
  Path data;

  @Option(names = "--scale", defaultValue = "1.0",
      description = "multiply --data by this before calibration, e.g. 0.00392157 for uint8 images (default: ${DEFAULT-VALUE})")
  float scale;

  @Override
  public Integer call() throws Exception {
    TfliteConverter.Quantization quantization = switch (quantize) {
      case "none" -> TfliteConverter.Quantization.NONE;
      case "dynamic" -> TfliteConverter.Quantization.DYNAMIC;
      case "int8" -> TfliteConverter.Quantization.INT8;
      default -> throw new IllegalArgumentException(
          "unknown --quantize '" + quantize + "'; expected none, dynamic or int8");
    };
    if (quantization == TfliteConverter.Quantization.INT8 && data == null) {
      throw new IllegalArgumentException("--quantize int8 needs --data FILE.npz (representative inputs)");
    }
    if (data != null && !Files.isRegularFile(data)) {
      throw new IllegalArgumentException("no such file: " + data);
    }
    if (!Files.exists(savedModel)) {
      throw new IllegalArgumentException("no such file or directory: " + savedModel);
    }
    if (!SavedModelLoader.looksLikeSavedModel(savedModel)) {
      throw new IllegalArgumentException("not a SavedModel: " + savedModel + " has no saved_model.pb");
    }
    Path input = savedModel.toAbsolutePath().normalize();
    if (output.toAbsolutePath().normalize().startsWith(input)) {
      throw new IllegalArgumentException("output " + output + " is inside SAVEDMODEL " + savedModel
          + ", which is never modified; write it elsewhere");
    }
    new TfliteConverter(PythonTensorFlow.require()).convert(savedModel, signature, output, quantization,
        data, scale);
    TfliteSize size = TfliteSize.of(output);
    Path sizes = output.resolveSibling(output.getFileName() + ".json");
    Path partial = sizes.resolveSibling("." + sizes.getFileName() + ".partial");
    try {
      Files.writeString(partial, new GsonBuilder().setPrettyPrinting().create().toJson(size.toJson()) + "\n");
      Files.move(partial, sizes, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(partial);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf("wrote %s: %d bytes, %d bytes zipped%n", output, size.tfliteBytes(), size.zippedBytes());
    out.flush();
    return 0;
  }
}

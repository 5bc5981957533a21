package org.wclust.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.wclust.bridge.PythonTensorFlow;
import org.wclust.bridge.TfliteConverter;
import org.wclust.bridge.ZipSize;
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
            + "the metric of tfmot's published results). Python is found via WCLUST_PYTHON, the "
            + "project's .venv (made by scripts/setup-python.sh), or python3."})
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

  @Override
  public Integer call() throws Exception {
    if (!Files.exists(savedModel)) {
      throw new IllegalArgumentException("no such file or directory: " + savedModel);
    }
    if (!SavedModelLoader.looksLikeSavedModel(savedModel)) {
      throw new IllegalArgumentException("not a SavedModel: " + savedModel + " has no saved_model.pb");
    }
    long bytes = new TfliteConverter(PythonTensorFlow.require()).convert(savedModel, signature, output);
    PrintWriter out = spec.commandLine().getOut();
    out.printf("wrote %s: %d bytes, %d bytes zipped%n", output, bytes, ZipSize.of(output));
    out.flush();
    return 0;
  }
}

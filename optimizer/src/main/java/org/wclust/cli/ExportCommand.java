package org.wclust.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.wclust.api.Export;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code wclust export}: any input format to the TFLite-ready SavedModel, unclustered. */
@Command(name = "export", mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    description = {"Export a model as a TFLite-ready SavedModel, without clustering.",
        "Reads MODEL (a SavedModel directory, a Keras 3 .keras file, a .h5 file from Keras 3 or "
            + "tf.keras 2.x, or a TensorFlow.js layers model.json) and writes OUT: a SavedModel holding constants only, with one serving "
            + "signature (for Keras files: one input per Keras input, keyed by the input layer's name; "
            + "outputs output_0, output_1, ... in the model's output order), ready for the TFLite "
            + "converter ('wclust convert OUT -o model.tflite'). OUT must not exist; it appears only "
            + "once complete.",
        "",
        "Example:",
        "  wclust export model.keras -o model_savedmodel/"})
public final class ExportCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", description = "a SavedModel directory, a .keras or .h5 file, or a TensorFlow.js model.json")
  Path model;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT",
      description = "output SavedModel directory (must not exist)")
  Path output;

  @Option(names = "--signature", defaultValue = "serving_default",
      description = "signature to read from a SavedModel, and the name of the exported one (default: ${DEFAULT-VALUE})")
  String signature;

  @Override
  public Integer call() throws Exception {
    CommandChecks.inputExistsOutputDoesNot(model, output);
    Export.Keys keys = Export.toSavedModel(model, output, signature);
    PrintWriter out = spec.commandLine().getOut();
    out.printf("wrote %s: inputs %s, outputs %s%n", output, keys.inputs(), keys.outputs());
    out.flush();
    return 0;
  }
}

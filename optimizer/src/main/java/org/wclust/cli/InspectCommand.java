package org.wclust.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.wclust.api.ClusterableModel;
import org.wclust.api.WeightInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code wclust inspect}: lists every weight tensor and whether wclust would cluster it. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    description = {"List the weight tensors of a model and which ones can be clustered.",
        "For every weight tensor of MODEL: its layer, the op that consumes it, shape, parameter count, "
            + "number of distinct values, and whether it is clusterable (float32 filters of "
            + "Conv2D/Conv3D/DepthwiseConv2D/Conv2DTranspose and Dense kernels are; biases, BatchNorm "
            + "parameters and non-float tensors are not)."})
public final class InspectCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL", arity = "0..1",
      description = "a SavedModel directory, a .keras or .h5 file, or a TensorFlow.js model.json")
  Path model;

  @Option(names = "--keras-layers",
      description = "list the Keras layer classes wclust reads from .keras/.h5 files, and exit")
  boolean kerasLayers;

  @Option(names = "--json", description = "print JSON instead of a table")
  boolean json;

  @Option(names = "--signature", defaultValue = "serving_default",
      description = "serving signature to read (default: ${DEFAULT-VALUE})")
  String signature;

  @Override
  public Integer call() throws Exception {
    if (kerasLayers) {
      PrintWriter out = spec.commandLine().getOut();
      out.println("Keras layer classes read from .keras/.h5 files (channels-last), besides InputLayer and "
          + "nested Sequential/functional models:");
      ClusterableModel.supportedKerasLayers().forEach(c -> out.println("  " + c));
      out.flush();
      return 0;
    }
    if (model == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "Missing required parameter: 'MODEL'");
    }
    List<WeightInfo> weights;
    try (ClusterableModel loaded = ClusterableModel.load(model, signature)) {
      weights = loaded.weights();
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonArray array = new JsonArray();
      for (WeightInfo w : weights) {
        JsonObject o = new JsonObject();
        o.addProperty("layer", w.name());
        o.addProperty("op", w.op());
        JsonArray shape = new JsonArray();
        Arrays.stream(w.shape()).forEach(shape::add);
        o.add("shape", shape);
        o.addProperty("params", w.params());
        o.addProperty("dtype", w.dtype());
        o.addProperty("distinct_values", w.distinctValues());
        o.addProperty("clusterable", w.clusterable());
        o.addProperty("reason", w.reason());
        array.add(o);
      }
      JsonObject root = new JsonObject();
      root.add("weights", array);
      out.println(new GsonBuilder().setPrettyPrinting().create().toJson(root));
    } else {
      out.printf("%-40s %-24s %-18s %10s %9s  %s%n", "LAYER", "OP", "SHAPE", "PARAMS", "DISTINCT", "CLUSTERABLE");
      for (WeightInfo w : weights) {
        out.printf("%-40s %-24s %-18s %10d %9s  %s%n", w.name(), w.op(), Arrays.toString(w.shape()),
            w.params(), w.distinctValues() < 0 ? "-" : Integer.toString(w.distinctValues()),
            w.clusterable() ? "yes" : "no (" + w.reason() + ")");
      }
      long clusterable = weights.stream().filter(WeightInfo::clusterable).mapToLong(WeightInfo::params).sum();
      long total = weights.stream().mapToLong(WeightInfo::params).sum();
      out.printf("%d weight tensors, %d parameters, %d in clusterable tensors%n", weights.size(), total, clusterable);
    }
    out.flush();
    return 0;
  }
}

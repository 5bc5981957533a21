package org.wclust.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.wclust.api.TfliteStats;
import org.wclust.api.Wclust;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code wclust report}: compares the .tflite sizes of an original and a clustered SavedModel. */
@Command(name = "report", mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    description = {"Compare the .tflite sizes of an original and a clustered SavedModel.",
        "Converts ORIGINAL and CLUSTERED (e.g. the input and the output of 'wclust cluster') with the "
            + "TFLite converter of Python TensorFlow, into a temporary directory, and prints side by "
            + "side: .tflite bytes, zipped bytes (deflate, default level), the ratio original zipped / "
            + "zipped, the number of conv/dense weight tensors in the .tflite and the most distinct "
            + "values in any one of them. When CLUSTERED has a wclust-report.json, its packed and "
            + "Huffman-coded sizes of the clustered weights are printed too. Neither directory is "
            + "modified.",
        "",
        "Example:",
        "  wclust cluster model/ -o model-k8/ --clusters 8 && wclust report model/ model-k8/"})
public final class ReportCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ORIGINAL", description = "the original SavedModel directory")
  Path original;

  @Parameters(index = "1", paramLabel = "CLUSTERED", description = "the clustered SavedModel directory")
  Path clustered;

  @Option(names = "--json", description = "print JSON instead of a table")
  boolean json;

  @Option(names = "--signature", defaultValue = Wclust.DEFAULT_SIGNATURE,
      description = "signature to convert, of both models (default: ${DEFAULT-VALUE})")
  String signature;

  /** One model's figures, as {@code --json} prints them. */
  private static JsonObject toJson(TfliteStats s) {
    JsonObject o = new JsonObject();
    o.addProperty("tflite_bytes", s.size().bytes());
    o.addProperty("zipped_tflite_bytes", s.size().zippedBytes());
    o.addProperty("path", s.savedModel().toString());
    o.addProperty("weight_tensors", s.weightTensors());
    o.addProperty("max_distinct_per_weight_tensor", s.maxDistinctPerTensor());
    return o;
  }

  @Override
  public Integer call() throws Exception {
    for (Path dir : new Path[] {original, clustered}) {
      if (!Files.exists(dir)) {
        throw new IllegalArgumentException("no such file or directory: " + dir);
      }
      if (!Wclust.isSavedModel(dir)) {
        throw new IllegalArgumentException("not a SavedModel: " + dir + " has no saved_model.pb");
      }
    }
    if (!Wclust.pythonTensorFlowFound()) {
      throw new IllegalStateException("wclust report converts both models with Python TensorFlow, which was not "
          + "found; " + Wclust.PYTHON_INSTALL_HINT);
    }
    JsonObject clusteredWeights = clusteredWeightSizes(clustered.resolve(Wclust.REPORT_FILE));
    TfliteStats a = TfliteStats.of(original, signature);
    TfliteStats b = TfliteStats.of(clustered, signature);
    double ratio = (double) a.size().zippedBytes() / b.size().zippedBytes();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      JsonObject root = new JsonObject();
      root.add("original", toJson(a));
      root.add("clustered", toJson(b));
      root.addProperty("ratio", ratio);
      if (clusteredWeights != null) {
        root.add("clustered_weights", clusteredWeights);
      }
      out.println(new GsonBuilder().setPrettyPrinting().create().toJson(root));
    } else {
      String row = "%-34s %14s %14s%n";
      out.printf(row, "", "ORIGINAL", "CLUSTERED");
      out.printf(row, ".tflite bytes", a.size().bytes(), b.size().bytes());
      out.printf(row, "zipped .tflite bytes", a.size().zippedBytes(), b.size().zippedBytes());
      out.printf(row, "ratio (original zipped / zipped)", "1.00x", String.format("%.2fx", ratio));
      out.printf(row, "weight tensors", a.weightTensors(), b.weightTensors());
      out.printf(row, "max distinct per tensor", a.maxDistinctPerTensor(), b.maxDistinctPerTensor());
      if (clusteredWeights != null) {
        out.printf("clustered weights (%s): packed %s bytes, Huffman-coded %s bytes, float32 %s bytes%n",
            Wclust.REPORT_FILE, text(clusteredWeights, "packed_bytes"),
            text(clusteredWeights, "huffman_bytes"), text(clusteredWeights, "float32_weight_bytes"));
      }
    }
    out.flush();
    return 0;
  }

  /** packed/huffman/float32 bytes of the {@code size} section of a wclust report, or null. */
  private static JsonObject clusteredWeightSizes(Path reportFile) {
    if (!Files.isRegularFile(reportFile)) {
      return null;
    }
    try {
      JsonObject size = JsonParser.parseString(Files.readString(reportFile)).getAsJsonObject()
          .getAsJsonObject("size");
      if (size == null || !size.has("packed_bytes") || !size.has("huffman_bytes")) {
        return null;
      }
      JsonObject o = new JsonObject();
      for (String key : new String[] {"packed_bytes", "huffman_bytes", "float32_weight_bytes"}) {
        if (size.has(key)) {
          o.add(key, size.get(key));
        }
      }
      return o;
    } catch (Exception e) { // an unreadable or older report: just no clustered-weight figures
      return null;
    }
  }

  private static String text(JsonObject o, String key) {
    return o.has(key) ? o.get(key).getAsString() : "-";
  }
}

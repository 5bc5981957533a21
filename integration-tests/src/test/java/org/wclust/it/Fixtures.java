package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.PythonTensorFlow;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoadException;
import org.wclust.internal.load.ModelLoader;

/**
 * The Keras test fixtures, made once per test run by real Keras ({@code make_fixtures.py}) into
 * {@code target/fixtures}, and the Python helpers the tests compare against. Python TensorFlow is
 * required: a missing installation fails the tests (never skips them).
 */
final class Fixtures {
  static final Path PYTHON_DIR = Paths.get("src/test/python").toAbsolutePath();
  private static final Path DIR = Paths.get("target/fixtures").toAbsolutePath();
  private static List<Fixture> fixtures;

  record Fixture(String name, Path path, long[] inputShape) {
    @Override
    public String toString() {
      return name;
    }
  }

  private Fixtures() {}

  static PythonTensorFlow python() {
    return PythonTensorFlow.require();
  }

  static synchronized List<Fixture> all() {
    if (fixtures == null) {
      try {
        fixtures = make();
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("cannot make the Keras fixtures", e);
      }
    }
    return fixtures;
  }

  /** MobileNetV2 (1.0, 224), random weights and BN statistics, made once by make_mobilenet_v2.py. */
  static synchronized Path mobileNetV2() {
    Path model = DIR.resolve("mobilenet_v2");
    if (!Files.exists(model.resolve("saved_model.pb")) || !Files.exists(DIR.resolve("random16.npz"))) {
      try {
        runPython(PYTHON_DIR.resolve("make_mobilenet_v2.py").toString(), DIR.toString());
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("cannot make the MobileNetV2 fixture", e);
      }
    }
    return model;
  }

  static Stream<Fixture> stream() {
    return all().stream();
  }

  private static List<Fixture> make() throws IOException, InterruptedException {
    if (!Files.exists(DIR.resolve("manifest.json"))) {
      runPython(PYTHON_DIR.resolve("make_fixtures.py").toString(), DIR.toString());
    }
    JsonArray manifest = JsonParser.parseString(Files.readString(DIR.resolve("manifest.json"))).getAsJsonArray();
    List<Fixture> list = new ArrayList<>();
    for (JsonElement e : manifest) {
      JsonObject o = e.getAsJsonObject();
      JsonArray shape = o.getAsJsonArray("input_shape");
      long[] dims = new long[shape.size()];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = shape.get(i).getAsLong();
      }
      list.add(new Fixture(o.get("name").getAsString(), DIR.resolve(o.get("path").getAsString()), dims));
    }
    return list;
  }

  /** Runs a Python script of the project's virtualenv; fails with its output on a non-zero exit. */
  static void runPython(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(python().python().toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException("python " + String.join(" ", args) + " failed:\n" + out);
    }
  }

  /** Random normal inputs of shape [batch, ...inputShape], seeded. */
  static HostTensor randomInput(long[] inputShape, int batch, long seed) {
    long[] shape = new long[inputShape.length + 1];
    shape[0] = batch;
    System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
    java.util.Random random = new java.util.Random(seed);
    float[] values = new float[(int) org.tensorflow.ndarray.Shape.of(shape).size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return HostTensor.ofFloats(shape, values);
  }

  /** Tensors as the JSON the Python helpers read: {@code {wrapper: {key: {shape, data}}}}. */
  static JsonObject tensorsJson(String wrapper, Map<String, HostTensor> tensors) {
    JsonObject map = new JsonObject();
    tensors.forEach((key, t) -> {
      JsonObject o = new JsonObject();
      JsonArray shape = new JsonArray();
      for (long d : t.shape()) {
        shape.add(d);
      }
      JsonArray data = new JsonArray();
      if (t.isFloat()) {
        for (float v : t.toFloats()) {
          data.add(v);
        }
      } else {
        for (int v : t.toInts()) { // e.g. token ids: ints stay ints
          data.add(v);
        }
      }
      o.add("shape", shape);
      o.add("data", data);
      map.add(key, o);
    });
    JsonObject root = new JsonObject();
    root.add(wrapper, map);
    return root;
  }

  static Map<String, HostTensor> readTensorsJson(Path file, String wrapper) throws IOException {
    JsonObject root = JsonParser.parseString(Files.readString(file)).getAsJsonObject().getAsJsonObject(wrapper);
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : root.entrySet()) {
      JsonArray shape = e.getValue().getAsJsonObject().getAsJsonArray("shape");
      JsonArray data = e.getValue().getAsJsonObject().getAsJsonArray("data");
      long[] dims = new long[shape.size()];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = shape.get(i).getAsLong();
      }
      float[] values = new float[data.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = data.get(i).getAsFloat();
      }
      out.put(e.getKey(), HostTensor.ofFloats(dims, values));
    }
    return out;
  }

  /** The conv/depthwise/dense weights of a .tflite as {@code tflite_tool.py weights} reports them. */
  static List<JsonObject> tfliteWeights(Path tflite) throws IOException {
    List<JsonObject> weights = new ArrayList<>();
    for (JsonElement e : python().runTool("weights", tflite.toString()).getAsJsonArray("weights")) {
      weights.add(e.getAsJsonObject());
    }
    return weights;
  }

  /** Every FULLY_CONNECTED weight of the .tflite has at most {@code k} distinct values, and there is one. */
  static void assertFullyConnectedKeepAtMost(Path tflite, int k) throws IOException {
    int fullyConnected = 0;
    for (JsonObject w : tfliteWeights(tflite)) {
      if (w.get("op").getAsString().equals("FULLY_CONNECTED")) {
        fullyConnected++;
        int distinct = w.get("distinct").getAsInt();
        assertTrue(distinct <= k, w.get("tensor").getAsString() + " has " + distinct + " distinct values");
      }
    }
    assertTrue(fullyConnected > 0, "expected at least one FULLY_CONNECTED op");
  }

  /** The .tflite has {@code expected} conv/depthwise/dense weights, none with more than {@code k} values. */
  static void assertEveryWeightKeepsAtMost(Path tflite, int k, int expected) throws IOException {
    List<String> tooMany = new ArrayList<>();
    List<JsonObject> weights = tfliteWeights(tflite);
    for (JsonObject w : weights) {
      if (w.get("distinct").getAsInt() > k) {
        tooMany.add(w.get("op").getAsString() + " " + w.get("tensor").getAsString() + ": " + w.get("distinct"));
      }
    }
    assertEquals(expected, weights.size(), "conv/depthwise/dense weights in the .tflite");
    assertTrue(tooMany.isEmpty(), "weights with more than " + k + " values: " + tooMany);
  }

  /**
   * As {@link #assertEveryWeightKeepsAtMost(Path, int, int)} where wclust chose several codebooks for some
   * folded kernels: every weight keeps at most k values per output channel, and no more weights hold over
   * k values per tensor than {@code out}'s report ({@code batch_norm_codebooks}) has kernels with another
   * codebook choice than one per tensor (each named with its reason).
   */
  static void assertEveryWeightKeepsAtMostWhereReported(Path tflite, int k, int expected, Path out)
      throws IOException {
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    int severalCodebooks = 0;
    for (JsonElement e : report.getAsJsonArray("batch_norm_codebooks")) {
      JsonObject choice = e.getAsJsonObject();
      assertTrue(choice.has("reason") && !choice.get("reason").getAsString().isEmpty(), choice.toString());
      severalCodebooks += choice.get("codebooks").getAsString().equals("tensor") ? 0 : 1;
    }
    List<String> tooMany = new ArrayList<>();
    int overKPerTensor = 0;
    List<JsonObject> weights = tfliteWeights(tflite);
    for (JsonObject w : weights) {
      overKPerTensor += w.get("distinct").getAsInt() > k ? 1 : 0;
      if (w.get("distinct_per_channel_max").getAsInt() > k) {
        tooMany.add(w.get("op").getAsString() + " " + w.get("tensor").getAsString() + ": "
            + w.get("distinct_per_channel_max"));
      }
    }
    assertEquals(expected, weights.size(), "conv/depthwise/dense weights in the .tflite");
    assertTrue(tooMany.isEmpty(), "weights with more than " + k + " values in a channel: " + tooMany);
    assertTrue(overKPerTensor <= severalCodebooks, overKPerTensor + " weights hold more than " + k
        + " values, the report gives " + severalCodebooks + " kernels several codebooks");
  }

  /**
   * The .tflite computes what the SavedModel computes in TensorFlow Java on {@code inputs} (max abs
   * difference per output at most 1e-4); {@code tmp} holds the interpreter's input and output files.
   */
  static void assertTfliteComputesSavedModel(Path tflite, Path savedModel, Map<String, HostTensor> inputs,
      Path tmp) throws IOException {
    Map<String, HostTensor> tf;
    try (ModelSession session = new ModelSession(ModelLoader.load(savedModel, ModelLoader.DEFAULT_SIGNATURE))) {
      tf = session.run(inputs);
    } catch (ModelLoadException e) {
      throw new IllegalStateException(e);
    }
    Path in = tmp.resolve("in.json");
    Path result = tmp.resolve("out.json");
    Files.writeString(in, tensorsJson("inputs", inputs).toString());
    python().runTool("run", tflite.toString(), in.toString(), result.toString());
    Map<String, HostTensor> lite = readTensorsJson(result, "outputs");
    assertEquals(tf.keySet(), lite.keySet());
    for (String key : tf.keySet()) {
      double diff = maxAbsDiff(tf.get(key), lite.get(key));
      assertTrue(diff <= 1e-4, key + ": tflite vs SavedModel max abs diff " + diff);
    }
  }

  static double maxAbsDiff(HostTensor a, HostTensor b) {
    float[] x = a.toFloats();
    float[] y = b.toFloats();
    if (x.length != y.length) {
      throw new AssertionError("sizes differ: " + x.length + " vs " + y.length);
    }
    double max = 0;
    for (int i = 0; i < x.length; i++) {
      max = Math.max(max, Math.abs(x[i] - y[i]));
    }
    return max;
  }
}

package org.wclust.it;

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
import org.wclust.internal.bridge.HostTensor;

/**
 * Keras files made by real Keras 3 ({@code make_keras_fixtures.py}, run once per build into
 * {@code target/keras-fixtures}) in both formats, plus the checked-in legacy .h5 files written by
 * tf_keras 2.21 ({@code src/test/resources/keras}, see {@code make_tf_keras_fixture.py}) and a
 * TensorFlow.js layers model saved by tfjs 4.22 ({@code src/test/resources/tfjs}); each with its
 * inputs and the outputs of {@code predict}.
 */
final class KerasFixtures {
  static final Path DIR = Paths.get("target/keras-fixtures").toAbsolutePath();
  static final Path LEGACY = Paths.get("src/test/resources/keras").toAbsolutePath();
  /** A TensorFlow.js layers model saved by tfjs 4.22 ({@code src/test/js/make_tfjs_fixture.js}). */
  static final Path TFJS = Paths.get("src/test/resources/tfjs").toAbsolutePath();

  /** One model file and the JSON record of what Keras computed for it. */
  record Case(String name, Path file, Path record) {
    @Override
    public String toString() {
      String fileName = file.getFileName().toString();
      return fileName.equals("model.json") ? file.getParent().getFileName() + "/" + fileName : fileName;
    }
  }

  private static JsonArray manifest;

  private KerasFixtures() {}

  static synchronized JsonArray manifest() {
    if (manifest == null) {
      try {
        if (!Files.exists(DIR.resolve("manifest.json"))) {
          Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_keras_fixtures.py").toString(), DIR.toString());
        }
        manifest = JsonParser.parseString(Files.readString(DIR.resolve("manifest.json"))).getAsJsonArray();
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("cannot make the Keras fixtures", e);
      }
    }
    return manifest;
  }

  /** Every Keras 3 fixture as .keras and as .h5, then the tf_keras legacy files. */
  static List<Case> all() {
    List<Case> cases = new ArrayList<>();
    for (JsonElement e : manifest()) {
      String name = e.getAsJsonObject().get("name").getAsString();
      cases.add(new Case(name, DIR.resolve(name + ".keras"), DIR.resolve(name + ".json")));
      cases.add(new Case(name, DIR.resolve(name + ".h5"), DIR.resolve(name + ".json")));
    }
    for (String name : List.of("tf_keras_functional", "tf_keras_sequential")) {
      cases.add(new Case(name, LEGACY.resolve(name + ".h5"), LEGACY.resolve(name + ".json")));
    }
    cases.add(new Case("tfjs_cnn", TFJS.resolve("tfjs_cnn/model.json"), TFJS.resolve("tfjs_cnn.json")));
    return cases;
  }

  static Case keras(String name) {
    manifest(); // makes the fixtures on first use
    return new Case(name, DIR.resolve(name + ".keras"), DIR.resolve(name + ".json"));
  }

  static JsonObject record(Case c) throws IOException {
    manifest();
    return JsonParser.parseString(Files.readString(c.record())).getAsJsonObject();
  }

  /** {@code {"key": {"shape", "dtype", "data"}}} as host tensors (float32 or int32). */
  static Map<String, HostTensor> tensors(JsonObject map) {
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : map.entrySet()) {
      out.put(e.getKey(), tensor(e.getValue().getAsJsonObject()));
    }
    return out;
  }

  static HostTensor tensor(JsonObject o) {
    JsonArray shape = o.getAsJsonArray("shape");
    JsonArray data = o.getAsJsonArray("data");
    long[] dims = new long[shape.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = shape.get(i).getAsLong();
    }
    String dtype = o.has("dtype") ? o.get("dtype").getAsString() : "float32";
    if (dtype.startsWith("int")) {
      int[] values = new int[data.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = data.get(i).getAsInt();
      }
      return HostTensor.ofInts(dims, values);
    }
    float[] values = new float[data.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = data.get(i).getAsFloat();
    }
    return HostTensor.ofFloats(dims, values);
  }
}

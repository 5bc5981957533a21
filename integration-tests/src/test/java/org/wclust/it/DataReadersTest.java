package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.wclust.internal.data.DataSpec;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.DatasetLoader;
import org.wclust.internal.data.NpyArray;
import org.wclust.internal.data.NpyReader;
import org.wclust.internal.data.NpzReader;

/**
 * The data readers against files written by real NumPy ({@code np.save}, {@code np.savez},
 * {@code np.savez_compressed}, format versions 2.0 and 3.0) and TensorFlow ({@code tf.io.TFRecordWriter},
 * plain and GZIP, with float_list, int64_list and raw-bytes bytes_list features): the values read in
 * Java must be the ones {@code make_data_files.py} wrote.
 */
class DataReadersTest {
  @TempDir static Path dir;
  static JsonObject arrays;
  static JsonObject datasets;

  @BeforeAll
  static void writeFilesWithNumPyAndTensorFlow() throws Exception {
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_data_files.py").toString(), dir.toString());
    JsonObject expected = JsonParser.parseString(Files.readString(dir.resolve("expected.json"))).getAsJsonObject();
    arrays = expected.getAsJsonObject("arrays");
    datasets = expected.getAsJsonObject("datasets");
  }

  // Argument sources run after @BeforeAll, so the files and the JSON exist by then.
  static Stream<String> arrayNames() {
    return arrays.keySet().stream();
  }

  static Stream<String> datasetNames() {
    return datasets.keySet().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("arrayNames")
  void arraysReadAsNumPyWroteThem(String key) throws Exception {
    NpyArray a;
    if (key.contains(":")) {
      String[] parts = key.split(":");
      try (NpzReader npz = NpzReader.open(dir.resolve(parts[0]))) {
        a = npz.read(parts[1]);
      }
    } else {
      a = NpyReader.read(dir.resolve(key));
    }
    JsonObject e = arrays.getAsJsonObject(key);
    assertEquals(e.get("descr").getAsString(), a.dtype().descr());
    assertArrayEquals(longs(e.getAsJsonArray("shape")), a.shape());
    assertArrayEquals(doubles(e.getAsJsonArray("values")), a.toDoubles());
  }

  @Test
  void npzListsItsArraysInOrder() throws Exception {
    Map<String, NpyArray> all = NpzReader.readAll(dir.resolve("compressed.npz"));
    assertEquals(List.of("x", "y", "mask"), List.copyOf(all.keySet()));
  }

  @Test
  void refusesWhatNumPyWritesButWeDoNotSupport() {
    Path npy = dir.resolve("npy");
    assertTrue(message(npy.resolve("big_endian.npy")).contains("big-endian dtype '>f4' is not supported"));
    assertTrue(message(npy.resolve("fortran.npy")).contains("Fortran-order arrays"));
    assertTrue(message(npy.resolve("object.npy")).contains("object arrays (dtype '|O') are not supported"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("datasetNames")
  void datasetsLoadAsNumPyComputesThem(String file) throws Exception {
    JsonObject e = datasets.getAsJsonObject(file);
    long[] shape = longs(e.getAsJsonArray("example_shape"));
    DataSpec spec = DataSpec.defaults().withScale(e.get("scale").getAsDouble()).withExampleShape(shape);
    if (file.startsWith("bytes.")) {
      spec = spec.withFeatures("x:image,y:label");
    }
    Dataset d = DatasetLoader.load(dir.resolve(file), spec);
    assertArrayEquals(shape, d.exampleShape());
    double[] expected = doubles(e.getAsJsonArray("inputs"));
    int[] all = new int[d.size()];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    float[] actual = d.batchInputs(all).toFloats();
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < actual.length; i++) {
      // NumPy multiplies in float32, the loader in double then rounds: at most one ulp apart.
      assertEquals(expected[i], actual[i], Math.ulp((float) expected[i]), file + " value " + i);
    }
    assertTrue(d.hasLabels());
    JsonArray labels = e.getAsJsonArray("labels");
    int[] expectedLabels = new int[labels.size()];
    for (int i = 0; i < expectedLabels.length; i++) {
      expectedLabels[i] = labels.get(i).getAsInt();
    }
    assertArrayEquals(expectedLabels, d.batchLabels(all));
  }

  @Test
  void plainNpyIsUnlabelledInputs() throws Exception {
    Dataset d = DatasetLoader.load(dir.resolve("npy/uint8.npy"), DataSpec.defaults());
    assertEquals(3, d.size());
    assertArrayEquals(new long[] {4}, d.exampleShape());
    assertFalse(d.hasLabels());
  }

  private static String message(Path file) {
    return assertThrows(IllegalArgumentException.class, () -> NpyReader.read(file)).getMessage();
  }

  private static long[] longs(JsonArray a) {
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).getAsLong();
    }
    return out;
  }

  private static double[] doubles(JsonArray a) {
    double[] out = new double[a.size()];
    int i = 0;
    for (JsonElement v : a) {
      out[i++] = v.getAsDouble();
    }
    return out;
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoader;
import org.wclust.internal.load.keras.KerasConfig;
import org.wclust.internal.load.keras.layers.LayerRegistry;
import org.wclust.cli.WclustCommand;
import picocli.CommandLine;

/**
 * Keras files read without Python: for every fixture (Keras 3 .keras and .h5, tf_keras .h5), wclust's
 * inference graph and the SavedModel {@code wclust export} writes (run in Python TensorFlow) compute
 * what Keras {@code predict} computed, within 1e-5.
 */
class KerasParityTest {
  private static final double TOLERANCE = 1e-5;

  static List<KerasFixtures.Case> cases() {
    return KerasFixtures.all();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void inferenceGraphMatchesKerasPredict(KerasFixtures.Case c) throws Exception {
    JsonObject record = KerasFixtures.record(c);
    Map<String, HostTensor> inputs = KerasFixtures.tensors(record.getAsJsonObject("inputs"));
    Map<String, HostTensor> expected = KerasFixtures.tensors(record.getAsJsonObject("outputs"));
    FlatModel model = ModelLoader.load(c.file(), ModelLoader.DEFAULT_SIGNATURE);
    Map<String, HostTensor> ours;
    try (ModelSession session = new ModelSession(model)) {
      ours = session.run(inputs);
    }
    assertClose(expected, ours, "wclust graph");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void exportedSavedModelMatchesKerasPredict(KerasFixtures.Case c, @TempDir Path tmp) throws Exception {
    JsonObject record = KerasFixtures.record(c);
    Map<String, HostTensor> inputs = KerasFixtures.tensors(record.getAsJsonObject("inputs"));
    Map<String, HostTensor> expected = KerasFixtures.tensors(record.getAsJsonObject("outputs"));
    Path out = tmp.resolve("exported");
    assertEquals(0, EndToEndFixturesTest.cli("export", c.file().toString(), "-o", out.toString()));
    Path in = tmp.resolve("in.json");
    Path result = tmp.resolve("out.json");
    Files.writeString(in, Fixtures.tensorsJson("inputs", inputs).toString());
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("savedmodel_run.py").toString(), out.toString(),
        in.toString(), result.toString());
    assertClose(expected, Fixtures.readTensorsJson(result, "outputs"), "exported SavedModel");
  }

  /** No layer is claimed without a parity test: the fixtures use exactly the supported classes. */
  @Test
  void everySupportedLayerIsInAParityFixture() {
    Set<String> used = new TreeSet<>();
    for (JsonElement e : KerasFixtures.manifest()) {
      e.getAsJsonObject().getAsJsonArray("layers").forEach(l -> used.add(l.getAsString()));
    }
    used.remove("InputLayer");
    used.removeAll(KerasConfig.MODEL_CLASSES);
    assertEquals(new TreeSet<>(LayerRegistry.supported()), used);
  }

  @Test
  void unsupportedLayerIsOneLineNamingFileLayerAndClass(@TempDir Path tmp) {
    KerasFixtures.manifest();
    Path file = KerasFixtures.DIR.resolve("unsupported.keras");
    CommandLine cli = WclustCommand.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    assertEquals(2, cli.execute("export", file.toString(), "-o", tmp.resolve("out").toString()));
    assertEquals("wclust: error: " + file + ": unsupported Keras layer 'unit_normalization' of class UnitNormalization "
        + "(run 'wclust inspect --keras-layers' for the supported classes)", err.toString().strip());
    assertFalse(Files.exists(tmp.resolve("out")));

    err.getBuffer().setLength(0);
    Path op = KerasFixtures.DIR.resolve("unsupported_op.keras");
    assertEquals(2, cli.execute("inspect", op.toString()));
    assertTrue(err.toString().strip().matches("wclust: error: " + java.util.regex.Pattern.quote(op.toString())
        + ": unsupported Keras operation 'multiply(_\\d+)?' of class "
        + "Multiply from keras\\.src\\.ops\\.numpy \\(.*\\)"), err.toString());

    StringWriter out = new StringWriter();
    cli.setOut(new PrintWriter(out));
    assertEquals(0, cli.execute("inspect", "--keras-layers"));
    for (String layer : LayerRegistry.supported()) {
      assertTrue(out.toString().contains("  " + layer + "\n"), layer + " not listed");
    }
  }

  static void assertClose(Map<String, HostTensor> expected, Map<String, HostTensor> actual, String what) {
    assertEquals(expected.keySet(), actual.keySet(), what + " output keys");
    for (String key : expected.keySet()) {
      assertArrayEquals(expected.get(key).shape(), actual.get(key).shape(), what + " " + key + " shape");
      double diff = Fixtures.maxAbsDiff(expected.get(key), actual.get(key));
      assertTrue(diff <= TOLERANCE, what + " " + key + ": max abs diff " + diff + " > " + TOLERANCE);
    }
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.cli.WclustCommand;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoader;
import org.wclust.models.DemoCommand;
import picocli.CommandLine;

/**
 * Issue #17 on sequence models made by real Keras ({@code make_text_fixtures.py}): a transformer
 * (Embedding, MultiHeadAttention, LayerNormalization, feed-forward) and a Conv1DTranspose model from
 * {@code model.export()}, and a BERT-style encoder saved with {@code tf.saved_model.save} (hub style,
 * with a ResourceGather position table and a tf.einsum projection), and an RNN text model (LSTM, GRU,
 * Bidirectional LSTM, SimpleRNN: While loops); the transformer and the RNN model also as .keras files, which
 * wclust's layer builder reads (the RNNs unrolled). Each is clustered at k = 16 by the CLI and converted by
 * the real TFLite converter; the .tflite's constants, in every subgraph (WHILE bodies too), are counted
 * from the flatbuffer ({@code tflite_constants.py}), independently of wclust.
 */
class SequenceModelsTest {
  private static final int K = 16;
  private static final Path DIR = Paths.get("target/text-fixtures").toAbsolutePath();
  private static List<TextFixture> fixtures;

  /** {@code batch}: the signature's static batch size, or 0 when any batch is accepted. */
  record TextFixture(String name, Path path, long[] inputShape, boolean tokens, int vocab, long tfmotParams,
      int batch) {
    @Override
    public String toString() {
      return name;
    }
  }

  static synchronized List<TextFixture> fixtures() throws Exception {
    if (fixtures == null) {
      if (!Files.exists(DIR.resolve("manifest.json"))) {
        Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_text_fixtures.py").toString(), DIR.toString());
      }
      List<TextFixture> list = new ArrayList<>();
      for (JsonElement e : JsonParser.parseString(Files.readString(DIR.resolve("manifest.json"))).getAsJsonArray()) {
        JsonObject o = e.getAsJsonObject();
        JsonArray shape = o.getAsJsonArray("input_shape");
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
          dims[i] = shape.get(i).getAsLong();
        }
        list.add(new TextFixture(o.get("name").getAsString(), DIR.resolve(o.get("path").getAsString()), dims,
            o.get("input_dtype").getAsString().equals("int32"), o.get("vocab").getAsInt(),
            o.get("tfmot_params").getAsLong(), o.get("batch").isJsonNull() ? 0 : o.get("batch").getAsInt()));
      }
      fixtures = list;
    }
    return fixtures;
  }

  private static TextFixture fixture(String name) throws Exception {
    return fixtures().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
  }

  /** Token ids uniform in [0, vocab) or standard normal floats, [batch, ...inputShape], seeded. */
  private static HostTensor input(TextFixture f, int anyBatch, long seed) {
    int batch = f.batch() > 0 ? f.batch() : anyBatch;
    if (!f.tokens()) {
      return Fixtures.randomInput(f.inputShape(), batch, seed);
    }
    long[] shape = {batch, f.inputShape()[0]};
    int[] ids = new int[(int) (shape[0] * shape[1])];
    Random random = new Random(seed);
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(f.vocab());
    }
    return HostTensor.ofInts(shape, ids);
  }

  /** The flat graph (function calls inlined, loop reads hoisted) computes what Python TensorFlow computes. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void flatGraphMatchesPythonTensorFlow(TextFixture f, @TempDir Path tmp) throws Exception {
    FlatModel model = ModelLoader.load(f.path(), ModelLoader.DEFAULT_SIGNATURE);
    String key = model.signature().inputs().get(0).key();
    HostTensor x = input(f, 4, 3);
    Map<String, HostTensor> reference = f.path().toString().endsWith(".keras")
        ? kerasPredict(f.path(), key, x, tmp)
        : EndToEndFixturesTest.pythonReference(f.path(), key, x, tmp);
    Map<String, HostTensor> ours;
    try (ModelSession session = new ModelSession(model)) {
      ours = session.run(Map.of(key, x));
    }
    assertEquals(reference.keySet(), ours.keySet());
    for (String k : reference.keySet()) {
      assertArrayEquals(reference.get(k).shape(), ours.get(k).shape());
      double diff = Fixtures.maxAbsDiff(reference.get(k), ours.get(k));
      assertTrue(diff <= 1e-5, k + ": max abs diff " + diff);
    }
  }

  /** What Keras {@code predict} computes for a .keras file. */
  private static Map<String, HostTensor> kerasPredict(Path model, String inputKey, HostTensor input, Path tmp)
      throws Exception {
    Path in = tmp.resolve("keras-in.json");
    Path out = tmp.resolve("keras-out.json");
    Files.writeString(in, Fixtures.tensorsJson("inputs", Map.of(inputKey, input)).toString());
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("keras_predict.py").toString(), model.toString(), in.toString(),
        out.toString());
    return Fixtures.readTensorsJson(out, "outputs");
  }

  /** inspect: the embedding tables, attention projections and transposed-conv kernels are clusterable. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void inspectShowsTheNewWeightsClusterableWithTheirOp(TextFixture f) throws Exception {
    Map<String, String> clusterableOps = new HashMap<>();
    long clusterableParams = 0;
    for (JsonElement e : JsonParser.parseString(cliOut("inspect", f.path().toString(), "--json"))
        .getAsJsonObject().getAsJsonArray("weights")) {
      JsonObject w = e.getAsJsonObject();
      if (w.get("clusterable").getAsBoolean()) {
        clusterableOps.put(w.get("layer").getAsString(), w.get("op").getAsString());
        clusterableParams += w.get("params").getAsLong();
      }
    }
    assertTrue(clusterableParams >= f.tfmotParams(),
        clusterableParams + " clusterable parameters, tfmot clusters " + f.tfmotParams());
    Map<String, String> expected = switch (f.name()) {
      case "transformer" -> Map.of("embedding/embeddings", "GatherV2", "query/kernel", "BatchMatMulV2",
          "attention_output/kernel", "BatchMatMulV2");
      case "conv1d_transpose" -> Map.of("conv1d/kernel", "Conv2D", "conv1d_transpose/kernel", "Conv2DBackpropInput",
          "conv1d_transpose_1/kernel", "Conv2DBackpropInput");
      case "bert_hub" -> Map.of("token_embedding/embeddings", "GatherV2",
          "position_embedding/embeddings", "ResourceGather", "projection/kernel", "Einsum");
      // Read inside While loops: found in the loop bodies.
      case "rnn_text" -> Map.of("lstm/kernel", "MatMul", "lstm/recurrent_kernel", "MatMul",
          "gru_cell/recurrent_kernel", "MatMul", "backward_lstm/kernel", "MatMul",
          "simple_rnn_cell/recurrent_kernel", "MatMul");
      // The Keras files, built by wclust's layer builder: EinsumDense projections are Einsum ops,
      // recurrent layers are unrolled (the kernel read by one MatMul, the recurrent kernel by one per step).
      case "transformer.keras" -> Map.of("embedding/embeddings", "GatherV2", "block_attention/query/kernel", "Einsum",
          "block_attention/attention_output/kernel", "Einsum", "block_ffn1/kernel", "MatMul");
      case "rnn_text.keras" -> Map.of("embedding/embeddings", "GatherV2", "lstm/kernel", "MatMul",
          "lstm/recurrent_kernel", "MatMul", "gru/recurrent_kernel", "MatMul", "bidirectional/backward/kernel", "MatMul",
          "simple_rnn/recurrent_kernel", "MatMul");
      default -> throw new AssertionError(f.name());
    };
    expected.forEach((layer, op) -> assertEquals(op, clusterableOps.get(layer), layer + " in " + clusterableOps));
  }

  /**
   * cluster --clusters 16, convert: every float constant of at least 256 elements in the .tflite holds
   * at most 16 values, together at least 95 % of what tfmot clusters; the .tflite computes what the
   * clustered SavedModel computes within 1e-4.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtures")
  void clusteredTfliteKeepsSixteenValuesPerWeight(TextFixture f, @TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", f.path().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--no-size"));
    Path tflite = tmp.resolve("model.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString()));

    long clustered = 0;
    int tensors = 0;
    List<String> tooMany = new ArrayList<>();
    for (JsonObject c : constants(tflite, tmp)) {
      if (c.get("dtype").getAsString().equals("float32") && c.get("size").getAsLong() >= 256) {
        tensors++;
        if (c.get("distinct").getAsInt() <= K) {
          clustered += c.get("size").getAsLong();
        } else {
          tooMany.add(c.get("ops") + " " + c.get("shape") + ": " + c.get("distinct"));
        }
      }
    }
    // For the README table.
    System.out.printf("%s: %d float constants of >= 256 elements, %d elements with <= %d values, tfmot %d%n",
        f.name(), tensors, clustered, K, f.tfmotParams());
    assertTrue(tooMany.isEmpty(), "float constants with more than " + K + " values: " + tooMany);
    assertTrue(clustered >= 0.95 * f.tfmotParams(),
        clustered + " parameters with <= " + K + " values, tfmot clusters " + f.tfmotParams());

    String key = ModelLoader.load(out, ModelLoader.DEFAULT_SIGNATURE).signature().inputs().get(0).key();
    Fixtures.assertTfliteComputesSavedModel(tflite, out, Map.of(key, input(f, 3, 11)), tmp);
  }

  /**
   * Per-channel codebooks (embedding rows, output features — for a recurrent kernel each gate's units),
   * preserve-sparsity and int8-aware: dynamic-range int8 keeps at most 16 values in every row of the
   * GATHER table and every output channel of the FULLY_CONNECTED weights, in the WHILE bodies too.
   */
  @ParameterizedTest
  @ValueSource(strings = {"transformer", "rnn_text", "rnn_text.keras"})
  void int8AwarePerChannelKeepsSixteenValuesPerChannel(String name, @TempDir Path tmp) throws Exception {
    TextFixture f = fixture(name);
    Path out = tmp.resolve("out");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", f.path().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--granularity", "channel", "--preserve-sparsity", "--int8-aware",
        "--no-size"));
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    boolean sawEmbedding = false;
    for (JsonElement e : report.getAsJsonArray("layers")) {
      JsonObject l = e.getAsJsonObject();
      if (l.get("name").getAsString().equals("embedding/embeddings")) {
        sawEmbedding = true;
        assertEquals(1000, l.get("codebooks").getAsInt(), "one codebook per embedding row");
      }
    }
    assertTrue(sawEmbedding, "the embedding table is clustered");

    Path tflite = tmp.resolve("model.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString(),
        "--quantize", "dynamic"));
    int int8 = 0;
    for (JsonObject c : constants(tflite, tmp)) {
      if (c.get("dtype").getAsString().equals("int8")) {
        int8++;
        assertTrue(c.get("distinct_per_row_max").getAsInt() <= K, c.toString());
      }
    }
    // transformer: the embedding and six FULLY_CONNECTED weights; rnn_text: the embedding and the
    // kernel and recurrent kernel of LSTM, GRU, the two directions of the Bidirectional and SimpleRNN.
    // (the same for the RNN's Keras file: the unrolled RNN's MatMuls)
    int expected = name.startsWith("transformer") ? 7 : 11;
    assertTrue(int8 >= expected, "expected " + expected + " int8 weights, got " + int8);
  }

  /**
   * Token-input Keras files fine-tune: int32 ids read from a .npz feed the Embedding, and the training
   * graph (attention Einsums; recurrent layers unrolled) has the gradients of every clustered weight.
   * The labels are random: this pins that training runs and keeps the clusters, not what it learns.
   */
  @ParameterizedTest
  @ValueSource(strings = {"transformer.keras", "rnn_text.keras"})
  void tokenInputKerasFileFineTunes(String name, @TempDir Path tmp) throws Exception {
    TextFixture f = fixture(name);
    Path out = tmp.resolve("out");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", f.path().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--data", DIR.resolve("tokens.npz").toString(), "--epochs", "1",
        "--no-size"));
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    List<String> names = new ArrayList<>();
    for (JsonElement e : report.getAsJsonArray("layers")) {
      JsonObject l = e.getAsJsonObject();
      assertTrue(l.get("distinct_values").getAsInt() <= K, l.toString());
      names.add(l.get("name").getAsString());
    }
    assertTrue(names.contains("embedding/embeddings"), names.toString());
    assertTrue(report.getAsJsonObject("accuracy").has("fine_tuned"), report.get("accuracy").toString());

    // scaled ids are not ids: one line naming the input
    CommandLine cli = WclustCommand.commandLine(new DemoCommand());
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    assertEquals(2, cli.execute("cluster", f.path().toString(), "-o", tmp.resolve("scaled").toString(),
        "--clusters", String.valueOf(K), "--data", DIR.resolve("tokens.npz").toString(), "--scale", "0.5",
        "--epochs", "1", "--no-size"));
    assertTrue(err.toString().strip().matches("wclust: error: .*'tokens' takes int32 token ids.*"), err.toString());
  }

  /** A SavedModel's While loop has no gradient: fine-tuning it is one error line pointing to the Keras file. */
  @org.junit.jupiter.api.Test
  void fineTuningASavedModelWithWhileLoopsIsRefusedNamingTheKerasFile(@TempDir Path tmp) throws Exception {
    TextFixture f = fixture("rnn_text");
    // two unlabelled token sequences (the SavedModel's static batch): distillation from the original
    Path ids = tmp.resolve("ids.npy");
    String header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 16), }";
    header += " ".repeat(63 - (10 + header.length()) % 64) + "\n";
    java.nio.ByteBuffer npy = java.nio.ByteBuffer.allocate(10 + header.length() + 2 * 16 * 4)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    npy.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length())
        .put(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (int i = 0; i < 32; i++) {
      npy.putInt(i * 7 % f.vocab());
    }
    Files.write(ids, npy.array());
    CommandLine cli = WclustCommand.commandLine(new DemoCommand());
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    assertEquals(2, cli.execute("cluster", f.path().toString(), "-o", tmp.resolve("out").toString(),
        "--clusters", String.valueOf(K), "--data", ids.toString(), "--distill", "--epochs", "1", "--batch-size", "2",
        "--no-size"));
    String message = err.toString().strip();
    assertTrue(message.matches("wclust: error: cannot fine-tune: .* is a (Stateless)?While loop .*"
        + "fine-tune the model's \\.keras or \\.h5 file instead .*"), message);
    assertTrue(!message.contains("\n") && !Files.exists(tmp.resolve("out")), message);
  }

  private static List<JsonObject> constants(Path tflite, Path tmp) throws IOException, InterruptedException {
    Path json = tmp.resolve("constants.json");
    Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("tflite_constants.py").toString(), tflite.toString(),
        json.toString());
    List<JsonObject> list = new ArrayList<>();
    for (JsonElement e : JsonParser.parseString(Files.readString(json)).getAsJsonObject().getAsJsonArray("constants")) {
      list.add(e.getAsJsonObject());
    }
    return list;
  }

  private static String cliOut(String... args) {
    CommandLine cli = WclustCommand.commandLine(new DemoCommand());
    StringWriter out = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(new StringWriter()));
    assertEquals(0, cli.execute(args), String.join(" ", args));
    return out.toString();
  }
}

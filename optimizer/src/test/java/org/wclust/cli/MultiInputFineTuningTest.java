package org.wclust.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wclust.internal.data.TestFiles.f4;
import static org.wclust.internal.data.TestFiles.i8;
import static org.wclust.internal.data.TestFiles.npy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.wclust.api.Wclust;
import org.wclust.TfJavaModels;
import org.wclust.internal.data.TestFiles;
import picocli.CommandLine;

/**
 * A model with two inputs (float32 {@code pixels} [-1,4], int64 {@code ids} [-1,2]) fine-tunes from an
 * {@code .npz} with one array per input (named after the inputs, or mapped with {@code --features}) and
 * from a TFRecord with one feature per input; the exported model's accuracy, computed here by TF Java on
 * both inputs, rises well above the original's. Missing arrays, unknown input names and one array for
 * two inputs fail with one line and write nothing.
 */
class MultiInputFineTuningTest {
  private static final int N = 1200;
  /** The model's weights for ids; the labels come from another function of both inputs. */
  private static final float[][] IDS_KERNEL = {{0.125f, -0.25f, 0.375f}, {-0.375f, 0.25f, -0.125f}};
  private static final float[][] TEACHER_PIXELS = {{1f, -1f, 0f}, {-1f, 0f, 1f}, {0f, 1f, -1f}, {1f, 1f, -2f}};
  private static final float[][] TEACHER_IDS = {{0.75f, 0f, -0.75f}, {-0.75f, 0.75f, 0f}};

  @TempDir static Path shared;
  static Path model;
  static float[] pixels = new float[N * 4];
  static long[] ids = new long[N * 2];
  static int[] labels = new int[N];

  @TempDir Path tmp;

  @BeforeAll
  static void modelAndData() throws IOException {
    model = TfJavaModels.exportTwoInputs(shared.resolve("model"), IDS_KERNEL);
    Random random = new Random(11);
    for (int i = 0; i < N; i++) {
      float[] logits = new float[3];
      for (int j = 0; j < 4; j++) {
        pixels[i * 4 + j] = random.nextFloat() * 2 - 1;
      }
      for (int j = 0; j < 2; j++) {
        ids[i * 2 + j] = random.nextInt(4);
      }
      for (int c = 0; c < 3; c++) {
        for (int j = 0; j < 4; j++) {
          logits[c] += pixels[i * 4 + j] * TEACHER_PIXELS[j][c];
        }
        for (int j = 0; j < 2; j++) {
          logits[c] += ids[i * 2 + j] * TEACHER_IDS[j][c];
        }
      }
      labels[i] = argMax(logits, 0);
    }
  }

  private static int argMax(float[] v, int offset) {
    int best = 0;
    for (int c = 1; c < 3; c++) {
      best = v[offset + c] > v[offset + best] ? c : best;
    }
    return best;
  }

  /** An .npz holding the pixels, ids and labels under the given names. */
  private Path npz(String name, String pixelsKey, String idsKey, String labelKey) throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    if (pixelsKey != null) {
      entries.put(pixelsKey + ".npy", npy(1, "<f4", false, new long[] {N, 4}, f4(pixels)));
    }
    if (idsKey != null) {
      entries.put(idsKey + ".npy", npy(1, "<i8", false, new long[] {N, 2}, i8(ids)));
    }
    long[] y = new long[N];
    for (int i = 0; i < N; i++) {
      y[i] = labels[i];
    }
    entries.put(labelKey + ".npy", npy(1, "<i8", false, new long[] {N}, i8(y)));
    return TestFiles.zip(tmp.resolve(name), false, entries);
  }

  /** The accuracy of the SavedModel in {@code dir} on the data, run here by TF Java with both inputs fed. */
  private static double accuracy(Path dir) {
    return accuracy(dir, false);
  }

  private static double accuracy(Path dir, boolean zeroIds) {
    try (SavedModelBundle bundle = SavedModelBundle.load(dir.toString(), "serve");
        TFloat32 x = TFloat32.tensorOf(Shape.of(N, 4), DataBuffers.of(pixels, true, false));
        TInt64 t = TInt64.tensorOf(Shape.of(N, 2), DataBuffers.of(zeroIds ? new long[N * 2] : ids, true, false));
        Result result = bundle.function("serving_default").call(Map.of("pixels", x, "ids", t))) {
      Tensor y = result.get("y").orElseThrow();
      float[] logits = new float[N * 3];
      ((TFloat32) y).copyTo(DataBuffers.of(logits, false, false));
      int right = 0;
      for (int i = 0; i < N; i++) {
        right += argMax(logits, i * 3) == labels[i] ? 1 : 0;
      }
      return (double) right / N;
    }
  }

  private static int run(StringWriter err, List<String> args) {
    CommandLine cli = WclustCommand.commandLine();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args.toArray(new String[0]));
  }

  private static List<String> cluster(Path out, String... more) {
    List<String> args = new ArrayList<>(List.of("cluster", model.toString(), "-o", out.toString(), "--clusters", "4",
        "--epochs", "4", "--batch-size", "32", "--learning-rate", "0.05", "--seed", "3", "--no-size"));
    args.addAll(List.of(more));
    return args;
  }

  /** Fine-tunes from {@code data}; checks the report against an accuracy computed here; returns it. */
  private double fineTunes(Path data, String... more) throws IOException {
    Path out = tmp.resolve("out-" + data.getFileName());
    List<String> args = cluster(out, "--data", data.toString(), "--val", data.toString());
    args.addAll(List.of(more));
    StringWriter err = new StringWriter();
    assertEquals(0, run(err, args), err.toString());
    double tuned = accuracy(out);
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve(Wclust.REPORT_FILE))).getAsJsonObject();
    JsonObject accuracy = report.getAsJsonObject("accuracy");
    assertEquals(tuned, accuracy.get("fine_tuned").getAsDouble(), 1e-9, "wclust's evaluation of both inputs");
    assertEquals(accuracy(model), accuracy.get("original").getAsDouble(), 1e-9);
    assertTrue(tuned > accuracy.get("clustered").getAsDouble(), report.toString());
    System.out.println(data.getFileName() + ": accuracy " + accuracy); // the figures README quotes
    return tuned;
  }

  @Test
  void fineTunesFromNpzArraysNamedAfterTheInputsOrMapped() throws IOException {
    double original = accuracy(model);
    double byName = fineTunes(npz("named.npz", "pixels", "ids", "y"));
    assertTrue(byName > original + 0.2, "original " + original + ", fine-tuned " + byName);
    double mapped = fineTunes(npz("mapped.npz", "image", "tokens", "label"),
        "--features", "pixels:image,ids:tokens,y:label");
    assertEquals(byName, mapped, 1e-9, "the same arrays under other names train the same model");
    // Ids zeroed: the fine-tuned model needs its second input (the labels depend on both).
    double withoutIds = accuracy(tmp.resolve("out-named.npz"), true);
    assertTrue(withoutIds < byName - 0.1, "ids zeroed " + withoutIds + ", fed " + byName);
  }

  @Test
  void distillsAndTrainsOnWorkersWithEveryInputSplit() throws IOException {
    Path data = npz("named.npz", "pixels", "ids", "y");
    Path out = tmp.resolve("distilled");
    StringWriter err = new StringWriter();
    assertEquals(0, run(err, cluster(out, "--data", data.toString(), "--distill")), err.toString());
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve(Wclust.REPORT_FILE))).getAsJsonObject();
    assertTrue(report.getAsJsonObject("fine_tuning").get("objective").getAsString().startsWith("distillation"),
        report.toString());

    // Two TensorFlow servers in this JVM (TensorFlow cannot stop them: they end with the JVM).
    List<String> workers = List.of("127.0.0.1:" + freePort(), "127.0.0.1:" + freePort());
    org.wclust.api.TrainingWorker.start(workers.get(0), workers, 0);
    org.wclust.api.TrainingWorker.start(workers.get(1), workers, 1);
    double single = fineTunes(data);
    Files.move(tmp.resolve("out-named.npz"), tmp.resolve("single-process"));
    double distributed = fineTunes(data, "--workers", String.join(",", workers));
    assertEquals(single, distributed, 0.02, "the same global batches, split over two workers");
    // The workers did train: without the second one the run fails.
    String dead = "127.0.0.1:" + freePort();
    Path none = tmp.resolve("none");
    String line = fails(none, cluster(none, "--data", data.toString(), "--workers", workers.get(0) + "," + dead));
    assertTrue(line.contains("worker " + dead + " does not answer"), line);
  }

  private static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void regressesOnFloatTargetsFromBothInputs() throws IOException {
    float[] targets = new float[N * 3];
    for (int i = 0; i < N; i++) {
      for (int c = 0; c < 3; c++) {
        for (int j = 0; j < 4; j++) {
          targets[i * 3 + c] += pixels[i * 4 + j] * TEACHER_PIXELS[j][c];
        }
        for (int j = 0; j < 2; j++) {
          targets[i * 3 + c] += ids[i * 2 + j] * TEACHER_IDS[j][c];
        }
      }
    }
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("pixels.npy", npy(1, "<f4", false, new long[] {N, 4}, f4(pixels)));
    entries.put("ids.npy", npy(1, "<i8", false, new long[] {N, 2}, i8(ids)));
    entries.put("y.npy", npy(1, "<f4", false, new long[] {N, 3}, f4(targets)));
    Path data = TestFiles.zip(tmp.resolve("regression.npz"), false, entries);
    Path out = tmp.resolve("regression");
    StringWriter err = new StringWriter();
    assertEquals(0, run(err, cluster(out, "--data", data.toString(), "--loss", "mse")), err.toString());
    JsonObject mse = JsonParser.parseString(Files.readString(out.resolve(Wclust.REPORT_FILE))).getAsJsonObject()
        .getAsJsonObject("mean_squared_error");
    assertTrue(mse.get("fine_tuned").getAsDouble() < mse.get("clustered").getAsDouble() / 4, mse.toString());
  }

  @Test
  void fineTunesFromOneTfRecordFeaturePerInput() throws IOException {
    List<byte[]> records = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      records.add(TestFiles.example(
          "px", TestFiles.floats(java.util.Arrays.copyOfRange(pixels, i * 4, i * 4 + 4)),
          "tok", TestFiles.int64s(java.util.Arrays.copyOfRange(ids, i * 2, i * 2 + 2)),
          "label", TestFiles.int64s(labels[i])));
    }
    Path data = TestFiles.tfrecord(tmp.resolve("train.tfrecord"), records);
    double tuned = fineTunes(data, "--features", "ids:tok,pixels:px,y:label");
    assertTrue(tuned > accuracy(model) + 0.2, "fine-tuned " + tuned);
  }

  /** Runs a failing {@code wclust cluster}: exit 2, one error line, no OUT; returns the message. */
  private String fails(Path out, List<String> args) {
    StringWriter err = new StringWriter();
    assertEquals(2, run(err, args), err.toString());
    List<String> lines = err.toString().lines().toList();
    assertEquals(1, lines.size(), err.toString());
    assertTrue(lines.get(0).startsWith("wclust: error: "), lines.get(0));
    assertFalse(Files.exists(out), "nothing written");
    return lines.get(0);
  }

  @Test
  void missingOrUnknownInputsFailWithOneLine() throws IOException {
    Path out = tmp.resolve("out");
    Path named = npz("named.npz", "pixels", "ids", "y");
    String line = fails(out, cluster(out, "--data", named.toString(), "--features", "pixels:pixels,ids:tokens,y:y"));
    assertTrue(line.contains("has no array 'tokens' for the model input 'ids'"), line);
    line = fails(out, cluster(out, "--data", named.toString(), "--features", "pixels:pixels,ids:ids,mask:ids,y:y"));
    assertTrue(line.contains("--features names 'mask', which is not an input of the model"), line);
    line = fails(out, cluster(out, "--data", npz("half.npz", "pixels", null, "y").toString()));
    assertTrue(line.contains("has no array for the model input 'ids'"), line);
    line = fails(out, cluster(out, "--data", npz("x.npz", "x", null, "y").toString()));
    assertTrue(line.contains("the model has 2 inputs") && line.contains("one array of inputs"), line);
    line = fails(out, cluster(out, "--val", named.toString(), "--features", "pixels:pixels,y:y"));
    assertTrue(line.contains("--features maps no array or feature to the model input 'ids'"), line);
    line = fails(out, cluster(out, "--calibration", named.toString()));
    assertTrue(line.contains("--calibration needs a model with one input"), line);
  }
}

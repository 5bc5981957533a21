package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fine-tuning options through the command line on a 2,000-image slice of Fashion-MNIST: TFRecord
 * input, SGD with cosine decay and mean aggregation, and codebook structures that training must keep
 * (per-channel codebooks, int8 grids), checked in the converted .tflite by Python TensorFlow.
 */
class FineTuningOptionsTest {
  private static final int SLICE = 2000;
  @TempDir static Path shared;
  static Path slice;
  static Path tfrecord;

  @TempDir Path tmp;

  /** The first 2,000 training images as .npz and as a TFRecord of raw uint8 bytes_list Examples. */
  @BeforeAll
  static void makeSlices() throws Exception {
    slice = shared.resolve("slice.npz");
    tfrecord = shared.resolve("slice.tfrecord");
    Fixtures.runPython("-c", String.join("\n",
        "import numpy as np, tensorflow as tf",
        "d = np.load('" + FashionMnist.train() + "')",
        "x, y = d['x'][:" + SLICE + "], d['y'][:" + SLICE + "]",
        "np.savez('" + slice + "', x=x, y=y)",
        "with tf.io.TFRecordWriter('" + tfrecord + "') as w:",
        "  for image, label in zip(x, y):",
        "    f = {'image': tf.train.Feature(bytes_list=tf.train.BytesList(value=[image.tobytes()])),",
        "         'label': tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))}",
        "    w.write(tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString())"));
  }

  private JsonObject cluster(Path out, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("cluster", FashionMnist.model().toString(), "-o", out.toString(),
        "--scale", Double.toString(FashionMnist.SCALE), "--no-size"));
    args.addAll(List.of(extra));
    assertEquals(0, EndToEndFixturesTest.cli(args.toArray(new String[0])));
    return JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
  }

  private List<JsonObject> tfliteWeights(Path savedModel) throws Exception {
    Path tflite = tmp.resolve(savedModel.getFileName() + ".tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", savedModel.toString(), "-o", tflite.toString()));
    List<JsonObject> weights = new ArrayList<>();
    for (JsonElement e : Fixtures.python().runTool("weights", tflite.toString()).getAsJsonArray("weights")) {
      weights.add(e.getAsJsonObject());
    }
    assertEquals(4, weights.size());
    return weights;
  }

  @Test
  void tfrecordInputWithSgdCosineDecayAndMeanAggregation() throws Exception {
    Path out = tmp.resolve("tfrecord");
    JsonObject report = cluster(out, "--clusters", "8", "--data", tfrecord.toString(), "--features", "x:image,y:label",
        "--optimizer", "sgd", "--learning-rate", "0.01", "--lr-decay", "cosine", "--gradient-aggregation", "mean",
        "--batch-size", "100");
    JsonObject tuning = report.getAsJsonObject("fine_tuning");
    assertEquals(SLICE / 100, tuning.get("steps").getAsInt());
    assertEquals("mean", tuning.get("gradient_aggregation").getAsString());
    assertTrue(tuning.get("optimizer").getAsString().startsWith("sgd"), tuning.toString());
    // Without --val the labelled training data is scored; the exported model is checked by Python TF.
    JsonObject accuracy = report.getAsJsonObject("accuracy");
    assertEquals("training data", accuracy.get("dataset").getAsString());
    assertEquals(FashionMnist.accuracy(out, slice, FashionMnist.SCALE), accuracy.get("fine_tuned").getAsDouble(), 1e-4);
    for (JsonObject w : tfliteWeights(out)) {
      assertTrue(w.get("distinct").getAsInt() <= 8, w.toString());
    }
  }

  @Test
  void perChannelCodebooksKeepKValuesPerChannelAfterTraining() throws Exception {
    Path out = tmp.resolve("channel");
    cluster(out, "--clusters", "4", "--granularity", "channel", "--data", slice.toString());
    for (JsonObject w : tfliteWeights(out)) {
      assertTrue(w.get("distinct_per_channel_max").getAsInt() <= 4, w.toString());
      assertTrue(w.get("distinct").getAsInt() > 4, "one codebook per channel: " + w);
    }
  }

  @Test
  void int8AwareCentroidsAreBackOnTheGridAfterTraining() throws Exception {
    Path out = tmp.resolve("int8");
    cluster(out, "--clusters", "8", "--int8-aware", "--data", slice.toString());
    Path data = tmp.resolve("representative.npz");
    Fixtures.runPython("-c", "import numpy as np; d = np.load('" + slice + "'); "
        + "np.savez('" + data + "', x=(d['x'][:64] / 255.0).astype(np.float32))");
    Path tflite = tmp.resolve("int8.tflite");
    assertEquals(0, EndToEndFixturesTest.cli("convert", out.toString(), "-o", tflite.toString(),
        "--quantize", "int8", "--data", data.toString()));
    for (JsonElement e : Fixtures.python().runTool("weights", tflite.toString()).getAsJsonArray("weights")) {
      JsonObject w = e.getAsJsonObject();
      assertEquals("int8", w.get("dtype").getAsString(), w.toString());
      assertTrue(w.get("distinct_per_channel_max").getAsInt() <= 8, w.toString());
    }
  }
}

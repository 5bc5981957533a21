package org.wclust.internal.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wclust.internal.data.TestFiles.bytes;
import static org.wclust.internal.data.TestFiles.example;
import static org.wclust.internal.data.TestFiles.f4;
import static org.wclust.internal.data.TestFiles.f8;
import static org.wclust.internal.data.TestFiles.floats;
import static org.wclust.internal.data.TestFiles.i8;
import static org.wclust.internal.data.TestFiles.int64s;
import static org.wclust.internal.data.TestFiles.npy;
import static org.wclust.internal.data.TestFiles.tfrecord;
import static org.wclust.internal.data.TestFiles.u1;
import static org.wclust.internal.data.TestFiles.write;
import static org.wclust.internal.data.TestFiles.zip;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Format choice, label handling, scale and the expected-shape rule of DatasetLoader. */
class DatasetLoaderTest {
  @TempDir Path tmp;

  /** Three 2x2 uint8 images 0..11 (the last pixel 255) and int64 labels 3, 1, 4. */
  private Path npz(String name, Map<String, byte[]> extra) throws IOException {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("x.npy", npy(1, "|u1", false, new long[] {3, 2, 2}, u1(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255)));
    entries.put("y.npy", npy(1, "<i8", false, new long[] {3}, i8(3, 1, 4)));
    entries.putAll(extra);
    return zip(tmp.resolve(name), true, entries);
  }

  private String fails(Path file, DataSpec spec) {
    return assertThrows(IllegalArgumentException.class, () -> DatasetLoader.load(file, spec)).getMessage();
  }

  @Test
  void npzWithScaleAndReshape() throws IOException {
    Dataset d = DatasetLoader.load(npz("d.npz", Map.of()),
        DataSpec.defaults().withScale(1 / 255.0).withExampleShape(2, 2, 1));
    assertEquals(3, d.size());
    assertArrayEquals(new long[] {2, 2, 1}, d.exampleShape());
    assertArrayEquals(new int[] {3, 1, 4}, d.labels().orElseThrow());
    float[] last = d.example(2);
    assertEquals(8 / 255f, last[0], 1e-7);
    assertEquals(1f, last[3]);
    assertArrayEquals(new long[] {2, 2, 2, 1}, d.batchInputs(new int[] {0, 1}).shape());
  }

  @Test
  void unscaledIntegersBecomeExactFloats() throws IOException {
    Dataset d = DatasetLoader.load(npz("d.npz", Map.of()), DataSpec.defaults());
    assertArrayEquals(new long[] {2, 2}, d.exampleShape());
    assertArrayEquals(new float[] {8, 9, 10, 255}, d.example(2));
  }

  @Test
  void shapeThatDoesNotFitNamesBothShapes() throws IOException {
    Path file = npz("d.npz", Map.of());
    assertEquals(file + ":x: examples have shape [2, 2] (4 values) but the model expects [3, 3, 1] (9 values)",
        fails(file, DataSpec.defaults().withExampleShape(3, 3, 1)));
  }

  @Test
  void unknownDimensionsAcceptTheSameRank() throws IOException {
    Path file = npz("d.npz", Map.of());
    assertArrayEquals(new long[] {2, 2},
        DatasetLoader.load(file, DataSpec.defaults().withExampleShape(-1, 2)).exampleShape());
    assertEquals(file + ":x: examples have shape [2, 2] (4 values) but the model expects [-1, -1, 1]",
        fails(file, DataSpec.defaults().withExampleShape(-1, -1, 1)));
  }

  @Test
  void otherArrayNames() throws IOException {
    Path file = npz("d.npz", Map.of(
        "x_train.npy", npy(1, "<f8", false, new long[] {1, 2}, f8(0.5, -1)),
        "y_train.npy", npy(1, "<f4", false, new long[] {1, 1}, f4(7))));
    Dataset d = DatasetLoader.load(file, DataSpec.defaults().withInputs("x_train").withLabels("y_train"));
    assertArrayEquals(new float[] {0.5f, -1f}, d.example(0));
    assertArrayEquals(new int[] {7}, d.labels().orElseThrow());
  }

  @Test
  void missingInputsListTheArrays() throws IOException {
    Path file = npz("d.npz", Map.of());
    assertEquals(file + " has no input array 'images'; arrays present: x, y",
        fails(file, DataSpec.defaults().withInputs("images")));
  }

  @Test
  void labelsAreOptionalUnlessNamed() throws IOException {
    Path file = zip(tmp.resolve("x.npz"), false,
        Map.of("x.npy", npy(1, "<f4", false, new long[] {2, 1}, f4(1, 2))));
    assertFalse(DatasetLoader.load(file, DataSpec.defaults()).hasLabels());
    assertEquals(file + " has no label array 'y'; arrays present: x",
        fails(file, DataSpec.defaults().withLabels("y")));
    assertFalse(DatasetLoader.load(npz("d.npz", Map.of()), DataSpec.defaults().withoutLabels()).hasLabels());
  }

  @Test
  void badLabels() throws IOException {
    Path fractional = npz("f.npz", Map.of("y.npy", npy(1, "<f4", false, new long[] {3}, f4(1, 0.5f, 2))));
    assertEquals(fractional + ":y holds 0.5 at index 1, not an integer", fails(fractional, DataSpec.defaults()));

    Path oneHot = npz("h.npz", Map.of("y.npy", npy(1, "<f4", false, new long[] {3, 2}, f4(1, 0, 0, 1, 1, 0))));
    assertEquals(oneHot + ":y has shape [3, 2]; labels must be class indices of shape [N] or [N, 1] "
        + "(one-hot labels are not supported: save y.argmax(axis=1))", fails(oneHot, DataSpec.defaults()));

    Path shortLabels = npz("s.npz", Map.of("y.npy", npy(1, "<i8", false, new long[] {2}, i8(1, 2))));
    assertEquals(shortLabels + ": the inputs 'x' have 3 examples but the labels 'y' have 2",
        fails(shortLabels, DataSpec.defaults()));

    Path negative = npz("n.npz", Map.of("y.npy", npy(1, "<i8", false, new long[] {3}, i8(1, -1, 2))));
    assertTrue(fails(negative, DataSpec.defaults()).contains("label -1 of example 1 is negative"));
  }

  @Test
  void npyHoldsInputsOnly() throws IOException {
    Path file = write(tmp.resolve("x.npy"), npy(2, "<f4", false, new long[] {2, 3}, f4(1, 2, 3, 4, 5, 6)));
    Dataset d = DatasetLoader.load(file, DataSpec.defaults().withScale(2));
    assertEquals(2, d.size());
    assertFalse(d.hasLabels());
    assertArrayEquals(new float[] {8, 10, 12}, d.example(1));
    assertTrue(fails(file, DataSpec.defaults().withLabels("y")).contains("a .npy file holds one array"));
    Path scalar = write(tmp.resolve("s.npy"), npy(1, "<f4", false, new long[] {}, f4(1)));
    assertEquals(scalar + " is a 0-d array; inputs need a leading example dimension, shape [N, ...]",
        fails(scalar, DataSpec.defaults()));
  }

  @Test
  void missingFileUnknownExtensionAndDirectory() throws IOException {
    Path missing = tmp.resolve("nope.npz");
    assertEquals("no such file: " + missing, fails(missing, DataSpec.defaults()));
    Path csv = write(tmp.resolve("data.csv"), new byte[1]);
    assertEquals("unknown data file type: " + csv + " (expected .npz, .npy, .tfrecord, .tfrecords or .record)",
        fails(csv, DataSpec.defaults()));
    // A folder is image data (class folders or TFRecord shards) now: an empty one holds none.
    Path dir = Files.createDirectory(tmp.resolve("dir.npz"));
    assertEquals(dir + " holds no JPEG/PNG/BMP/GIF images", fails(dir, DataSpec.defaults()));
  }

  @Test
  void tfrecordFloatListInputsAndInt64Labels() throws IOException {
    Path file = tfrecord(tmp.resolve("d.tfrecord"), List.of(
        example("x", floats(1, 2, 3, 4), "y", int64s(5)),
        example("x", floats(-1, -2, -3, -4), "y", int64s(0))));
    Dataset d = DatasetLoader.load(file, DataSpec.defaults().withExampleShape(2, 2));
    assertArrayEquals(new long[] {2, 2}, d.exampleShape());
    assertArrayEquals(new float[] {-1, -2, -3, -4}, d.example(1));
    assertArrayEquals(new int[] {5, 0}, d.labels().orElseThrow());
    // Without an expected shape the examples stay flat.
    assertArrayEquals(new long[] {4}, DatasetLoader.load(file, DataSpec.defaults()).exampleShape());
  }

  @Test
  void tfrecordRawUint8BytesWithFeatureSpecAndGzip() throws IOException {
    List<byte[]> records = List.of(
        example("image", bytes(u1(0, 51, 102, 255)), "label", int64s(2)),
        example("image", bytes(u1(255, 255, 0, 0)), "label", int64s(1)));
    for (String name : List.of("d.tfrecords", "d.record", "d.tfrecord-00000-of-00001", "d.tfrecord.gz")) {
      Path file = tfrecord(tmp.resolve(name), records);
      Dataset d = DatasetLoader.load(file,
          DataSpec.defaults().withFeatures("x:image,y:label").withScale(1 / 255.0).withExampleShape(2, 2, 1));
      assertArrayEquals(new long[] {2, 2, 1}, d.exampleShape(), name);
      assertArrayEquals(new float[] {0, 0.2f, 0.4f, 1}, d.example(0), 1e-7f);
      assertArrayEquals(new int[] {2, 1}, d.labels().orElseThrow());
    }
  }

  @Test
  void tfrecordInt64InputsAndOptionalLabels() throws IOException {
    Path file = tfrecord(tmp.resolve("d.tfrecord"), List.of(
        example("x", int64s(1, 2, 3)), example("x", int64s(4, 5, 6))));
    Dataset d = DatasetLoader.load(file, DataSpec.defaults());
    assertFalse(d.hasLabels());
    assertArrayEquals(new float[] {4, 5, 6}, d.example(1));
    assertEquals(file + ": record 0 has no label feature 'y'; features present: x",
        fails(file, DataSpec.defaults().withLabels("y")));
    assertEquals(file + ": record 0 has no label feature 'label'; features present: x",
        fails(file, DataSpec.defaults().withFeatures("x:x,y:label")));
  }

  @Test
  void tfrecordErrors() throws IOException {
    Path missing = tfrecord(tmp.resolve("m.tfrecord"), List.of(
        example("x", floats(1), "y", int64s(0)), example("pixels", floats(1), "y", int64s(0))));
    assertEquals(missing + ": record 1 has no input feature 'x'; features present: pixels, y",
        fails(missing, DataSpec.defaults()));

    Path ragged = tfrecord(tmp.resolve("r.tfrecord"), List.of(
        example("x", floats(1, 2)), example("x", floats(1, 2, 3))));
    assertEquals(ragged + ": record 1: feature 'x' has 3 values but record 0 had 2; all examples must "
        + "have the same size", fails(ragged, DataSpec.defaults()));

    byte[] png = u1(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13);
    Path encoded = tfrecord(tmp.resolve("p.tfrecord"), List.of(example("x", bytes(png))));
    // Encoded images are decoded now (ImageDataReadingTest); this one is a bare signature.
    assertTrue(fails(encoded, DataSpec.defaults()).startsWith("cannot decode image " + encoded + " record 0: "),
        fails(encoded, DataSpec.defaults()));

    Path oneHot = tfrecord(tmp.resolve("o.tfrecord"), List.of(example("x", floats(1), "y", int64s(0, 1))));
    assertEquals(oneHot + ": record 0: feature 'y' is an int64_list of 2 values; a label must be an "
        + "int64_list of one class index (one-hot labels are not supported)", fails(oneHot, DataSpec.defaults()));

    Path notExample = tfrecord(tmp.resolve("n.tfrecord"), List.of(new byte[] {(byte) 0xff, 1, 2}));
    assertTrue(fails(notExample, DataSpec.defaults()).startsWith(notExample + ": record 0 is not a tf.train.Example"));

    Path empty = tfrecord(tmp.resolve("e.tfrecord"), List.of());
    assertEquals(empty + " holds no records", fails(empty, DataSpec.defaults()));

    Path flat = tfrecord(tmp.resolve("f.tfrecord"), List.of(example("x", floats(1, 2, 3))));
    assertEquals(flat + " (feature 'x'): examples have shape [3] (3 values) but the model expects [2, 2] "
        + "(4 values)", fails(flat, DataSpec.defaults().withExampleShape(2, 2)));
  }

  @Test
  void rawPixelsThatLookLikeAJpegAreRawWhenTheSizeFits() throws IOException {
    byte[] pixels = u1(0xff, 0xd8, 0xff, 0x10, 0xff, 0xd9);
    Path file = tfrecord(tmp.resolve("j.tfrecord"), List.of(example("x", bytes(pixels))));
    // without an expected size they are taken for a JPEG (which then does not decode)
    assertTrue(fails(file, DataSpec.defaults()).startsWith("cannot decode image " + file + " record 0: "));
    assertArrayEquals(new float[] {255, 216, 255, 16, 255, 217},
        DatasetLoader.load(file, DataSpec.defaults().withExampleShape(2, 3)).example(0));
  }

  @Test
  void anNpzWithoutXOffersEveryArrayOfTheLabelsCountAsANamedInput() throws IOException {
    Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
    entries.put("pixels.npy", npy(1, "<f4", false, new long[] {3, 2}, f4(0, 1, 2, 3, 4, 5)));
    entries.put("ids.npy", npy(1, "<i8", false, new long[] {3, 1}, i8(7, 8, 9)));
    entries.put("ids_test.npy", npy(1, "<i8", false, new long[] {2, 1}, i8(1, 2))); // another split: left out
    entries.put("y.npy", npy(1, "<i8", false, new long[] {3}, i8(2, 1, 0)));
    Path file = zip(tmp.resolve("named.npz"), false, entries);
    Dataset d = DatasetLoader.load(file, DataSpec.defaults());
    assertEquals(List.of("pixels", "ids"), d.namedInputs().orElseThrow().names());
    assertArrayEquals(new int[] {2, 1, 0}, d.labels().orElseThrow());
    Dataset fitted = d.forInputs(List.of("ids", "pixels"), List.of(Optional.empty(), Optional.empty()));
    assertArrayEquals(new float[] {9}, fitted.namedInputs().orElseThrow().get("ids").example(2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> d.forInputs(List.of("ids_test"), List.of(Optional.empty())));
    assertEquals(file + " has no array for the model input 'ids_test' (it has pixels, ids); name an array "
        + "'ids_test' or map one with --features ids_test:KEY", e.getMessage());
    // named with --features: a missing array is an error at once
    e = assertThrows(IllegalArgumentException.class,
        () -> DatasetLoader.load(file, DataSpec.defaults().withFeatures("a:pixels,b:tokens,y:y")));
    assertEquals(file + " has no array 'tokens' for the model input 'b'; arrays present: pixels, ids, ids_test, y",
        e.getMessage());
  }

  @Test
  void featureSpecSyntax() {
    assertEquals(FeatureSpec.of("image", "label"), FeatureSpec.parse("y:label, x:image"));
    assertEquals("x:img", FeatureSpec.parse("x:img").toString());
    assertEquals("x:image/raw,y:label", FeatureSpec.parse("x:image/raw,y:label").toString());
    // one pair per model input: any role but x/image/y/label is an input name, and x then is one too
    FeatureSpec named = FeatureSpec.parse("pixels:image, ids:tokens, y:label");
    assertEquals(List.of("pixels", "ids"), named.namedInputs().keySet().asList());
    assertEquals("tokens", named.namedInputs().get("ids"));
    assertEquals("pixels:image,ids:tokens,y:label", named.toString());
    assertEquals(Map.of("x", "a", "mask", "b"), FeatureSpec.parse("x:a,mask:b").namedInputs());
    assertFalse(FeatureSpec.parse("image:a,label:b").hasNamedInputs());
    for (String bad : List.of("", "x=image", "x:", ":foo", "x:a,x:b", "x:a,image:b", "y:label")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FeatureSpec.parse(bad));
      assertTrue(e.getMessage().startsWith("bad feature spec '" + bad + "'"), e.getMessage());
    }
  }

  @Test
  void regressionTargetsAreFloatsOfAnyShape() throws IOException {
    Path file = npz("r.npz", Map.of("t.npy", npy(1, "<f8", false, new long[] {3, 2}, f8(0.5, -1, 2.25, 0, 1e-3, 7))));
    Dataset d = DatasetLoader.load(file, DataSpec.defaults().withLabels("t").withRegressionTargets());
    assertTrue(d.hasTargets());
    assertFalse(d.hasLabels());
    assertArrayEquals(new long[] {2}, d.targetShape());
    assertArrayEquals(new float[] {1e-3f, 7f, 0.5f, -1f}, d.batchTargets(new int[] {2, 0}).toFloats());
    assertArrayEquals(new long[] {2, 2}, d.batchTargets(new int[] {2, 0}).shape());
    assertArrayEquals(new long[] {3, 2, 2}, d.batchInputs(new int[] {0, 1, 2}).shape());
  }

  @Test
  void regressionTargetsAreRequiredAndMustMatchTheInputs() throws IOException {
    String missing = fails(npz("r.npz", Map.of()), DataSpec.defaults().withLabels("t").withRegressionTargets());
    assertTrue(missing.contains("no array 't'") && missing.contains("x, y"), missing);
    Path file = npz("short.npz", Map.of("t.npy", npy(1, "<f4", false, new long[] {2}, f4(1, 2))));
    String mismatch = fails(file, DataSpec.defaults().withLabels("t").withRegressionTargets());
    assertTrue(mismatch.contains("3 examples") && mismatch.contains("[2]"), mismatch);
  }
}

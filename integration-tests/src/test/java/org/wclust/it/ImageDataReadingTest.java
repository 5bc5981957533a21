package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.internal.data.DataSpec;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.DatasetLoader;
import org.wclust.internal.data.ImageOptions;

/**
 * Image data (PNG class folders, TFRecords of PNGs, shards) decoded by TensorFlow in wclust against the
 * pixels Python wrote them from ({@code make_image_data.py}): every value must be the .npz twin's,
 * and the folder must list classes and files in the twin's order. Also the lenient and strict handling
 * of bad files, and resizing.
 */
class ImageDataReadingTest {
  private static final long[] FASHION = {28, 28, 1};
  @TempDir static Path tmp;
  static Dataset twin;

  @BeforeAll
  static void readTheNpzTwin() throws Exception {
    twin = DatasetLoader.load(ImageData.sortedNpz(), DataSpec.defaults()).withExampleShape(FASHION);
  }

  private static int[] all(Dataset d) {
    return IntStream.range(0, d.size()).toArray();
  }

  private static void assertSameAsTwin(Dataset d, Dataset expected) {
    assertTrue(d.streamed(), d.source());
    assertEquals(expected.size(), d.size());
    assertArrayEquals(expected.labels().orElseThrow(), d.labels().orElseThrow());
    assertArrayEquals(expected.batchInputs(all(expected)).toFloats(), d.batchInputs(all(d)).toFloats());
  }

  @Test
  void pngFolderDecodesToThePixelsAndLabelsItWasWrittenFrom() throws Exception {
    Dataset d = DatasetLoader.load(ImageData.pngFolder(), DataSpec.defaults());
    assertArrayEquals(FASHION, d.exampleShape(), "the first image's size, grayscale");
    assertSameAsTwin(d, twin);
  }

  @Test
  void tfrecordOfPngsAndItsShardsDecodeLikewise() throws Exception {
    DataSpec spec = DataSpec.defaults().withFeatures("image:image,label:label");
    assertSameAsTwin(DatasetLoader.load(ImageData.tfrecord(), spec), twin);
    assertSameAsTwin(DatasetLoader.load(ImageData.shards(), spec), twin);
  }

  @Test
  void scaleMeanAndStdAreApplied() throws Exception {
    DataSpec spec = DataSpec.defaults().withScale(1 / 255.0)
        .withImages(ImageOptions.defaults().withNormalization("0.5", "0.25"));
    Dataset d = DatasetLoader.load(ImageData.pngFolder(), spec);
    int[] first = IntStream.range(0, 50).toArray();
    float[] got = d.batchInputs(first).toFloats();
    float[] raw = twin.batchInputs(first).toFloats();
    for (int i = 0; i < raw.length; i++) {
      assertEquals((raw[i] / 255.0 - 0.5) / 0.25, got[i], 1e-5);
    }
  }

  @Test
  void largerImagesAreResizedToTheModelsInputSize() throws Exception {
    Dataset expected = DatasetLoader.load(ImageData.dir().resolve("bigger.npz"), DataSpec.defaults())
        .withExampleShape(FASHION);
    for (String method : List.of("area", "bilinear")) {
      DataSpec spec = DataSpec.defaults()
          .withImages(ImageOptions.defaults().withResize(ImageOptions.Resize.parse(method)));
      Dataset d = DatasetLoader.load(ImageData.dir().resolve("bigger"), spec);
      assertArrayEquals(new long[] {56, 56, 1}, d.exampleShape());
      // 2x2 blocks of one value: both methods give the original pixel back exactly.
      assertSameAsTwin(d.withExampleShape(FASHION), expected);
    }
  }

  @Test
  void colourImagesConvertToTheModelsChannels() throws Exception {
    Dataset rgb = DatasetLoader.load(ImageData.dir().resolve("rgb.tfrecord"), DataSpec.defaults()
        .withFeatures("image:image,label:label"));
    assertArrayEquals(new long[] {28, 28, 3}, rgb.exampleShape());
    int[] first = IntStream.range(0, 200).toArray();
    float[] colour = rgb.batchInputs(first).toFloats();
    float[] asGrey = rgb.withExampleShape(FASHION).batchInputs(first).toFloats();
    for (int i = 0; i < asGrey.length; i++) {
      assertEquals(colour[3 * i], colour[3 * i + 1]);
      assertEquals(colour[3 * i], colour[3 * i + 2]);
      // DecodeImage's RGB-to-grey weights sum to just under 1: within one grey level of the source
      assertEquals(colour[3 * i], asGrey[i], 1.0);
    }
  }

  @Test
  void unlabelledFolderGivesInputsOnly() throws Exception {
    Dataset d = DatasetLoader.load(ImageData.dir().resolve("unlabelled"), DataSpec.defaults());
    assertFalse(d.hasLabels());
    assertEquals(500, d.size());
    Dataset labelledWithoutLabels = DatasetLoader.load(ImageData.pngFolder(), DataSpec.defaults().withoutLabels());
    assertFalse(labelledWithoutLabels.hasLabels());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        DatasetLoader.load(ImageData.dir().resolve("unlabelled"), DataSpec.defaults().withLabels("y")));
    assertTrue(e.getMessage().contains("no class sub-folders"), e.getMessage());
  }

  @Test
  void classNamesOrderTheLabelsAndMustMatchTheFolders() throws Exception {
    List<String> reversed = new ArrayList<>();
    for (int c = 9; c >= 0; c--) {
      reversed.add(String.valueOf(c));
    }
    Dataset d = DatasetLoader.load(ImageData.pngFolder(),
        DataSpec.defaults().withImages(ImageOptions.defaults().withClassNames(reversed)));
    int[] expected = twin.labels().orElseThrow();
    int[] got = d.labels().orElseThrow();
    // Same multiset of images, label c now 9 - c.
    int[] counts = new int[10];
    for (int l : expected) {
      counts[l]++;
    }
    int[] gotCounts = new int[10];
    for (int l : got) {
      gotCounts[l]++;
    }
    for (int c = 0; c < 10; c++) {
      assertEquals(counts[c], gotCounts[9 - c]);
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        DatasetLoader.load(ImageData.pngFolder(), DataSpec.defaults().withImages(ImageOptions.defaults()
            .withClassNames(List.of("0", "1", "cat")))));
    assertTrue(e.getMessage().contains("no folder for [cat]") && e.getMessage().contains("not named"), e.getMessage());
  }

  /** A small class folder copied from the PNG folder, to be damaged. */
  private static Path copyOfTwoClasses(String name) throws Exception {
    Path root = tmp.resolve(name);
    for (String c : List.of("0", "1")) {
      Files.createDirectories(root.resolve(c));
      try (var files = Files.list(ImageData.pngFolder().resolve(c))) {
        for (Path f : files.sorted().limit(5).toList()) {
          Files.copy(f, root.resolve(c).resolve(f.getFileName()));
        }
      }
    }
    return root;
  }

  @Test
  void nonImageFilesAreSkippedWithACountOrRejectedWhenStrict() throws Exception {
    Path root = copyOfTwoClasses("non-images");
    Files.writeString(root.resolve("0/notes.txt"), "not an image");
    Files.writeString(root.resolve("1/fake.png"), "not a PNG either");
    List<String> warnings = new ArrayList<>();
    Dataset d = DatasetLoader.load(root, DataSpec.defaults(), warnings::add);
    assertEquals(10, d.size());
    assertEquals(1, warnings.size(), warnings.toString());
    assertTrue(warnings.get(0).startsWith("skipped 2 files"), warnings.get(0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetLoader.load(root,
        DataSpec.defaults().withImages(ImageOptions.defaults().withStrict(true))));
    assertTrue(e.getMessage().contains("notes.txt") || e.getMessage().contains("fake.png"), e.getMessage());
  }

  @Test
  void anEmptyClassFolderKeepsItsLabelOrFailsWhenStrict() throws Exception {
    Path root = copyOfTwoClasses("empty-class");
    Files.createDirectories(root.resolve("00-empty"));
    List<String> warnings = new ArrayList<>();
    Dataset d = DatasetLoader.load(root, DataSpec.defaults(), warnings::add);
    assertEquals(1, warnings.size());
    assertTrue(warnings.get(0).contains("00-empty"), warnings.get(0));
    // sorted: "0", "00-empty", "1": the empty class keeps label 1, so folder "1" is label 2
    int[] labels = d.labels().orElseThrow();
    assertEquals(0, labels[0]);
    assertEquals(2, labels[labels.length - 1]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DatasetLoader.load(root,
        DataSpec.defaults().withImages(ImageOptions.defaults().withStrict(true))));
    assertTrue(e.getMessage().contains("00-empty") && e.getMessage().contains("no images"), e.getMessage());
  }

  @Test
  void aCorruptImageFailsNamingItsFileWhenItsBatchIsRead() throws Exception {
    Path root = copyOfTwoClasses("corrupt");
    Path victim = root.resolve("1").resolve(Files.list(root.resolve("1")).sorted().findFirst().orElseThrow()
        .getFileName());
    byte[] bytes = Files.readAllBytes(victim);
    Files.write(victim, java.util.Arrays.copyOf(bytes, 20)); // the PNG signature survives, the image does not
    Dataset d = DatasetLoader.load(root, DataSpec.defaults());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.batchInputs(all(d)));
    assertTrue(e.getMessage().startsWith("cannot decode image " + victim), e.getMessage());
  }

  @Test
  void anEmptyFolderIsAnError() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("nothing/a"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        DatasetLoader.load(root.getParent(), DataSpec.defaults()));
    assertTrue(e.getMessage().contains("holds no JPEG/PNG/BMP/GIF images"), e.getMessage());
  }
}

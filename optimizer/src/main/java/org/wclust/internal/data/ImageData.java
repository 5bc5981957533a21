package org.wclust.internal.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Encoded images as a streamed {@link Dataset}: a folder of class sub-folders (or of loose images,
 * unlabelled) or TFRecord files whose {@code tf.train.Example}s hold encoded images. Only the file
 * list or record index and the labels are held in memory; each batch is read and decoded by
 * TensorFlow ops when asked for ({@link EncodedImageStore}, {@link ImageDecoder}).
 *
 * <p>The example shape starts as {@code [H, W, C]}: H and W from {@code --image-size}, else the first
 * image's; C from the first image (3 for colour, 1 for grayscale; alpha dropped). Fitting the dataset
 * to a model ({@link Dataset#withExampleShape}) then resizes every image to the model's input size and
 * converts it to the model's channel count as it is decoded.
 */
final class ImageData {
  private ImageData() {}

  /** A folder of TFRecord shards, or of class folders of images. */
  static Dataset loadFolder(Path dir, DataSpec spec, Consumer<String> warnings) throws IOException {
    checkNotRegression(dir, spec);
    List<Path> shards;
    try (Stream<Path> entries = Files.list(dir)) {
      shards = entries.filter(p -> Files.isRegularFile(p) && DatasetLoader.isTfRecord(p)).sorted().toList();
    }
    if (!shards.isEmpty() && !ImageFolder.looksLikeImageFolder(dir)) {
      return loadRecords(shards, spec);
    }
    boolean labelled = spec.labelName().isPresent();
    ImageFolder.Listing listing = ImageFolder.list(dir, spec.images(), labelled, spec.labelsRequired(), warnings);
    return dataset(new ImageFolder.FileSource(dir, listing.files()), listing.labels(), spec);
  }

  /** TFRecord files of encoded images, indexed in one pass. */
  static Dataset loadRecords(List<Path> files, DataSpec spec) throws IOException {
    checkNotRegression(files.get(0), spec);
    ImageRecords.Index index = ImageRecords.index(files, spec.effectiveFeatures(), spec.featureLabelsRequired());
    return dataset(index.source(), index.labels(), spec);
  }

  private static void checkNotRegression(Path path, DataSpec spec) {
    if (spec.regression()) {
      throw new IllegalArgumentException(path + ": image data has class labels; regression targets need a .npz file");
    }
  }

  private static Dataset dataset(EncodedImageStore.Source source, int[] labels, DataSpec spec) throws IOException {
    ImageOptions options = spec.images().withScale(spec.scale());
    ImageDecoder decoder = new ImageDecoder(options);
    long[] first;
    try {
      first = decoder.shapeOf(source.bytes(0));
    } catch (ImageDecoder.BadImage e) {
      throw new IllegalArgumentException("cannot decode image " + source.name(0) + ": " + e.getMessage());
    }
    long channels = first[2] == 4 ? 3 : first[2] == 2 ? 1 : first[2];
    long[] shape = options.height() > 0
        ? new long[] {options.height(), options.width(), channels}
        : new long[] {first[0], first[1], channels};
    Dataset data = Dataset.streamed(source.size(), shape, new EncodedImageStore(source, decoder), labels);
    return spec.exampleShape().filter(s -> s.length == 3 && Arrays.stream(s).allMatch(v -> v > 0))
        .map(data::withExampleShape).orElse(data);
  }
}

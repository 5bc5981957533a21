package org.wclust.internal.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Inputs kept encoded on disk (image files, TFRecord records) and decoded by {@link ImageDecoder} when
 * a batch is read: memory holds one batch of pixels, not the dataset. Any {@code [H, W, C]} example
 * shape can be read (the images are resized and converted to C channels while decoding).
 */
final class EncodedImageStore implements ExampleStore {
  /** Where the encoded bytes of example i are. Thread-safe. */
  interface Source {
    int size();

    /** The encoded image of example i. */
    byte[] bytes(int i) throws IOException;

    /** Names example i in an error: its file, or its TFRecord file and record. */
    String name(int i);

    /** Examples {@code [from, to)}. */
    Source slice(int from, int to);

    /** e.g. "PNG/JPEG files". */
    String describe();
  }

  private final Source source;
  private final ImageDecoder decoder;

  EncodedImageStore(Source source, ImageDecoder decoder) {
    this.source = source;
    this.decoder = decoder;
  }

  Source source() {
    return source;
  }

  ImageOptions options() {
    return decoder.options();
  }

  @Override
  public float[] read(int[] indices, long[] exampleShape) {
    List<byte[]> images = new ArrayList<>(indices.length);
    for (int i : indices) {
      try {
        images.add(source.bytes(i));
      } catch (IOException e) {
        // Bad input like a corrupt image: one line naming the file (the CLI exits with status 2).
        throw new IllegalArgumentException("cannot read " + source.name(i) + ": " + e.getMessage(), e);
      }
    }
    try {
      return decoder.decode(images, (int) exampleShape[0], (int) exampleShape[1], (int) exampleShape[2]);
    } catch (ImageDecoder.BadImage e) {
      throw new IllegalArgumentException("cannot decode image " + source.name(indices[e.index]) + ": "
          + e.getMessage());
    }
  }

  @Override
  public void checkHolds(int size, long[] exampleShape) {
    if (size != source.size() || !resizes(exampleShape)) {
      throw new IllegalArgumentException("images read as " + java.util.Arrays.toString(exampleShape)
          + " (" + size + " examples) from " + source.size() + " images; expected [H, W, C]");
    }
  }

  @Override
  public ExampleStore slice(int from, int to, int exampleSize) {
    return new EncodedImageStore(source.slice(from, to), decoder);
  }

  @Override
  public boolean resizes(long[] shape) {
    return shape.length == 3 && shape[0] > 0 && shape[1] > 0 && (shape[2] == 1 || shape[2] == 3 || shape[2] == 4);
  }

  @Override
  public Optional<GraphInput> graphInput(long[] exampleShape) {
    if (!resizes(exampleShape)) {
      return Optional.empty();
    }
    if (source instanceof ImageFolder.FileSource files) {
      return Optional.of(new ImageFileInput(files, options(), exampleShape));
    }
    return ImageRecords.graphInput(source, options(), exampleShape);
  }

  @Override
  public String describe() {
    return source.describe() + " decoded by TensorFlow";
  }
}

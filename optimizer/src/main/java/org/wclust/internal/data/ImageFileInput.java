package org.wclust.internal.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;

/**
 * The image files of a dataset read inside a training graph instead of by this process: a batch is
 * given as the files' paths, and TensorFlow ops ({@code ReadFile}, then {@link ImageDecoder}'s decode,
 * resize and normalization) read and decode them on the device the graph places them on. With one
 * replica per worker of TensorFlow's distributed runtime, each worker reads its own slice of every
 * batch from the same path on its machine, and only the paths cross the network.
 *
 * <p>Only folders of image files qualify: TFRecords of encoded images and arrays stay read by the
 * process that trains (a worker could read one record with FixedLengthRecordDataset, header bytes =
 * its offset, footer bytes = the rest of the file, but that takes a dataset per example: not built).
 */
public final class ImageFileInput {
  private final ImageFolder.FileSource files;
  private final ImageOptions options;
  private final int height;
  private final int width;
  private final int channels;

  private ImageFileInput(ImageFolder.FileSource files, ImageOptions options, long[] shape) {
    this.files = files;
    this.options = options;
    this.height = Math.toIntExact(shape[0]);
    this.width = Math.toIntExact(shape[1]);
    this.channels = Math.toIntExact(shape[2]);
  }

  /** The image files of {@code data}, when its only input is a folder of images; else empty. */
  public static Optional<ImageFileInput> of(Dataset data) {
    if (data.namedInputs().isPresent() || data.exampleShape().length != 3
        || !(data.store() instanceof EncodedImageStore store)
        || !(store.source() instanceof ImageFolder.FileSource files)) {
      return Optional.empty();
    }
    return Optional.of(new ImageFileInput(files, store.options(), data.exampleShape()));
  }

  /** The absolute path of example {@code i}'s file, as this process sees it. */
  public String path(int i) {
    return files.root().resolve(files.files()[i]).toAbsolutePath().toString();
  }

  /**
   * Adds to {@code tf}'s graph (on its device) the ops that read and decode a batch of files: {@code
   * paths} holds {@code capacity} paths, of which the first {@code count} are the batch (the rest
   * padding, e.g. copies of the first, read and dropped). Returns float32 {@code [count, H, W, C]},
   * the values this process's own decoding gives for the same files.
   */
  public Operand<TFloat32> pixels(Ops tf, Operand<TString> paths, int capacity, Operand<TInt32> count) {
    List<Operand<TString>> encoded = new ArrayList<>();
    for (Operand<TString> path : tf.unstack(paths, (long) capacity).output()) {
      encoded.add(tf.io.readFile(path));
    }
    Operand<TFloat32> all = ImageDecoder.pixels(tf, options, encoded, height, width, channels);
    Operand<TInt32> size = tf.concat(List.of(tf.reshape(count, tf.constant(new int[] {1})),
        tf.constant(new int[] {-1, -1, -1})), tf.constant(0));
    return tf.slice(all, tf.constant(new int[] {0, 0, 0, 0}), size);
  }
}

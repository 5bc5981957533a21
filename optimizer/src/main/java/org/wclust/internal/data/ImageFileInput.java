package org.wclust.internal.data;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TString;

/**
 * The image files of a dataset read inside a training graph ({@link GraphInput}): a batch is given as
 * the files' paths, and TensorFlow ops ({@code ReadFile}, then {@link ImageDecoder}'s decode, resize and
 * normalization) read and decode them on the device the graph places them on.
 */
public final class ImageFileInput implements GraphInput {
  private final ImageFolder.FileSource files;
  private final ImageOptions options;
  private final int height;
  private final int width;
  private final int channels;

  ImageFileInput(ImageFolder.FileSource files, ImageOptions options, long[] shape) {
    this.files = files;
    this.options = options;
    this.height = Math.toIntExact(shape[0]);
    this.width = Math.toIntExact(shape[1]);
    this.channels = Math.toIntExact(shape[2]);
  }

  /** The absolute path of example {@code i}'s file, as this process sees it. */
  public String path(int i) {
    return files.root().resolve(files.files()[i]).toAbsolutePath().toString();
  }

  @Override
  public Reading add(Ops tf, int capacity) {
    Placeholder<TString> paths = tf.withName("paths").placeholder(TString.class,
        Placeholder.shape(Shape.of(capacity)));
    List<Operand<TString>> encoded = new ArrayList<>();
    for (Operand<TString> path : tf.unstack(paths, (long) capacity).output()) {
      encoded.add(tf.io.readFile(path));
    }
    return new Reading(List.of(paths), ImageDecoder.pixels(tf, options, encoded, height, width, channels));
  }

  @Override
  public List<Tensor> feeds(int[] examples) {
    String[] paths = new String[examples.length];
    for (int i = 0; i < paths.length; i++) {
      paths[i] = path(examples[i]);
    }
    return List.of(TString.tensorOf(NdArrays.vectorOfObjects(paths)));
  }
}

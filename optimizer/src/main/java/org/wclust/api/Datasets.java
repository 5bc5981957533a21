package org.wclust.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.wclust.internal.data.DataSpec;
import org.wclust.internal.data.ImageOptions;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.DatasetLoader;

/**
 * Reads {@link Examples} from files, as the CLI's {@code --data} does: {@code .npz} (arrays {@code x} and
 * optionally {@code y}), {@code .npy} (inputs only) or {@code .tfrecord} of {@code tf.train.Example}; or
 * wraps arrays in memory.
 *
 * <pre>{@code
 * Examples train = Datasets.npz(Path.of("train.npz"));
 * Examples images = Datasets.reader().scale(1 / 255.0).inputsOnly().read(Path.of("images.npy"));
 * Examples xor = Datasets.of(new long[] {2}, new float[] {0, 0, 0, 1, 1, 0, 1, 1}, new int[] {0, 1, 1, 0});
 * }</pre>
 */
public final class Datasets {
  private Datasets() {}

  /** An {@code .npz} with inputs {@code x} and, when present, integer labels {@code y}. */
  public static Examples npz(Path file) throws IOException {
    return reader().read(file);
  }

  /** Any supported file with the default reading (arrays or features {@code x}, {@code y}, scale 1). */
  public static Examples read(Path file) throws IOException {
    return reader().read(file);
  }

  /** A reader to set the scale, feature names, or labels handling before reading. */
  public static Reader reader() {
    return new Reader();
  }

  /**
   * Labelled examples in memory: {@code inputs} holds {@code labels.length} examples of shape
   * {@code exampleShape}, one after the other.
   */
  public static Examples of(long[] exampleShape, float[] inputs, int[] labels) {
    return new Examples(Dataset.of(exampleShape, inputs, labels));
  }

  /** Examples with float regression targets of shape {@code targetShape} each. */
  public static Examples withTargets(long[] exampleShape, float[] inputs, long[] targetShape, float[] targets) {
    return new Examples(Dataset.withTargets(exampleShape, inputs, targetShape, targets));
  }

  /** Inputs without labels (for distillation, calibration or output agreement). */
  public static Examples unlabeled(long[] exampleShape, float[] inputs) {
    return new Examples(Dataset.unlabeled(exampleShape, inputs));
  }

  /**
   * How a file is read; immutable, each setter returns a new reader.
   *
   * <pre>{@code
   * Examples tf = Datasets.reader().features("x:image,y:label").scale(1 / 255.0).read(Path.of("train.tfrecord"));
   * }</pre>
   */
  public static final class Reader {
    private final DataSpec spec;
    private final Consumer<String> warnings;

    private Reader() {
      this(DataSpec.defaults(), w -> {});
    }

    private Reader(DataSpec spec, Consumer<String> warnings) {
      this.spec = spec;
      this.warnings = warnings;
    }

      /** Multiply every input value by {@code s}, e.g. 1/255 for uint8 images. */
    public Reader scale(double s) {
      return with(spec.withScale(s));
    }

    /**
     * TFRecord feature names, {@code x:KEY[,y:KEY]}; for a model with several inputs one {@code NAME:KEY}
     * per model input ({@code .npz} arrays or TFRecord features), e.g. {@code pixels:image,ids:tokens,y:label}.
     */
    public Reader features(String spec) {
      return with(this.spec.withFeatures(spec));
    }

    /** The array of the inputs in an {@code .npz} (default {@code x}). */
    public Reader inputs(String array) {
      return with(spec.withInputs(array));
    }

    /** The array of the labels in an {@code .npz}, which must then be present (default: {@code y} if present). */
    public Reader labels(String array) {
      return with(spec.withLabels(array));
    }

    /** Ignore labels, even if the file has them. */
    public Reader inputsOnly() {
      return with(spec.withoutLabels());
    }

    /** Read {@code y} as float regression targets (for the {@code mse} loss) instead of labels. */
    public Reader regressionTargets() {
      return with(spec.withRegressionTargets());
    }

    /** Images of class folders or TFRecords are resized to {@code H,W} when the model's size is unknown. */
    public Reader imageSize(String heightWidth) {
      return with(spec.withImages(spec.images().withSize(heightWidth)));
    }

    /** How images are resized: {@code bilinear} (as {@code tf.image.resize}, default) or {@code area}. */
    public Reader resize(String method) {
      return with(spec.withImages(spec.images().withResize(ImageOptions.Resize.parse(method))));
    }

    /** Images are normalized after the scale: minus {@code mean}, divided by {@code std} ({@code V[,V...]} or null). */
    public Reader normalize(String mean, String std) {
      return with(spec.withImages(spec.images().withNormalization(mean, std)));
    }

    /** Image class folders in label order (default: sorted folder names). */
    public Reader classNames(List<String> names) {
      return with(spec.withImages(spec.images().withClassNames(names)));
    }

    /** Unreadable image files and empty class folders fail the read instead of being skipped with a count. */
    public Reader strict(boolean strict) {
      return with(spec.withImages(spec.images().withStrict(strict)));
    }

    /** Shuffle training examples through a buffer of {@code n}, as {@code tf.data}'s shuffle (0: all at once). */
    public Reader shuffleBuffer(int n) {
      return with(spec.withShuffleBuffer(n));
    }

    /** Where warnings go (e.g. how many files were skipped); default: nowhere. */
    public Reader warnings(Consumer<String> sink) {
      return new Reader(spec, sink);
    }

    private Reader with(DataSpec newSpec) {
      return new Reader(newSpec, warnings);
    }

    /**
     * Reads {@code file} ({@code .npz}, {@code .npy} or {@code .tfrecord}, or a folder of class folders of
     * images or of TFRecord shards; images are streamed batch by batch); the message of a failure names it.
     */
    public Examples read(Path file) throws IOException {
      return new Examples(DatasetLoader.load(file, spec, warnings));
    }
  }
}

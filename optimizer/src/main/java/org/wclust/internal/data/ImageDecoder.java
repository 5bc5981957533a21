package org.wclust.internal.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.DecodeImage;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * Decodes encoded images (JPEG, PNG, BMP, GIF: TensorFlow's {@code DecodeImage}) to float32 pixels
 * with TensorFlow ops: each image is decoded to C channels (grayscale and colour converted as
 * {@code DecodeImage} does), resized to H x W ({@code ResizeBilinear} with half-pixel centres, as
 * {@code tf.image.resize}, or {@code ResizeArea}), then transformed as {@code (pixel * scale - mean) /
 * std}. A graph per output shape and run size decodes up to {@value #CHUNK} images per session run;
 * the graphs are kept (a few at most) and closed with the decoder.
 *
 * <p>Thread-safe: runs are serialized.
 */
final class ImageDecoder implements AutoCloseable {
  private static final int MAX_GRAPHS = 8;
  /**
   * Images per session run: the graph holds one decode-resize branch per image, so its size (and the
   * time to build and optimize it) grows with this; a batch is decoded in runs of this many.
   */
  private static final int CHUNK = 32;

  private final ImageOptions options;
  private final Map<String, Compiled> graphs = new LinkedHashMap<>(16, 0.75f, true);

  ImageDecoder(ImageOptions options) {
    this.options = options;
  }

  ImageOptions options() {
    return options;
  }

  /** Thrown when one image of a batch cannot be decoded; {@link #index} says which. */
  static final class BadImage extends RuntimeException {
    final int index;

    BadImage(int index, String message) {
      super(message);
      this.index = index;
    }
  }

  /**
   * The images decoded and resized to {@code [h, w, c]} each, row-major.
   *
   * @throws BadImage naming the first image that TensorFlow cannot decode
   */
  synchronized float[] decode(List<byte[]> images, int h, int w, int c) {
    int size = h * w * c;
    float[] out = new float[images.size() * size];
    for (int from = 0; from < images.size(); from += CHUNK) {
      List<byte[]> chunk = images.subList(from, Math.min(images.size(), from + CHUNK));
      float[] values = decodeChunk(chunk, h, w, c, from);
      System.arraycopy(values, 0, out, from * size, chunk.size() * size);
    }
    return out;
  }

  /**
   * One session run; a short chunk is padded with copies of its first image to the next power of two,
   * so that at most log2(CHUNK) + 1 graphs serve all batch sizes.
   */
  private float[] decodeChunk(List<byte[]> chunk, int h, int w, int c, int offset) {
    try {
      return run(padded(chunk), h, w, c);
    } catch (TensorFlowException | IllegalArgumentException e) {
      // (TF Java reports INVALID_ARGUMENT, e.g. a corrupt PNG, as an IllegalArgumentException.)
      // Find the culprit so that the error can name its file or record.
      for (int i = 0; i < chunk.size(); i++) {
        try {
          run(padded(List.of(chunk.get(i))), h, w, c);
        } catch (TensorFlowException | IllegalArgumentException one) {
          throw new BadImage(offset + i, firstLine(one.getMessage()));
        }
      }
      throw new BadImage(offset, firstLine(e.getMessage()));
    }
  }

  private static byte[][] padded(List<byte[]> chunk) {
    byte[][] out = new byte[Integer.highestOneBit(chunk.size() * 2 - 1)][];
    for (int i = 0; i < out.length; i++) {
      out[i] = chunk.get(i < chunk.size() ? i : 0);
    }
    return out;
  }

  /** The natural {@code [height, width, channels]} of one image, by decoding it. */
  synchronized long[] shapeOf(byte[] image) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TString> in = tf.placeholder(TString.class, Placeholder.shape(Shape.scalar()));
      DecodeImage<TUint8> decoded = tf.image.decodeImage(in, TUint8.class, DecodeImage.expandAnimations(false));
      try (TString t = TString.tensorOfBytes(NdArrays.scalarOfObject(image));
          Result r = s.runner().feed(in, t).fetch(tf.shape(decoded)).run()) {
        TInt32 shape = (TInt32) r.get(0);
        return new long[] {shape.getInt(0), shape.getInt(1), shape.getInt(2)};
      } catch (TensorFlowException | IllegalArgumentException e) {
        throw new BadImage(0, firstLine(e.getMessage()));
      }
    }
  }

  private float[] run(byte[][] images, int h, int w, int c) {
    Compiled compiled = compiled(images.length, h, w, c);
    try (TString in = TString.tensorOfBytes(NdArrays.vectorOfObjects(images));
        Result r = compiled.session.runner().feed(compiled.input, in).fetch(compiled.output).run()) {
      TFloat32 out = (TFloat32) r.get(0);
      float[] values = new float[(int) out.size()];
      out.asRawTensor().data().asFloats().read(values);
      return values;
    }
  }

  private Compiled compiled(int batch, int h, int w, int c) {
    String key = batch + "x" + h + "x" + w + "x" + c;
    Compiled compiled = graphs.get(key);
    if (compiled == null) {
      compiled = build(batch, h, w, c);
      graphs.put(key, compiled);
      if (graphs.size() > MAX_GRAPHS) {
        var eldest = graphs.entrySet().iterator().next();
        eldest.getValue().close();
        graphs.remove(eldest.getKey());
      }
    }
    return compiled;
  }

  private Compiled build(int batch, int h, int w, int c) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Placeholder<TString> input = tf.placeholder(TString.class, Placeholder.shape(Shape.of(batch)));
    Operand<TFloat32> x = pixels(tf, options, tf.unstack(input, (long) batch).output(), h, w, c);
    return new Compiled(g, new Session(g), input, x);
  }

  /**
   * The ops that turn encoded images (scalar strings) into one float32 batch {@code [n, h, w, c]}:
   * decode, resize, then scale, mean and std of {@code options}. Built into {@code tf}'s graph, with its
   * device: this decoder's own graphs, and the replicas of distributed training that read images on
   * their worker ({@link ImageFileInput}).
   */
  static Operand<TFloat32> pixels(Ops tf, ImageOptions options, List<? extends Operand<TString>> images, int h,
      int w, int c) {
    Operand<TInt32> size = tf.constant(new int[] {h, w});
    List<Operand<TFloat32>> pixels = new ArrayList<>();
    for (Operand<TString> image : images) {
      DecodeImage<TUint8> decoded = tf.image.decodeImage(image, TUint8.class, DecodeImage.channels((long) c),
          DecodeImage.expandAnimations(false));
      Operand<TFloat32> batched = tf.expandDims(tf.dtypes.cast(decoded, TFloat32.class), tf.constant(0));
      pixels.add(options.resize() == ImageOptions.Resize.AREA
          ? tf.image.resizeArea(batched, size)
          : tf.image.resizeBilinear(batched, size, ResizeBilinear.halfPixelCenters(true)));
    }
    Operand<TFloat32> x = pixels.size() == 1 ? pixels.get(0) : tf.concat(pixels, tf.constant(0));
    if (options.scale() != 1.0) {
      x = tf.math.mul(x, tf.constant((float) options.scale()));
    }
    if (options.mean().length > 0) {
      x = tf.math.sub(x, tf.constant(options.channelValues(options.mean(), c)));
    }
    if (options.std().length > 0) {
      x = tf.math.div(x, tf.constant(options.channelValues(options.std(), c)));
    }
    return x;
  }

  @Override
  public synchronized void close() {
    graphs.values().forEach(Compiled::close);
    graphs.clear();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "not a decodable image";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  private record Compiled(Graph graph, Session session, Placeholder<TString> input, Operand<TFloat32> output) {
    void close() {
      session.close();
      graph.close();
    }
  }
}

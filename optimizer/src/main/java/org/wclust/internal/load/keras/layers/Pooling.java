package org.wclust.internal.load.keras.layers;

import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Max;
import org.tensorflow.op.core.Squeeze;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.load.ModelLoadException;

/** Max/average pooling (1-D as 2-D over a height-1 image, as TensorFlow does) and global pooling. */
public final class Pooling {
  private Pooling() {}

  static void register(Map<String, LayerBuilder> registry) {
    registry.put("MaxPooling2D", (ctx, in) -> pool2d(ctx, ctx.float32(in.get(0)), true));
    registry.put("AveragePooling2D", (ctx, in) -> pool2d(ctx, ctx.float32(in.get(0)), false));
    registry.put("MaxPooling1D", (ctx, in) -> pool1d(ctx, ctx.float32(in.get(0)), true));
    registry.put("AveragePooling1D", (ctx, in) -> pool1d(ctx, ctx.float32(in.get(0)), false));
    registry.put("GlobalAveragePooling2D", (ctx, in) -> global(ctx, ctx.float32(in.get(0)), new int[] {1, 2}, false));
    registry.put("GlobalAveragePooling1D", (ctx, in) -> global(ctx, ctx.float32(in.get(0)), new int[] {1}, false));
    registry.put("GlobalMaxPooling2D", (ctx, in) -> global(ctx, ctx.float32(in.get(0)), new int[] {1, 2}, true));
  }

  private static Operand<TFloat32> pool(LayerContext ctx, Operand<TFloat32> x, long[] size, long[] strides,
      boolean max) throws ModelLoadException {
    Ops tf = ctx.tf();
    List<Long> k = LayerContext.list(1, size[0], size[1], 1);
    List<Long> s = LayerContext.list(1, strides[0], strides[1], 1);
    if (max) {
      // MaxPool with attributes: TF Java's maxPool is MaxPoolV2, which the TFLite converter rejects
      org.tensorflow.op.Scope scope = tf.scope();
      org.tensorflow.Operation op = scope.opBuilder("MaxPool", "MaxPool")
          .addInput(x.asOutput())
          .setAttr("ksize", new long[] {1, size[0], size[1], 1})
          .setAttr("strides", new long[] {1, strides[0], strides[1], 1})
          .setAttr("padding", ctx.padding())
          .build();
      return op.output(0);
    }
    return tf.nn.avgPool(x, k, s, ctx.padding());
  }

  private static Operand<?> pool2d(LayerContext ctx, Operand<TFloat32> x, boolean max) throws ModelLoadException {
    ctx.requireChannelsLast();
    long[] size = ctx.ints("pool_size", 2, 2);
    long[] strides = ctx.has("strides") ? ctx.ints("strides", 2, 1) : size;
    return pool(ctx, x, size, strides, max);
  }

  private static Operand<?> pool1d(LayerContext ctx, Operand<TFloat32> x, boolean max) throws ModelLoadException {
    ctx.requireChannelsLast();
    Ops tf = ctx.tf();
    long size = ctx.ints("pool_size", 1, 2)[0];
    long stride = ctx.has("strides") ? ctx.ints("strides", 1, 1)[0] : size;
    Operand<TFloat32> y = pool(ctx, tf.expandDims(x, tf.constant(1)), new long[] {1, size},
        new long[] {1, stride}, max);
    return tf.squeeze(y, Squeeze.axis(List.of(1L)));
  }

  private static Operand<?> global(LayerContext ctx, Operand<TFloat32> x, int[] axes, boolean max)
      throws ModelLoadException {
    ctx.requireChannelsLast();
    Ops tf = ctx.tf();
    boolean keepDims = ctx.bool("keepdims", false);
    return max
        ? tf.max(x, tf.constant(axes), Max.keepDims(keepDims))
        : tf.math.mean(x, tf.constant(axes), Mean.keepDims(keepDims));
  }
}

package org.wclust.internal.load.keras.layers;

import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.internal.load.ModelLoadException;

/** Dense, Embedding, Rescaling, Dropout and SpatialDropout2D. */
public final class Core {
  private Core() {}

  static void register(Map<String, LayerBuilder> registry) {
    registry.put("Dense", Core::dense);
    registry.put("Embedding", Core::embedding);
    registry.put("Rescaling", (ctx, in) -> {
      Ops tf = ctx.tf();
      if (!ctx.config().get("scale").isJsonPrimitive() || !ctx.config().get("offset").isJsonPrimitive()) {
        throw ctx.error("only a scalar scale and offset are supported");
      }
      return tf.math.add(tf.math.mul(ctx.float32(in.get(0)), tf.constant((float) ctx.number("scale", 1))),
          tf.constant((float) ctx.number("offset", 0)));
    });
    registry.put("Dropout", (ctx, in) -> dropout(ctx, ctx.float32(in.get(0)), false));
    registry.put("SpatialDropout2D", (ctx, in) -> {
      ctx.requireChannelsLast();
      return dropout(ctx, ctx.float32(in.get(0)), true);
    });
  }

  /** x · kernel + bias; inputs of rank > 2 are flattened to 2-D around the MatMul (as tensordot). */
  private static Operand<?> dense(LayerContext ctx, java.util.List<Operand<?>> in) throws ModelLoadException {
    Ops tf = ctx.tf();
    Operand<TFloat32> x = ctx.float32(in.get(0));
    Operand<TFloat32> kernel = ctx.next("kernel");
    long[] dims = ctx.dims(x);
    long units = kernel.shape().get(1);
    Operand<TFloat32> y;
    if (dims.length == 2) {
      y = tf.linalg.matMul(x, kernel);
    } else {
      Operand<TFloat32> flat = tf.reshape(x, tf.constant(new long[] {-1, dims[dims.length - 1]}));
      Operand<TFloat32> product = tf.linalg.matMul(flat, kernel);
      Operand<TInt32> outer = tf.stridedSlice(tf.shape(x), tf.constant(new int[] {0}),
          tf.constant(new int[] {-1}), tf.constant(new int[] {1}));
      y = tf.reshape(product, tf.concat(java.util.List.of(outer, tf.constant(new int[] {(int) units})),
          tf.constant(0)));
    }
    if (ctx.bool("use_bias", true)) {
      y = tf.nn.biasAdd(y, ctx.next("bias"));
    }
    return Activations.activation(ctx, y);
  }

  private static Operand<?> embedding(LayerContext ctx, java.util.List<Operand<?>> in) throws ModelLoadException {
    Ops tf = ctx.tf();
    Operand<?> ids = in.get(0);
    Operand<TInt32> indices = ids.type() == TInt32.class ? castInt(ids) : tf.dtypes.cast(ids, TInt32.class);
    if (ctx.bool("mask_zero", false)) {
      throw ctx.error("mask_zero=True is not supported");
    }
    return tf.gather(ctx.next("embeddings"), indices, tf.constant(0));
  }

  @SuppressWarnings("unchecked")
  private static Operand<TInt32> castInt(Operand<?> x) {
    return (Operand<TInt32>) x;
  }

  /**
   * Inference: the identity. Training: Keras' inverted dropout, {@code x · mask / (1 - rate)} with a
   * uniform random mask kept where {@code u >= rate}; SpatialDropout2D draws one value per sample
   * and channel ({@code noise_shape = [N, 1, 1, C]}).
   */
  private static Operand<TFloat32> dropout(LayerContext ctx, Operand<TFloat32> x, boolean spatial)
      throws ModelLoadException {
    double rate = ctx.number("rate", 0.5);
    if (!ctx.training() || rate == 0) {
      return x;
    }
    if (ctx.has("noise_shape")) {
      throw ctx.error("noise_shape is not supported");
    }
    Ops tf = ctx.tf();
    Operand<TInt32> shape = tf.shape(x);
    if (spatial) {
      Operand<TInt32> batch = tf.stridedSlice(shape, tf.constant(new int[] {0}), tf.constant(new int[] {1}),
          tf.constant(new int[] {1}));
      Operand<TInt32> channels = tf.stridedSlice(shape, tf.constant(new int[] {-1}), tf.constant(new int[] {0}),
          tf.constant(new int[] {1}), org.tensorflow.op.core.StridedSlice.endMask(1L));
      shape = tf.concat(java.util.List.of(batch, tf.constant(new int[] {1, 1}), channels), tf.constant(0));
    }
    Operand<TFloat32> u = tf.random.randomUniform(shape, TFloat32.class,
        org.tensorflow.op.random.RandomUniform.seed(1L), org.tensorflow.op.random.RandomUniform.seed2(ctx.nextSeed()));
    Operand<TFloat32> keep = tf.dtypes.cast(tf.math.greaterEqual(u, tf.constant((float) rate)), TFloat32.class);
    return tf.math.mul(tf.math.mul(x, keep), tf.constant((float) (1.0 / (1.0 - rate))));
  }
}

package org.wclust.internal.load.keras.layers;

import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.load.ModelLoadException;

/**
 * EinsumDense and MultiHeadAttention, as Keras 3 computes them: each projection is an {@code Einsum}
 * of the input and the kernel read (so the kernel is clusterable by its Einsum operand), then the
 * bias; attention is {@code softmax(q · k / sqrt(key_dim)) · v} over the sequence axis.
 */
public final class Attention {
  private Attention() {}

  static void register(Map<String, LayerBuilder> registry) {
    registry.put("EinsumDense", Attention::einsumDense);
    registry.put("MultiHeadAttention", Attention::multiHeadAttention);
  }

  private static Operand<?> einsumDense(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    String biasAxes = ctx.has("bias_axes") ? ctx.string("bias_axes", "") : "";
    Operand<TFloat32> y = project(ctx, ctx.float32(in.get(0)), ctx.string("equation", ""), !biasAxes.isEmpty(), "");
    return Activations.activation(ctx, y);
  }

  /**
   * {@code einsum(equation, x, kernel) + bias}: the bias ({@code bias_axes}) has the shape of the
   * output's trailing axes it names, so it broadcasts when those are the last axes, as Keras checks.
   */
  private static Operand<TFloat32> project(LayerContext ctx, Operand<TFloat32> x, String equation, boolean bias,
      String prefix) throws ModelLoadException {
    if (!equation.matches("[a-z.]+,[a-z]+->[a-z.]+")) {
      throw ctx.error("einsum equation '" + equation + "' is not supported (two operands, explicit output)");
    }
    Ops tf = ctx.tf();
    Operand<TFloat32> kernel = ctx.next(prefix + "kernel");
    Operand<TFloat32> y = tf.linalg.einsum(List.of(x, kernel), equation);
    if (bias) {
      y = tf.math.add(y, ctx.next(prefix + "bias"));
    }
    return y;
  }

  /**
   * Keras 3's MultiHeadAttention over rank-3 inputs with {@code attention_axes} [1] (the default):
   * query, value and an optional key given positionally; no masks, gates or attention-score outputs.
   */
  private static Operand<?> multiHeadAttention(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    if (in.size() < 2 || in.size() > 3) {
      throw ctx.error("takes query, value and an optional key, got " + in.size() + " inputs");
    }
    if (ctx.bool("use_gate", false)) {
      throw ctx.error("use_gate=True is not supported");
    }
    if (ctx.training() && ctx.number("dropout", 0) > 0) {
      throw ctx.error("training with attention dropout is not supported");
    }
    if (ctx.has("output_shape")) {
      throw ctx.error("a custom output_shape is not supported");
    }
    if (ctx.has("attention_axes")) {
      var axes = ctx.config().get("attention_axes");
      boolean defaultAxes = axes.isJsonPrimitive() ? axes.getAsInt() == 1
          : axes.getAsJsonArray().size() == 1 && axes.getAsJsonArray().get(0).getAsInt() == 1;
      if (!defaultAxes) {
        throw ctx.error("attention_axes " + axes + " is not supported ([1] is)");
      }
    }
    Ops tf = ctx.tf();
    Operand<TFloat32> query = ctx.float32(in.get(0));
    Operand<TFloat32> value = ctx.float32(in.get(1));
    Operand<TFloat32> key = in.size() == 3 ? ctx.float32(in.get(2)) : value;
    if (ctx.dims(query).length != 3 || ctx.dims(value).length != 3) {
      throw ctx.error("only rank-3 inputs (batch, sequence, features) are supported");
    }
    boolean bias = ctx.bool("use_bias", true);
    long keyDim = ctx.integer("key_dim", 0);
    // [B, T, N, H]: query, key and value projected per head
    Operand<TFloat32> q = project(ctx, query, "abc,cde->abde", bias, "query/");
    Operand<TFloat32> k = project(ctx, key, "abc,cde->abde", bias, "key/");
    Operand<TFloat32> v = project(ctx, value, "abc,cde->abde", bias, "value/");
    q = tf.math.mul(q, tf.constant((float) (1.0 / Math.sqrt(keyDim))));
    Operand<TFloat32> scores = tf.nn.softmax(tf.linalg.einsum(List.of(k, q), "aecd,abcd->acbe"));
    Operand<TFloat32> context = tf.linalg.einsum(List.of(scores, v), "acbe,aecd->abcd");
    return project(ctx, context, "abcd,cde->abe", bias, "attention_output/");
  }
}

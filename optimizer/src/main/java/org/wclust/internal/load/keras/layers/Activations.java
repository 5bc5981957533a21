package org.wclust.internal.load.keras.layers;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.nn.LeakyRelu;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.load.ModelLoadException;

/**
 * Activation functions, written as Keras 3's TensorFlow backend computes them (same ops, same
 * order), and the activation layers: Activation, ReLU, LeakyReLU, PReLU, Softmax.
 */
public final class Activations {
  static {
    registerErfcGradient();
  }

  private Activations() {}

  /**
   * TensorFlow has no C++ gradient for Erfc (exact GELU uses it); d erfc(x)/dx = -2/sqrt(pi) exp(-x^2).
   * Registered once per process, so training-mode graphs with GELU can be differentiated.
   */
  @SuppressWarnings("unchecked")
  private static void registerErfcGradient() {
    try {
      org.tensorflow.TensorFlow.registerCustomGradient("Erfc", (tf, op, gradients) -> {
        Operand<TFloat32> x = (Operand<TFloat32>) op.input(0);
        Operand<TFloat32> dy = (Operand<TFloat32>) gradients.get(0);
        Operand<TFloat32> slope = tf.math.mul(tf.constant((float) (-2 / Math.sqrt(Math.PI))),
            tf.math.exp(tf.math.neg(tf.math.square(x))));
        return java.util.List.of(tf.math.mul(dy, slope));
      });
    } catch (RuntimeException alreadyRegistered) {
      // a gradient for Erfc exists already (registered by TensorFlow or another caller)
    }
  }

  static void register(Map<String, LayerBuilder> registry) {
    registry.put("Activation", (ctx, in) -> apply(ctx, activationName(ctx, "activation"), ctx.float32(in.get(0))));
    registry.put("ReLU", (ctx, in) -> relu(ctx, ctx.float32(in.get(0))));
    registry.put("LeakyReLU", (ctx, in) -> {
      double slope = ctx.has("negative_slope") ? ctx.number("negative_slope", 0.3) : ctx.number("alpha", 0.3);
      return ctx.tf().nn.leakyRelu(ctx.float32(in.get(0)), LeakyRelu.alpha((float) slope));
    });
    registry.put("PReLU", (ctx, in) -> {
      Ops tf = ctx.tf();
      Operand<TFloat32> x = ctx.float32(in.get(0));
      Operand<TFloat32> alpha = ctx.next("alpha");
      Operand<TFloat32> pos = tf.nn.relu(x);
      Operand<TFloat32> neg = tf.math.mul(tf.math.neg(alpha), tf.nn.relu(tf.math.neg(x)));
      return tf.math.add(pos, neg);
    });
    registry.put("Softmax", (ctx, in) -> {
      Operand<TFloat32> x = ctx.float32(in.get(0));
      JsonElement axis = ctx.config().get("axis");
      int rank = ctx.dims(x).length;
      if (axis != null && !axis.isJsonNull()) {
        int a = axis.isJsonArray() && axis.getAsJsonArray().size() == 1
            ? axis.getAsJsonArray().get(0).getAsInt()
            : axis.isJsonPrimitive() ? axis.getAsInt() : Integer.MIN_VALUE;
        if (a != -1 && a != rank - 1) {
          throw ctx.error("softmax over axis " + axis + " is not supported (the last axis is)");
        }
      }
      return ctx.tf().nn.softmax(x);
    });
  }

  /** The activation named by a config entry: a string, or a serialized function object. */
  static String activationName(LayerContext ctx, String key) throws ModelLoadException {
    return activationName(ctx, ctx.config(), key);
  }

  /** The activation named by an entry of {@code config} (e.g. the inner layer of a Bidirectional). */
  static String activationName(LayerContext ctx, JsonObject config, String key) throws ModelLoadException {
    if (!config.has(key) || config.get(key).isJsonNull()) {
      return "linear";
    }
    JsonElement e = config.get(key);
    if (e.isJsonPrimitive()) {
      return e.getAsString();
    }
    if (e.isJsonObject()) {
      JsonObject o = e.getAsJsonObject();
      if (o.has("config") && o.get("config").isJsonPrimitive()) {
        return o.get("config").getAsString();
      }
      if (o.has("class_name")) {
        return o.get("class_name").getAsString();
      }
    }
    throw ctx.error("cannot read its activation " + e);
  }

  /** Applies the layer's {@code activation} config entry (Dense, Conv...). */
  static Operand<TFloat32> activation(LayerContext ctx, Operand<TFloat32> x) throws ModelLoadException {
    return apply(ctx, activationName(ctx, "activation"), x);
  }

  static Operand<TFloat32> apply(LayerContext ctx, String name, Operand<TFloat32> x) throws ModelLoadException {
    Ops tf = ctx.tf();
    switch (name) {
      case "linear":
        return x;
      case "relu":
        return tf.nn.relu(x);
      case "relu6":
        return tf.nn.relu6(x);
      case "sigmoid":
        return tf.math.sigmoid(x);
      case "hard_sigmoid":
        return tf.math.div(tf.nn.relu6(tf.math.add(x, tf.constant(3f))), tf.constant(6f));
      case "tanh":
        return tf.math.tanh(x);
      case "softmax":
        return tf.nn.softmax(x);
      case "swish":
      case "silu":
        return tf.math.mul(x, tf.math.sigmoid(x));
      case "gelu":
        // exact GELU, as tf.nn.gelu(approximate=False): 0.5 x erfc(-x / sqrt(2))
        return tf.math.mul(tf.math.mul(tf.constant(0.5f), x),
            tf.math.erfc(tf.math.mul(tf.math.neg(x), tf.constant(0.7071067811865476f))));
      case "elu":
        return tf.nn.elu(x);
      default:
        throw ctx.error("activation '" + name + "' is not supported (linear, relu, relu6, sigmoid, "
            + "hard_sigmoid, tanh, softmax, swish/silu, gelu, elu are)");
    }
  }

  /** keras.activations.relu(x, negative_slope, max_value, threshold), step by step as Keras does it. */
  private static Operand<TFloat32> relu(LayerContext ctx, Operand<TFloat32> x) {
    Ops tf = ctx.tf();
    double slope = ctx.number("negative_slope", 0.0);
    Double maxValue = ctx.has("max_value") ? ctx.number("max_value", 0) : null;
    double threshold = ctx.number("threshold", 0.0);
    Operand<TFloat32> negativePart = null;
    if (slope != 0.0) {
      if (maxValue == null && threshold == 0) {
        return tf.nn.leakyRelu(x, LeakyRelu.alpha((float) slope));
      }
      negativePart = threshold != 0
          ? tf.nn.relu(tf.math.add(tf.math.neg(x), tf.constant((float) threshold)))
          : tf.nn.relu(tf.math.neg(x));
    }
    boolean clipMax = maxValue != null;
    Operand<TFloat32> y;
    if (threshold != 0) {
      y = tf.select(tf.math.greater(x, tf.constant((float) threshold)), x, tf.zerosLike(x));
    } else if (maxValue != null && maxValue == 6.0) {
      y = tf.nn.relu6(x);
      clipMax = false;
    } else {
      y = tf.nn.relu(x);
    }
    if (clipMax) {
      // tf.clip_by_value is Minimum then Maximum (the ClipByValue op has no TFLite kernel)
      y = tf.math.maximum(tf.math.minimum(y, tf.constant(maxValue.floatValue())), tf.constant(0f));
    }
    if (negativePart != null) {
      y = tf.math.sub(y, tf.math.mul(tf.constant((float) slope), negativePart));
    }
    return y;
  }
}

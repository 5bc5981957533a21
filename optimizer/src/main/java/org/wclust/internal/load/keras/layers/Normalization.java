package org.wclust.internal.load.keras.layers;

import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.load.ModelLoadException;

/** BatchNormalization and LayerNormalization over the last axis. */
public final class Normalization {
  private Normalization() {}

  static void register(Map<String, LayerBuilder> registry) {
    registry.put("BatchNormalization", Normalization::batchNorm);
    registry.put("LayerNormalization", Normalization::layerNorm);
  }

  /**
   * Inference: the moving statistics, computed as {@code tf.nn.batch_normalization} does
   * ({@code inv = rsqrt(var + eps) · gamma; x · inv + (beta - mean · inv)}), which is the
   * Mul/Add pattern the BatchNorm folder recognises. Training: the batch's mean and (biased)
   * variance over all axes but the last, and update ops moving the statistics towards them with
   * {@code momentum}, as Keras does; the normalised input depends on them (control dependencies).
   * With frozen BatchNorm (a training graph for a model whose BN is folded), the inference form.
   */
  private static Operand<?> batchNorm(LayerContext ctx, java.util.List<Operand<?>> in) throws ModelLoadException {
    Ops tf = ctx.tf();
    Operand<TFloat32> x = ctx.float32(in.get(0));
    int rank = ctx.dims(x).length;
    com.google.gson.JsonElement axisJson = ctx.config().get("axis");
    int axis = axisJson == null ? -1
        : axisJson.isJsonArray() ? axisJson.getAsJsonArray().get(0).getAsInt() : axisJson.getAsInt();
    if (axis != -1 && axis != rank - 1) {
      throw ctx.error("normalising axis " + axis + " is not supported (the last axis is)");
    }
    if (ctx.bool("renorm", false) || ctx.has("virtual_batch_size")) {
      throw ctx.error("renorm and virtual_batch_size are not supported");
    }
    float epsilon = (float) ctx.number("epsilon", 1e-3);
    Operand<TFloat32> gamma = ctx.bool("scale", true) ? ctx.next("gamma") : null;
    Operand<TFloat32> beta = ctx.bool("center", true) ? ctx.next("beta") : null;
    LayerContext.Weight movingMean = ctx.nextWeight("moving_mean");
    LayerContext.Weight movingVariance = ctx.nextWeight("moving_variance");
    Operand<TFloat32> mean = movingMean.value();
    Operand<TFloat32> variance = movingVariance.value();
    if (ctx.batchNormTraining()) {
      int[] axes = new int[rank - 1];
      for (int i = 0; i < axes.length; i++) {
        axes[i] = i;
      }
      Operand<TFloat32> batchMean = tf.math.mean(x, tf.constant(axes), Mean.keepDims(false));
      Operand<TFloat32> batchVariance = tf.math.mean(
          tf.math.squaredDifference(x, tf.stopGradient(batchMean)), tf.constant(axes), Mean.keepDims(false));
      float momentum = (float) ctx.number("momentum", 0.99);
      org.tensorflow.op.Op meanUpdate = tf.assignVariableOp(movingMean.handle(), tf.math.add(
          tf.math.mul(mean, tf.constant(momentum)), tf.math.mul(batchMean, tf.constant(1f - momentum))));
      org.tensorflow.op.Op varianceUpdate = tf.assignVariableOp(movingVariance.handle(), tf.math.add(
          tf.math.mul(variance, tf.constant(momentum)), tf.math.mul(batchVariance, tf.constant(1f - momentum))));
      ctx.addUpdate(meanUpdate);
      ctx.addUpdate(varianceUpdate);
      // the output waits for the updates, so every training step that computes it also moves the
      // statistics (as Keras' fit does), without the trainer knowing about update ops
      x = tf.withControlDependencies(java.util.List.of(meanUpdate, varianceUpdate)).identity(x);
      mean = batchMean;
      variance = batchVariance;
    }
    Operand<TFloat32> inv = tf.math.rsqrt(tf.math.add(variance, tf.constant(epsilon)));
    if (gamma != null) {
      inv = tf.math.mul(inv, gamma);
    }
    Operand<TFloat32> shift = beta != null
        ? tf.math.sub(beta, tf.math.mul(mean, inv))
        : tf.math.neg(tf.math.mul(mean, inv));
    return tf.math.add(tf.math.mul(x, inv), shift);
  }

  /**
   * Keras 3's {@code ops.layer_normalization} over the last axis: the mean and (biased) variance of
   * each example's features, {@code inv = rsqrt(var + eps) · gamma; x · inv + (beta - mean · inv)}.
   * The same in training (LayerNormalization has no moving statistics).
   */
  private static Operand<?> layerNorm(LayerContext ctx, java.util.List<Operand<?>> in) throws ModelLoadException {
    Ops tf = ctx.tf();
    Operand<TFloat32> x = ctx.float32(in.get(0));
    int rank = ctx.dims(x).length;
    com.google.gson.JsonElement axisJson = ctx.config().get("axis");
    int axis = axisJson == null ? -1
        : axisJson.isJsonArray() && axisJson.getAsJsonArray().size() == 1 ? axisJson.getAsJsonArray().get(0).getAsInt()
        : axisJson.isJsonPrimitive() ? axisJson.getAsInt() : Integer.MIN_VALUE;
    if (axis != -1 && axis != rank - 1) {
      throw ctx.error("normalising axis " + axisJson + " is not supported (the last axis is)");
    }
    if (ctx.bool("rms_scaling", false)) {
      throw ctx.error("rms_scaling=True is not supported");
    }
    float epsilon = (float) ctx.number("epsilon", 1e-3);
    Operand<TFloat32> gamma = ctx.bool("scale", true) ? ctx.next("gamma") : null;
    Operand<TFloat32> beta = ctx.bool("center", true) ? ctx.next("beta") : null;
    Operand<org.tensorflow.types.TInt32> last = tf.constant(new int[] {rank - 1});
    Operand<TFloat32> mean = tf.math.mean(x, last, Mean.keepDims(true));
    Operand<TFloat32> variance = tf.math.mean(tf.math.squaredDifference(x, tf.stopGradient(mean)), last,
        Mean.keepDims(true));
    Operand<TFloat32> inv = tf.math.rsqrt(tf.math.add(variance, tf.constant(epsilon)));
    if (gamma != null) {
      inv = tf.math.mul(inv, gamma);
    }
    Operand<TFloat32> shift = tf.math.neg(tf.math.mul(mean, inv));
    if (beta != null) {
      shift = tf.math.add(shift, beta);
    }
    return tf.math.add(tf.math.mul(x, inv), shift);
  }
}

package org.wclust.load.keras.layers;

import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Squeeze;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.op.nn.Conv2dBackpropInput;
import org.tensorflow.op.nn.DepthwiseConv2dNative;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.load.ModelLoadException;

/**
 * Convolutions, channels-last: Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D.
 * Each kernel feeds its convolution op directly from its variable read, so it is clusterable. A
 * Conv1D runs as a Conv2D over a height-1 image (as TensorFlow does), its kernel stored 4-D.
 */
public final class ConvLayers {
  private ConvLayers() {}

  static void register(Map<String, LayerBuilder> registry) {
    registry.put("Conv2D", ConvLayers::conv2d);
    registry.put("Conv1D", ConvLayers::conv1d);
    registry.put("DepthwiseConv2D", ConvLayers::depthwise);
    registry.put("SeparableConv2D", ConvLayers::separable);
    registry.put("Conv2DTranspose", ConvLayers::transpose);
  }

  private static void checkGroups(LayerContext ctx) throws ModelLoadException {
    if (ctx.integer("groups", 1) != 1) {
      throw ctx.error("groups=" + ctx.integer("groups", 1) + " is not supported");
    }
  }

  private static List<Long> nhwc(long[] hw) {
    return LayerContext.list(1, hw[0], hw[1], 1);
  }

  private static Operand<TFloat32> biasAndActivation(LayerContext ctx, Operand<TFloat32> y)
      throws ModelLoadException {
    if (ctx.bool("use_bias", true)) {
      y = ctx.tf().nn.biasAdd(y, ctx.next("bias"));
    }
    return Activations.activation(ctx, y);
  }

  private static Operand<?> conv2d(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    ctx.requireChannelsLast();
    checkGroups(ctx);
    Operand<TFloat32> x = ctx.float32(in.get(0));
    Operand<TFloat32> y = ctx.tf().nn.conv2d(x, ctx.next("kernel"), nhwc(ctx.ints("strides", 2, 1)),
        ctx.padding(), Conv2d.dilations(nhwc(ctx.ints("dilation_rate", 2, 1))));
    return biasAndActivation(ctx, y);
  }

  private static Operand<?> conv1d(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    ctx.requireChannelsLast();
    checkGroups(ctx);
    if (ctx.string("padding", "valid").equals("causal")) {
      throw ctx.error("padding 'causal' is not supported (same and valid are)");
    }
    Ops tf = ctx.tf();
    Operand<TFloat32> x = tf.expandDims(ctx.float32(in.get(0)), tf.constant(1));
    long size = ctx.ints("kernel_size", 1, 1)[0];
    long inChannels = ctx.dims(x)[3];
    long filters = ctx.integer("filters", 0);
    Operand<TFloat32> kernel = ctx.nextWeight("kernel", new long[] {1, size, inChannels, filters}).value();
    long stride = ctx.ints("strides", 1, 1)[0];
    long dilation = ctx.ints("dilation_rate", 1, 1)[0];
    Operand<TFloat32> y = tf.nn.conv2d(x, kernel, LayerContext.list(1, 1, stride, 1), ctx.padding(),
        Conv2d.dilations(LayerContext.list(1, 1, dilation, 1)));
    y = tf.squeeze(y, Squeeze.axis(List.of(1L)));
    return biasAndActivation(ctx, y);
  }

  private static Operand<?> depthwise(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    ctx.requireChannelsLast();
    Operand<TFloat32> x = ctx.float32(in.get(0));
    Operand<TFloat32> y = ctx.tf().nn.depthwiseConv2dNative(x, ctx.next("kernel"),
        nhwc(ctx.ints("strides", 2, 1)), ctx.padding(),
        DepthwiseConv2dNative.dilations(nhwc(ctx.ints("dilation_rate", 2, 1))));
    return biasAndActivation(ctx, y);
  }

  /** tf.nn.separable_conv2d: a strided depthwise convolution, then a 1x1 VALID convolution. */
  private static Operand<?> separable(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    ctx.requireChannelsLast();
    Ops tf = ctx.tf();
    Operand<TFloat32> x = ctx.float32(in.get(0));
    Operand<TFloat32> depthwiseKernel = ctx.next("depthwise_kernel");
    Operand<TFloat32> pointwiseKernel = ctx.next("pointwise_kernel");
    Operand<TFloat32> y = tf.nn.depthwiseConv2dNative(x, depthwiseKernel, nhwc(ctx.ints("strides", 2, 1)),
        ctx.padding(), DepthwiseConv2dNative.dilations(nhwc(ctx.ints("dilation_rate", 2, 1))));
    y = tf.nn.conv2d(y, pointwiseKernel, LayerContext.list(1, 1, 1, 1), "VALID");
    return biasAndActivation(ctx, y);
  }

  /** Conv2DBackpropInput with Keras' output size ({@code compute_conv_transpose_output_shape}). */
  private static Operand<?> transpose(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    ctx.requireChannelsLast();
    if (ctx.has("output_padding")) {
      throw ctx.error("output_padding is not supported");
    }
    Ops tf = ctx.tf();
    Operand<TFloat32> x = ctx.float32(in.get(0));
    long[] dims = ctx.dims(x);
    long[] kernelSize = ctx.ints("kernel_size", 2, 1);
    long[] strides = ctx.ints("strides", 2, 1);
    long[] dilation = ctx.ints("dilation_rate", 2, 1);
    String padding = ctx.padding();
    int[] outHw = new int[2];
    for (int i = 0; i < 2; i++) {
      long inSize = dims[1 + i];
      if (inSize < 0) {
        throw ctx.error("its input needs a known height and width");
      }
      long k = (kernelSize[i] - 1) * dilation[i] + 1;
      outHw[i] = (int) (padding.equals("VALID")
          ? (inSize - 1) * strides[i] + k + Math.max(k, strides[i]) - k
          : inSize * strides[i]);
    }
    Operand<TFloat32> kernel = ctx.next("kernel");
    int filters = (int) kernel.shape().get(2);
    Operand<TInt32> batch = tf.stridedSlice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1}),
        tf.constant(new int[] {1}));
    Operand<TInt32> outputShape = tf.concat(List.of(batch, tf.constant(new int[] {outHw[0], outHw[1], filters})),
        tf.constant(0));
    Operand<TFloat32> y = tf.nn.conv2dBackpropInput(outputShape, kernel, x, nhwc(strides), padding,
        Conv2dBackpropInput.dilations(nhwc(dilation)));
    return biasAndActivation(ctx, y);
  }
}

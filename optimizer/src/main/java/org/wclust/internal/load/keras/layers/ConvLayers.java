package org.wclust.internal.load.keras.layers;

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
import org.wclust.internal.load.ModelLoadException;

/**
 * Convolutions, channels-last: Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose, DepthwiseConv2D,
 * SeparableConv2D.
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
    registry.put("Conv1DTranspose", ConvLayers::transpose1d);
  }

  /** A convolution op given its input, padding and dilations (NHWC). */
  private interface Conv {
    Operand<TFloat32> apply(Operand<TFloat32> x, String padding, List<Long> dilations);
  }

  /**
   * A convolution with dilation. Inference: the op's own dilations. Training: TensorFlow's
   * {@code with_space_to_batch} form (SpaceToBatchND, the undilated VALID convolution,
   * BatchToSpaceND), because TensorFlow's CPU convolution gradients do not support dilations (and
   * the oneDNN path of TF Java's natives dies with SIGILL on them).
   */
  private static Operand<TFloat32> dilated(LayerContext ctx, Operand<TFloat32> x, long[] kernelHw,
      long[] dilation, long[] strides, Conv conv) throws ModelLoadException {
    String padding = ctx.padding();
    if (!ctx.training() || dilation[0] == 1 && dilation[1] == 1) {
      return conv.apply(x, padding, nhwc(dilation));
    }
    if (strides[0] != 1 || strides[1] != 1) {
      throw ctx.error("strides and dilation_rate both above 1 are not supported");
    }
    long[] dims = ctx.dims(x);
    int[][] paddings = new int[2][2];
    int[][] crops = new int[2][2];
    for (int i = 0; i < 2; i++) {
      if (dims[1 + i] < 0) {
        throw ctx.error("training a dilated convolution needs a known input height and width");
      }
      long total = padding.equals("SAME") ? (kernelHw[i] - 1) * dilation[i] : 0;
      long start = total / 2;
      long end = total - start;
      long extra = (dilation[i] - (dims[1 + i] + start + end) % dilation[i]) % dilation[i];
      paddings[i] = new int[] {(int) start, (int) (end + extra)};
      crops[i] = new int[] {0, (int) extra};
    }
    Ops tf = ctx.tf();
    int[] block = {(int) dilation[0], (int) dilation[1]};
    Operand<TFloat32> batched = tf.spaceToBatchNd(x, tf.constant(block), tf.constant(paddings));
    Operand<TFloat32> y = conv.apply(batched, "VALID", LayerContext.list(1, 1, 1, 1));
    return tf.batchToSpaceNd(y, tf.constant(block), tf.constant(crops));
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
    Operand<TFloat32> kernel = ctx.next("kernel");
    long[] strides = ctx.ints("strides", 2, 1);
    Operand<TFloat32> y = dilated(ctx, x, ctx.ints("kernel_size", 2, 1), ctx.ints("dilation_rate", 2, 1), strides,
        (input, padding, dilations) -> ctx.tf().nn.conv2d(input, kernel, nhwc(strides), padding,
            Conv2d.dilations(dilations)));
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
    Operand<TFloat32> y = dilated(ctx, x, new long[] {1, size}, new long[] {1, dilation}, new long[] {1, stride},
        (input, padding, dilations) -> tf.nn.conv2d(input, kernel, LayerContext.list(1, 1, stride, 1), padding,
            Conv2d.dilations(dilations)));
    y = tf.squeeze(y, Squeeze.axis(List.of(1L)));
    return biasAndActivation(ctx, y);
  }

  private static Operand<?> depthwise(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    ctx.requireChannelsLast();
    Operand<TFloat32> x = ctx.float32(in.get(0));
    Operand<TFloat32> kernel = ctx.next("kernel");
    long[] strides = ctx.ints("strides", 2, 1);
    Operand<TFloat32> y = dilated(ctx, x, ctx.ints("kernel_size", 2, 1), ctx.ints("dilation_rate", 2, 1), strides,
        (input, padding, dilations) -> ctx.tf().nn.depthwiseConv2dNative(input, kernel, nhwc(strides), padding,
            DepthwiseConv2dNative.dilations(dilations)));
    return biasAndActivation(ctx, y);
  }

  /** tf.nn.separable_conv2d: a strided depthwise convolution, then a 1x1 VALID convolution. */
  private static Operand<?> separable(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    ctx.requireChannelsLast();
    Ops tf = ctx.tf();
    Operand<TFloat32> x = ctx.float32(in.get(0));
    Operand<TFloat32> depthwiseKernel = ctx.next("depthwise_kernel");
    Operand<TFloat32> pointwiseKernel = ctx.next("pointwise_kernel");
    long[] strides = ctx.ints("strides", 2, 1);
    Operand<TFloat32> y = dilated(ctx, x, ctx.ints("kernel_size", 2, 1), ctx.ints("dilation_rate", 2, 1), strides,
        (input, padding, dilations) -> tf.nn.depthwiseConv2dNative(input, depthwiseKernel, nhwc(strides), padding,
            DepthwiseConv2dNative.dilations(dilations)));
    y = tf.nn.conv2d(y, pointwiseKernel, LayerContext.list(1, 1, 1, 1), "VALID");
    return biasAndActivation(ctx, y);
  }

  /** Conv2DBackpropInput with Keras' output size ({@code compute_conv_transpose_output_shape}). */
  private static Operand<?> transpose(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    ctx.requireChannelsLast();
    if (ctx.has("output_padding")) {
      throw ctx.error("output_padding is not supported");
    }
    Operand<TFloat32> kernel = ctx.next("kernel");
    Operand<TFloat32> y = transposed(ctx, ctx.float32(in.get(0)), kernel, ctx.ints("kernel_size", 2, 1),
        ctx.ints("strides", 2, 1), ctx.ints("dilation_rate", 2, 1));
    return biasAndActivation(ctx, y);
  }

  /**
   * Conv1DTranspose as TensorFlow runs it: a Conv2DBackpropInput over a height-1 image, the kernel
   * stored 4-D ({@code [1, size, filters, in]}) so the op reads the variable directly.
   */
  private static Operand<?> transpose1d(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    ctx.requireChannelsLast();
    if (ctx.has("output_padding")) {
      throw ctx.error("output_padding is not supported");
    }
    Ops tf = ctx.tf();
    Operand<TFloat32> x = tf.expandDims(ctx.float32(in.get(0)), tf.constant(1));
    long size = ctx.ints("kernel_size", 1, 1)[0];
    long filters = ctx.integer("filters", 0);
    Operand<TFloat32> kernel = ctx.nextWeight("kernel", new long[] {1, size, filters, ctx.dims(x)[3]}).value();
    Operand<TFloat32> y = transposed(ctx, x, kernel, new long[] {1, size}, new long[] {1, ctx.ints("strides", 1, 1)[0]},
        new long[] {1, ctx.ints("dilation_rate", 1, 1)[0]});
    return biasAndActivation(ctx, tf.squeeze(y, Squeeze.axis(List.of(1L))));
  }

  private static Operand<TFloat32> transposed(LayerContext ctx, Operand<TFloat32> x, Operand<TFloat32> kernel,
      long[] kernelSize, long[] strides, long[] dilation) throws ModelLoadException {
    Ops tf = ctx.tf();
    long[] dims = ctx.dims(x);
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
    int filters = (int) kernel.shape().get(2);
    Operand<TInt32> batch = tf.stridedSlice(tf.shape(x), tf.constant(new int[] {0}), tf.constant(new int[] {1}),
        tf.constant(new int[] {1}));
    Operand<TInt32> outputShape = tf.concat(List.of(batch, tf.constant(new int[] {outHw[0], outHw[1], filters})),
        tf.constant(0));
    return tf.nn.conv2dBackpropInput(outputShape, kernel, x, nhwc(strides), padding,
        Conv2dBackpropInput.dilations(nhwc(dilation)));
  }
}

package org.wclust.internal.load.keras.layers;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.StridedSlice;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.load.ModelLoadException;

/**
 * LSTM, GRU (both {@code reset_after} forms), SimpleRNN and Bidirectional, statically unrolled over
 * the model's fixed sequence length. Unrolled, every op has a graph gradient (TensorFlow's C++ API
 * has none for While loops), so the same graph serves inference and fine-tuning; the kernel is
 * applied to all steps by one MatMul, the recurrent kernel by one MatMul per step, both reading the
 * variable directly, so both are clusterable. The cell math follows Keras 3's cells step by step;
 * the initial state is zero (the first step skips the recurrent product). Masking, return_state,
 * stateful layers and dropout in training are refused.
 */
public final class Recurrent {
  private Recurrent() {}

  static void register(Map<String, LayerBuilder> registry) {
    registry.put("LSTM", (ctx, in) -> rnn(ctx, ctx.config(), ctx.className(), ctx.float32(in.get(0)), ""));
    registry.put("GRU", (ctx, in) -> rnn(ctx, ctx.config(), ctx.className(), ctx.float32(in.get(0)), ""));
    registry.put("SimpleRNN", (ctx, in) -> rnn(ctx, ctx.config(), ctx.className(), ctx.float32(in.get(0)), ""));
    registry.put("Bidirectional", Recurrent::bidirectional);
  }

  private static Operand<?> bidirectional(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    Operand<TFloat32> x = ctx.float32(in.get(0));
    JsonObject forwardSpec = ctx.config().getAsJsonObject("layer");
    JsonObject forward = forwardSpec.getAsJsonObject("config");
    JsonObject backward;
    String backwardClass;
    if (ctx.has("backward_layer")) {
      JsonObject spec = ctx.config().getAsJsonObject("backward_layer");
      backward = spec.getAsJsonObject("config");
      backwardClass = spec.get("class_name").getAsString();
    } else {
      // Keras makes the backward layer from the forward one's config, go_backwards flipped
      backward = forward.deepCopy();
      backward.addProperty("go_backwards", !bool(forward, "go_backwards"));
      backwardClass = forwardSpec.get("class_name").getAsString();
    }
    Operand<TFloat32> f = rnn(ctx, forward, forwardSpec.get("class_name").getAsString(), x, "forward/");
    Operand<TFloat32> b = rnn(ctx, backward, backwardClass, x, "backward/");
    Ops tf = ctx.tf();
    if (bool(forward, "return_sequences")) {
      b = tf.reverse(b, tf.constant(new int[] {1})); // the backward outputs back in input order
    }
    String mode = ctx.string("merge_mode", "concat");
    return switch (mode) {
      case "concat" -> tf.concat(List.of(f, b), tf.constant(-1));
      case "sum" -> tf.math.add(f, b);
      case "mul" -> tf.math.mul(f, b);
      case "ave" -> tf.math.mul(tf.math.add(f, b), tf.constant(0.5f));
      default -> throw ctx.error("merge_mode '" + mode + "' is not supported (concat, sum, mul, ave are)");
    };
  }

  private static boolean bool(JsonObject config, String key) {
    return config.has(key) && !config.get(key).isJsonNull() && config.get(key).getAsBoolean();
  }

  /** One recurrent layer of class {@code className} with {@code config}; its weights named {@code prefix}kernel... */
  private static Operand<TFloat32> rnn(LayerContext ctx, JsonObject config, String className, Operand<TFloat32> x,
      String prefix) throws ModelLoadException {
    for (String refused : List.of("return_state", "stateful")) {
      if (bool(config, refused)) {
        throw ctx.error(refused + "=True is not supported");
      }
    }
    if (ctx.training() && (number(config, "dropout") > 0 || number(config, "recurrent_dropout") > 0)) {
      throw ctx.error("training with dropout or recurrent_dropout inside the recurrent layer is not supported");
    }
    long[] dims = ctx.dims(x);
    if (dims.length != 3 || dims[1] < 0 || dims[2] < 0) {
      throw ctx.error("needs a fixed sequence length and feature size to be unrolled, its input is "
          + java.util.Arrays.toString(dims));
    }
    int steps = (int) dims[1];
    int units = config.get("units").getAsInt();
    String activation = Activations.activationName(ctx, config, "activation");
    String recurrentActivation = Activations.activationName(ctx, config, "recurrent_activation");
    boolean useBias = !config.has("use_bias") || config.get("use_bias").getAsBoolean();
    Cell cell = switch (className) {
      case "LSTM" -> new Lstm(ctx, units, activation, recurrentActivation);
      case "GRU" -> new Gru(ctx, units, activation, recurrentActivation, !config.has("reset_after")
          || config.get("reset_after").getAsBoolean());
      case "SimpleRNN" -> new SimpleRnn(ctx, activation);
      default -> throw ctx.error("recurrent layer class " + className + " is not supported (LSTM, GRU, SimpleRNN are)");
    };
    Ops tf = ctx.tf();
    Operand<TFloat32> kernel = ctx.next(prefix + "kernel");
    Operand<TFloat32> recurrentKernel = ctx.next(prefix + "recurrent_kernel");
    Operand<TFloat32> bias = useBias ? ctx.next(prefix + "bias") : null;
    // x · kernel (+ the input bias) for all steps at once: [B * T, D] · [D, G] → [B, T, G]
    long gates = kernel.shape().get(1);
    Operand<TFloat32> projected = tf.linalg.matMul(
        tf.reshape(x, tf.constant(new long[] {-1, dims[2]})), kernel);
    Operand<TFloat32> inputBias = cell.inputBias(bias);
    if (inputBias != null) {
      projected = tf.nn.biasAdd(projected, inputBias);
    }
    projected = tf.reshape(projected, tf.constant(new long[] {-1, steps, gates}));
    boolean backwards = bool(config, "go_backwards");
    List<Operand<TFloat32>> outputs = new ArrayList<>();
    Operand<TFloat32> h = null;
    for (int i = 0; i < steps; i++) {
      int t = backwards ? steps - 1 - i : i;
      Operand<TFloat32> xt = tf.stridedSlice(projected, tf.constant(new int[] {0, t, 0}),
          tf.constant(new int[] {0, t + 1, 0}), tf.constant(new int[] {1, 1, 1}),
          StridedSlice.beginMask(5L), StridedSlice.endMask(5L), StridedSlice.shrinkAxisMask(2L));
      h = cell.step(xt, h, recurrentKernel, bias);
      outputs.add(h);
    }
    if (!bool(config, "return_sequences")) {
      return h;
    }
    // Keras returns a backward layer's outputs in processing order (reversed)
    List<Operand<TFloat32>> expanded = new ArrayList<>();
    for (Operand<TFloat32> o : outputs) {
      expanded.add(tf.expandDims(o, tf.constant(1)));
    }
    return tf.concat(expanded, tf.constant(1));
  }

  private static double number(JsonObject config, String key) {
    return config.has(key) && !config.get(key).isJsonNull() ? config.get(key).getAsDouble() : 0;
  }

  /** One recurrent cell: the part of the bias added to the input projection, and one step. */
  private interface Cell {
    /** The part of the layer's bias added to {@code x · kernel}: all of it, unless the cell says otherwise. */
    default Operand<TFloat32> inputBias(Operand<TFloat32> bias) {
      return bias;
    }

    /** The new output from the projected input of this step and the previous output (null at the first step). */
    Operand<TFloat32> step(Operand<TFloat32> xt, Operand<TFloat32> h, Operand<TFloat32> recurrentKernel,
        Operand<TFloat32> bias) throws ModelLoadException;
  }

  /**
   * Columns {@code [from, to)} of a [B, G] tensor. The slice bounds are int32: StridedSlice's
   * gradient takes the input's shape, int32, and fails on int64 bounds.
   */
  private static Operand<TFloat32> columns(Ops tf, Operand<TFloat32> z, long from, long to) {
    return tf.stridedSlice(z, tf.constant(new int[] {0, (int) from}), tf.constant(new int[] {0, (int) to}),
        tf.constant(new int[] {1, 1}), StridedSlice.beginMask(1L), StridedSlice.endMask(1L));
  }

  /** Keras' SimpleRNNCell: {@code h = act(x · W + b + h · U)}. */
  private static final class SimpleRnn implements Cell {
    private final LayerContext ctx;
    private final String activation;

    SimpleRnn(LayerContext ctx, String activation) {
      this.ctx = ctx;
      this.activation = activation;
    }

    @Override
    public Operand<TFloat32> step(Operand<TFloat32> xt, Operand<TFloat32> h, Operand<TFloat32> u,
        Operand<TFloat32> bias) throws ModelLoadException {
      Operand<TFloat32> z = h == null ? xt : ctx.tf().math.add(xt, ctx.tf().linalg.matMul(h, u));
      return Activations.apply(ctx, activation, z);
    }
  }

  /**
   * Keras' LSTMCell: {@code z = x · W + h · U + b} split into gates i, f, c, o;
   * {@code c = f · c + i · act(z_c)}, {@code h = rec_act(z_o) · act(c)}. The cell state is carried
   * beside the output.
   */
  private static final class Lstm implements Cell {
    private final LayerContext ctx;
    private final int units;
    private final String activation;
    private final String recurrentActivation;
    private Operand<TFloat32> c;

    Lstm(LayerContext ctx, int units, String activation, String recurrentActivation) {
      this.ctx = ctx;
      this.units = units;
      this.activation = activation;
      this.recurrentActivation = recurrentActivation;
    }

    @Override
    public Operand<TFloat32> step(Operand<TFloat32> xt, Operand<TFloat32> h, Operand<TFloat32> u,
        Operand<TFloat32> bias) throws ModelLoadException {
      Ops tf = ctx.tf();
      Operand<TFloat32> z = h == null ? xt : tf.math.add(xt, tf.linalg.matMul(h, u));
      Operand<TFloat32> i = Activations.apply(ctx, recurrentActivation, columns(tf, z, 0, units));
      Operand<TFloat32> f = Activations.apply(ctx, recurrentActivation, columns(tf, z, units, 2L * units));
      Operand<TFloat32> candidate = Activations.apply(ctx, activation, columns(tf, z, 2L * units, 3L * units));
      Operand<TFloat32> o = Activations.apply(ctx, recurrentActivation, columns(tf, z, 3L * units, 4L * units));
      Operand<TFloat32> input = tf.math.mul(i, candidate);
      c = c == null ? input : tf.math.add(tf.math.mul(f, c), input);
      return tf.math.mul(o, Activations.apply(ctx, activation, c));
    }
  }

  /**
   * Keras' GRUCell, gates z, r, h. {@code reset_after} (the default): the bias is [2, 3u] (input,
   * recurrent), {@code hh = act(x_h + r · (h · U_h + b_rec_h))}; otherwise one bias on the input
   * side and {@code hh = act(x_h + (r · h) · U_h)}. Then {@code h = z · h + (1 - z) · hh}.
   */
  private static final class Gru implements Cell {
    private final LayerContext ctx;
    private final int units;
    private final String activation;
    private final String recurrentActivation;
    private final boolean resetAfter;

    Gru(LayerContext ctx, int units, String activation, String recurrentActivation, boolean resetAfter) {
      this.ctx = ctx;
      this.units = units;
      this.activation = activation;
      this.recurrentActivation = recurrentActivation;
      this.resetAfter = resetAfter;
    }

    @Override
    public Operand<TFloat32> inputBias(Operand<TFloat32> bias) {
      if (bias == null || !resetAfter) {
        return bias;
      }
      return row(bias, 0);
    }

    private Operand<TFloat32> row(Operand<TFloat32> bias, int r) {
      Ops tf = ctx.tf();
      return tf.stridedSlice(bias, tf.constant(new int[] {r, 0}), tf.constant(new int[] {r + 1, 0}),
          tf.constant(new int[] {1, 1}), StridedSlice.endMask(2L), StridedSlice.shrinkAxisMask(1L));
    }

    @Override
    public Operand<TFloat32> step(Operand<TFloat32> xt, Operand<TFloat32> h, Operand<TFloat32> u,
        Operand<TFloat32> bias) throws ModelLoadException {
      Ops tf = ctx.tf();
      long u1 = units;
      long u2 = 2L * units;
      long u3 = 3L * units;
      Operand<TFloat32> xz = columns(tf, xt, 0, u1);
      Operand<TFloat32> xr = columns(tf, xt, u1, u2);
      Operand<TFloat32> xh = columns(tf, xt, u2, u3);
      Operand<TFloat32> z;
      Operand<TFloat32> r;
      Operand<TFloat32> hh;
      if (resetAfter) {
        // h · U + b_rec (just b_rec when h is the zero initial state)
        Operand<TFloat32> recurrentBias = bias == null ? null : row(bias, 1);
        Operand<TFloat32> inner = h == null ? null : tf.linalg.matMul(h, u);
        if (recurrentBias != null) {
          inner = inner == null ? null : tf.nn.biasAdd(inner, recurrentBias);
        }
        z = Activations.apply(ctx, recurrentActivation, add(tf, xz, inner, recurrentBias, 0, u1));
        r = Activations.apply(ctx, recurrentActivation, add(tf, xr, inner, recurrentBias, u1, u2));
        Operand<TFloat32> innerH = inner != null ? columns(tf, inner, u2, u3)
            : recurrentBias != null ? slice(tf, recurrentBias, u2, u3) : null;
        hh = Activations.apply(ctx, activation, innerH == null ? xh : tf.math.add(xh, tf.math.mul(r, innerH)));
      } else {
        if (h == null) {
          z = Activations.apply(ctx, recurrentActivation, xz);
          hh = Activations.apply(ctx, activation, xh);
        } else {
          // the whole recurrent kernel in each product (not column slices of it), so that the
          // kernel is read only by MatMuls and stays clusterable
          Operand<TFloat32> inner = tf.linalg.matMul(h, u);
          z = Activations.apply(ctx, recurrentActivation, tf.math.add(xz, columns(tf, inner, 0, u1)));
          r = Activations.apply(ctx, recurrentActivation, tf.math.add(xr, columns(tf, inner, u1, u2)));
          hh = Activations.apply(ctx, activation, tf.math.add(xh,
              columns(tf, tf.linalg.matMul(tf.math.mul(r, h), u), u2, u3)));
        }
      }
      Operand<TFloat32> update = tf.math.mul(tf.math.sub(tf.constant(1f), z), hh);
      return h == null ? update : tf.math.add(tf.math.mul(z, h), update);
    }

    /** x + the gate's columns of the recurrent term (or of the recurrent bias alone at the first step). */
    private static Operand<TFloat32> add(Ops tf, Operand<TFloat32> x, Operand<TFloat32> inner,
        Operand<TFloat32> recurrentBias, long from, long to) {
      if (inner != null) {
        return tf.math.add(x, columns(tf, inner, from, to));
      }
      return recurrentBias == null ? x : tf.math.add(x, slice(tf, recurrentBias, from, to));
    }

    private static Operand<TFloat32> slice(Ops tf, Operand<TFloat32> v, long from, long to) {
      return tf.stridedSlice(v, tf.constant(new int[] {(int) from}), tf.constant(new int[] {(int) to}),
          tf.constant(new int[] {1}));
    }
  }
}

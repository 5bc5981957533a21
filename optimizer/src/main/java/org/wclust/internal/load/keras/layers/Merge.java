package org.wclust.internal.load.keras.layers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.load.ModelLoadException;

/** Merge layers: Add, Subtract, Multiply, Average, Maximum, Concatenate (left to right, as Keras). */
public final class Merge {
  private Merge() {}

  private interface Binary {
    Operand<TFloat32> apply(Ops tf, Operand<TFloat32> a, Operand<TFloat32> b);
  }

  static void register(Map<String, LayerBuilder> registry) {
    registry.put("Add", (ctx, in) -> fold(ctx, in, (tf, a, b) -> tf.math.add(a, b)));
    registry.put("Multiply", (ctx, in) -> fold(ctx, in, (tf, a, b) -> tf.math.mul(a, b)));
    registry.put("Maximum", (ctx, in) -> fold(ctx, in, (tf, a, b) -> tf.math.maximum(a, b)));
    registry.put("Average", (ctx, in) -> ctx.tf().math.div(fold(ctx, in, (tf, a, b) -> tf.math.add(a, b)),
        ctx.tf().constant((float) in.size())));
    registry.put("Subtract", (ctx, in) -> {
      if (in.size() != 2) {
        throw ctx.error("needs exactly 2 inputs, got " + in.size());
      }
      return ctx.tf().math.sub(ctx.float32(in.get(0)), ctx.float32(in.get(1)));
    });
    registry.put("Concatenate", (ctx, in) -> {
      List<Operand<TFloat32>> xs = floats(ctx, in);
      return ctx.tf().concat(xs, ctx.tf().constant(ctx.integer("axis", -1)));
    });
  }

  private static List<Operand<TFloat32>> floats(LayerContext ctx, List<Operand<?>> in) throws ModelLoadException {
    if (in.size() < 2) {
      throw ctx.error("needs at least 2 inputs, got " + in.size());
    }
    List<Operand<TFloat32>> out = new ArrayList<>();
    for (Operand<?> x : in) {
      out.add(ctx.float32(x));
    }
    return out;
  }

  private static Operand<TFloat32> fold(LayerContext ctx, List<Operand<?>> in, Binary op) throws ModelLoadException {
    List<Operand<TFloat32>> xs = floats(ctx, in);
    Operand<TFloat32> out = xs.get(0);
    for (int i = 1; i < xs.size(); i++) {
      out = op.apply(ctx.tf(), out, xs.get(i));
    }
    return out;
  }
}

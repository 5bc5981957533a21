package org.wclust.internal.load.keras.layers;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.load.ModelLoadException;

/** Flatten, Reshape, Permute, ZeroPadding2D, Cropping2D, UpSampling2D (nearest). */
public final class ShapeLayers {
  private ShapeLayers() {}

  static void register(Map<String, LayerBuilder> registry) {
    registry.put("Flatten", (ctx, in) -> {
      ctx.requireChannelsLast();
      Operand<?> x = in.get(0);
      long[] dims = ctx.dims(x);
      long size = 1;
      for (int i = 1; i < dims.length; i++) {
        size = dims[i] < 0 || size < 0 ? -1 : size * dims[i];
      }
      return reshape(ctx.tf(), x, new long[] {-1, size});
    });
    registry.put("Reshape", (ctx, in) -> {
      JsonArray target = ctx.config().getAsJsonArray("target_shape");
      long[] shape = new long[target.size() + 1];
      shape[0] = -1;
      for (int i = 0; i < target.size(); i++) {
        shape[i + 1] = target.get(i).isJsonNull() ? -1 : target.get(i).getAsLong();
      }
      return reshape(ctx.tf(), in.get(0), shape);
    });
    registry.put("Permute", (ctx, in) -> {
      JsonArray dims = ctx.config().getAsJsonArray("dims");
      int[] perm = new int[dims.size() + 1];
      for (int i = 0; i < dims.size(); i++) {
        perm[i + 1] = dims.get(i).getAsInt();
      }
      return ctx.tf().linalg.transpose(in.get(0), ctx.tf().constant(perm));
    });
    registry.put("ZeroPadding2D", (ctx, in) -> {
      ctx.requireChannelsLast();
      long[][] p = pairs(ctx, "padding");
      Ops tf = ctx.tf();
      int[][] paddings = {{0, 0}, {(int) p[0][0], (int) p[0][1]}, {(int) p[1][0], (int) p[1][1]}, {0, 0}};
      return tf.pad(ctx.float32(in.get(0)), tf.constant(paddings), tf.constant(0f));
    });
    registry.put("Cropping2D", (ctx, in) -> {
      ctx.requireChannelsLast();
      long[][] c = pairs(ctx, "cropping");
      Operand<TFloat32> x = ctx.float32(in.get(0));
      long[] dims = ctx.dims(x);
      if (dims[1] < 0 || dims[2] < 0) {
        throw ctx.error("its input needs a known height and width");
      }
      Ops tf = ctx.tf();
      return tf.slice(x, tf.constant(new int[] {0, (int) c[0][0], (int) c[1][0], 0}),
          tf.constant(new int[] {-1, (int) (dims[1] - c[0][0] - c[0][1]), (int) (dims[2] - c[1][0] - c[1][1]), -1}));
    });
    registry.put("UpSampling2D", (ctx, in) -> {
      ctx.requireChannelsLast();
      String interpolation = ctx.string("interpolation", "nearest");
      if (!interpolation.equals("nearest")) {
        throw ctx.error("interpolation '" + interpolation + "' is not supported (nearest is)");
      }
      long[] size = ctx.ints("size", 2, 2);
      Operand<TFloat32> x = ctx.float32(in.get(0));
      long[] dims = ctx.dims(x);
      if (dims[1] < 0 || dims[2] < 0) {
        throw ctx.error("its input needs a known height and width");
      }
      Ops tf = ctx.tf();
      return tf.image.resizeNearestNeighbor(x,
          tf.constant(new int[] {(int) (dims[1] * size[0]), (int) (dims[2] * size[1])}));
    });
  }

  private static Operand<?> reshape(Ops tf, Operand<?> x, long[] shape) {
    int[] s = new int[shape.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = (int) shape[i];
    }
    return tf.reshape(x, tf.constant(s));
  }

  /** An int, a pair (symmetric per axis) or a pair of pairs, as ((top, bottom), (left, right)). */
  private static long[][] pairs(LayerContext ctx, String key) throws ModelLoadException {
    JsonElement e = ctx.config().get(key);
    if (e == null) {
      throw ctx.error("has no " + key);
    }
    if (e.isJsonPrimitive()) {
      long v = e.getAsLong();
      return new long[][] {{v, v}, {v, v}};
    }
    JsonArray a = e.getAsJsonArray();
    long[][] out = new long[2][2];
    for (int i = 0; i < 2; i++) {
      JsonElement axis = a.get(i);
      if (axis.isJsonPrimitive()) {
        out[i][0] = axis.getAsLong();
        out[i][1] = axis.getAsLong();
      } else {
        out[i][0] = axis.getAsJsonArray().get(0).getAsLong();
        out[i][1] = axis.getAsJsonArray().get(1).getAsLong();
      }
    }
    return out;
  }

}

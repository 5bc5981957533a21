package org.wclust.internal.load.keras.layers;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.family.TType;
import org.wclust.internal.load.ModelLoadException;

/**
 * What a {@link LayerBuilder} sees of one layer call: the Ops scope of the call, the layer's config,
 * the mode (inference or training) and its weights, handed out in the order Keras stores them.
 */
public final class LayerContext {
  /** A weight of the layer: its resource handle (for training-mode updates) and its value read. */
  public record Weight(Operand<? extends TType> handle, Operand<TFloat32> value) {}

  /** Supplies the weights of a layer; implemented by the graph builder. */
  public interface Weights {
    /** The {@code index}-th weight of the layer, as a variable named {@code varName}, stored with {@code storedShape} (null: as in the file). */
    Weight weight(int index, String varName, long[] storedShape) throws ModelLoadException;

    /** How many weights the file holds for the layer. */
    int count() throws ModelLoadException;

    /** Registers an op that training-mode runs must execute (e.g. a moving-average update). */
    void addUpdate(Op op);

    /** A fresh op-level seed for a random op, so training graphs are deterministic run to run. */
    long nextSeed();
  }

  private final Ops tf;
  private final String name;
  private final String className;
  private final JsonObject config;
  private final boolean training;
  private final boolean frozenBatchNorm;
  private final Weights weights;
  private int nextWeight;

  public LayerContext(Ops tf, String name, String className, JsonObject config, boolean training,
      boolean frozenBatchNorm, Weights weights) {
    this.tf = tf;
    this.name = name;
    this.className = className;
    this.config = config;
    this.training = training;
    this.frozenBatchNorm = frozenBatchNorm;
    this.weights = weights;
  }

  public Ops tf() {
    return tf;
  }

  public String name() {
    return name;
  }

  public String className() {
    return className;
  }

  public JsonObject config() {
    return config;
  }

  /** True when building a training-mode graph (active dropout; batch statistics unless frozen). */
  public boolean training() {
    return training;
  }

  /** True when BatchNormalization normalises with the batch's statistics and updates the moving ones. */
  public boolean batchNormTraining() {
    return training && !frozenBatchNorm;
  }

  public long nextSeed() {
    return weights.nextSeed();
  }

  /** The next weight of the layer, named {@code varName} (e.g. {@code kernel}). */
  public Weight nextWeight(String varName) throws ModelLoadException {
    return nextWeight(varName, null);
  }

  /** The next weight, stored in the graph with another shape of the same size (e.g. a Conv1D kernel as 2-D). */
  public Weight nextWeight(String varName, long[] storedShape) throws ModelLoadException {
    return weights.weight(nextWeight++, varName, storedShape);
  }

  public Operand<TFloat32> next(String varName) throws ModelLoadException {
    return nextWeight(varName).value();
  }

  /** Number of weights taken so far (checked against the file by the builder). */
  public int weightsUsed() {
    return nextWeight;
  }

  public void addUpdate(Op op) {
    weights.addUpdate(op);
  }

  /** A one-line error naming this layer and its class. */
  public ModelLoadException error(String message) {
    return new ModelLoadException("layer '" + name + "' (" + className + "): " + message);
  }

  // ---- config accessors -------------------------------------------------------------------

  public boolean has(String key) {
    return config.has(key) && !config.get(key).isJsonNull();
  }

  public String string(String key, String defaultValue) {
    return has(key) ? config.get(key).getAsString() : defaultValue;
  }

  public boolean bool(String key, boolean defaultValue) {
    return has(key) ? config.get(key).getAsBoolean() : defaultValue;
  }

  public double number(String key, double defaultValue) {
    return has(key) ? config.get(key).getAsDouble() : defaultValue;
  }

  public int integer(String key, int defaultValue) {
    return has(key) ? config.get(key).getAsInt() : defaultValue;
  }

  /** An int or a list of {@code n} ints (Keras accepts both for kernel_size, strides, ...). */
  public long[] ints(String key, int n, long defaultValue) {
    long[] out = new long[n];
    if (!has(key)) {
      java.util.Arrays.fill(out, defaultValue);
      return out;
    }
    JsonElement e = config.get(key);
    if (e.isJsonPrimitive()) {
      java.util.Arrays.fill(out, e.getAsLong());
      return out;
    }
    JsonArray a = e.getAsJsonArray();
    for (int i = 0; i < n; i++) {
      out[i] = a.get(Math.min(i, a.size() - 1)).getAsLong();
    }
    return out;
  }

  /** {@code padding}: "SAME" or "VALID" for TensorFlow; anything else is an error. */
  public String padding() throws ModelLoadException {
    String p = string("padding", "valid").toLowerCase(java.util.Locale.ROOT);
    return switch (p) {
      case "same" -> "SAME";
      case "valid" -> "VALID";
      default -> throw error("padding '" + p + "' is not supported (same and valid are)");
    };
  }

  /** Fails unless the layer is channels-last. */
  public void requireChannelsLast() throws ModelLoadException {
    String format = string("data_format", "channels_last");
    if (!format.equals("channels_last")) {
      throw error("data_format '" + format + "' is not supported (channels_last is)");
    }
  }

  /** The input as float32 (Keras casts non-float inputs of float layers). */
  @SuppressWarnings("unchecked")
  public Operand<TFloat32> float32(Operand<?> x) {
    if (x.type() == TFloat32.class) {
      return (Operand<TFloat32>) x;
    }
    return tf.dtypes.cast(x, TFloat32.class);
  }

  /** Static dimensions of an operand (-1 for unknown); fails on an unknown rank. */
  public long[] dims(Operand<?> x) throws ModelLoadException {
    org.tensorflow.ndarray.Shape s = x.shape();
    if (s.isUnknown()) {
      throw error("the rank of its input is unknown");
    }
    return s.asArray();
  }

  public static List<Long> list(long... values) {
    return java.util.Arrays.stream(values).boxed().toList();
  }
}

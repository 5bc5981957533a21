package org.wclust.internal.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBfloat16;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TUint16;
import org.tensorflow.types.TUint8;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.NamedInputs;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;

/**
 * A batch of a dataset (read as float32) in the dtype the model's input declares: float32 as it is,
 * float64 / float16 / bfloat16 converted, or integers (int32 or int64 token ids of a model that starts
 * with an Embedding, uint8 or uint16 pixels), which must then be whole numbers within the type's range.
 */
public final class ModelInputs {
  /** Integers above this are not exact in float32, the type the data is read in. */
  private static final float LARGEST_EXACT_ID = 1 << 24;
  /** The integer input types, with their smallest and largest values. */
  private static final Map<DataType, float[]> INTEGER_RANGES = Map.of(
      DataType.DT_INT32, new float[] {-LARGEST_EXACT_ID, LARGEST_EXACT_ID},
      DataType.DT_INT64, new float[] {-LARGEST_EXACT_ID, LARGEST_EXACT_ID},
      DataType.DT_UINT8, new float[] {0, 255},
      DataType.DT_UINT16, new float[] {0, 65535});

  private ModelInputs() {}

  /** Whether fine-tuning can feed this input: a float or integer type above. */
  static boolean feedable(TensorSpec input) {
    DataType t = input.dtype();
    return t == DataType.DT_FLOAT || t == DataType.DT_DOUBLE || t == DataType.DT_HALF || t == DataType.DT_BFLOAT16
        || INTEGER_RANGES.containsKey(t);
  }

  /** The model's one input, which fine-tuning can feed; fails naming what it cannot train. */
  static TensorSpec single(FlatModel model) {
    if (model.signature().inputs().size() != 1) {
      throw new IllegalArgumentException("fine-tuning needs a model with one input, this one has "
          + model.signature().inputs().size());
    }
    return all(model).get(0);
  }

  /** The model's inputs in signature order, each of which fine-tuning can feed; fails naming one it cannot. */
  static List<TensorSpec> all(FlatModel model) {
    List<TensorSpec> inputs = model.signature().inputs();
    for (TensorSpec input : inputs) {
      if (!feedable(input)) {
        throw new IllegalArgumentException("fine-tuning needs float (32, 64, 16 bits, bfloat16) or integer "
            + "(int32, int64, uint8, uint16) model inputs, '" + input.key() + "' is " + input.dtype());
      }
    }
    return inputs;
  }

  /** The batch of a model's one input. */
  static HostTensor batch(Dataset data, int[] examples, TensorSpec input) {
    return as(data.batchInputs(examples), input);
  }

  /**
   * The batch of every input of {@code inputs}, in their order: the data's one array of inputs for a
   * model with one input, else each input's own array ({@link Dataset#forInputs}).
   */
  static List<HostTensor> batch(Dataset data, int[] examples, List<TensorSpec> inputs) {
    if (inputs.size() == 1 && data.namedInputs().isEmpty()) {
      return List.of(as(data.batchInputs(examples), inputs.get(0)));
    }
    NamedInputs named = data.namedInputs().orElseThrow(() -> new IllegalArgumentException("the model has "
        + inputs.size() + " inputs but the data holds one array of inputs"));
    List<HostTensor> out = new ArrayList<>();
    for (TensorSpec input : inputs) {
      out.add(as(named.get(input.key()).batchInputs(examples), input));
    }
    return out;
  }

  /** The batch of every input of {@code model}, by signature key, for a {@link ModelSession} run. */
  public static Map<String, HostTensor> feeds(Dataset data, int[] examples, FlatModel model) {
    List<TensorSpec> inputs = model.signature().inputs();
    List<HostTensor> batches = batch(data, examples, inputs);
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (int i = 0; i < inputs.size(); i++) {
      out.put(inputs.get(i).key(), batches.get(i));
    }
    return out;
  }

  /** {@code data} as {@code model}'s inputs take it ({@link Dataset#forInputs}). */
  public static Dataset fit(Dataset data, FlatModel model) {
    List<TensorSpec> inputs = model.signature().inputs();
    return data.forInputs(inputs.stream().map(TensorSpec::key).toList(),
        inputs.stream().map(TensorSpec::exampleDims).toList());
  }

  /** {@code x} (float32) in the dtype of {@code input}. */
  static HostTensor as(HostTensor x, TensorSpec input) {
    DataType dtype = input.dtype();
    if (dtype == DataType.DT_FLOAT) {
      return x;
    }
    float[] values = x.toFloats();
    Shape shape = Shape.of(x.shape());
    switch (dtype) {
      case DT_DOUBLE -> {
        double[] d = new double[values.length];
        for (int i = 0; i < values.length; i++) {
          d[i] = values[i];
        }
        return copy(TFloat64.tensorOf(shape, DataBuffers.of(d, true, false)));
      }
      case DT_HALF -> {
        return copy(TFloat16.tensorOf(shape, DataBuffers.of(values, true, false)));
      }
      case DT_BFLOAT16 -> {
        return copy(TBfloat16.tensorOf(shape, DataBuffers.of(values, true, false)));
      }
      default -> {
        // integers
      }
    }
    float[] range = INTEGER_RANGES.get(dtype);
    if (range == null) {
      throw new IllegalArgumentException("cannot feed the model input '" + input.key() + "' of type " + dtype);
    }
    for (float v : values) {
      if (v != Math.rint(v) || v < range[0] || v > range[1]) {
        boolean ids = dtype == DataType.DT_INT32 || dtype == DataType.DT_INT64;
        throw new IllegalArgumentException("the model input '" + input.key() + "' takes " + typeName(dtype)
            + (ids ? " token ids" : " values") + " in [" + (long) range[0] + ", " + (long) range[1] + "], but the data holds " + v
            + " (after --scale); give whole numbers, unscaled");
      }
    }
    switch (dtype) {
      case DT_INT32 -> {
        int[] ids = new int[values.length];
        for (int i = 0; i < values.length; i++) {
          ids[i] = (int) values[i];
        }
        return HostTensor.ofInts(x.shape(), ids);
      }
      case DT_INT64 -> {
        long[] ids = new long[values.length];
        for (int i = 0; i < values.length; i++) {
          ids[i] = (long) values[i];
        }
        return copy(TInt64.tensorOf(shape, DataBuffers.of(ids, true, false)));
      }
      case DT_UINT8 -> {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
          b[i] = (byte) (int) values[i];
        }
        return copy(TUint8.tensorOf(shape, DataBuffers.of(b, true, false)));
      }
      default -> {
        short[] s = new short[values.length];
        for (int i = 0; i < values.length; i++) {
          s[i] = (short) (int) values[i];
        }
        return copy(TUint16.tensorOf(shape, DataBuffers.of(s, true, false)));
      }
    }
  }

  private static String typeName(DataType dtype) {
    return dtype.name().substring("DT_".length()).toLowerCase(java.util.Locale.ROOT);
  }

  private static HostTensor copy(Tensor t) {
    try (t) {
      return HostTensor.copyOf(t);
    }
  }
}

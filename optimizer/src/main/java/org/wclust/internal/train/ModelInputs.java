package org.wclust.internal.train;

import org.tensorflow.proto.DataType;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.data.Dataset;

/**
 * A batch of a dataset (read as float32) in the dtype the model's input takes: float32 as it is, or
 * int32 token ids (a model that starts with an Embedding), which must then be whole numbers.
 */
final class ModelInputs {
  /** Token ids above this are not exact in float32. */
  private static final float LARGEST_EXACT_ID = 1 << 24;

  private ModelInputs() {}

  /** Whether fine-tuning can feed this input: float32, or int32 token ids. */
  static boolean feedable(TensorSpec input) {
    return input.dtype() == DataType.DT_FLOAT || input.dtype() == DataType.DT_INT32;
  }

  /** The model's one input, which fine-tuning can feed; fails naming what it cannot train. */
  static TensorSpec single(org.wclust.internal.graph.FlatModel model) {
    if (model.signature().inputs().size() != 1) {
      throw new IllegalArgumentException("fine-tuning needs a model with one input, this one has "
          + model.signature().inputs().size());
    }
    TensorSpec input = model.signature().inputs().get(0);
    if (!feedable(input)) {
      throw new IllegalArgumentException("fine-tuning needs a float32 or int32 model input, '" + input.key()
          + "' is " + input.dtype());
    }
    return input;
  }

  static HostTensor batch(Dataset data, int[] examples, TensorSpec input) {
    HostTensor x = data.batchInputs(examples);
    if (input.dtype() != DataType.DT_INT32) {
      return x;
    }
    float[] values = x.toFloats();
    int[] ids = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      if (v != Math.rint(v) || Math.abs(v) > LARGEST_EXACT_ID) {
        throw new IllegalArgumentException("the model input '" + input.key() + "' takes int32 token ids, but the "
            + "data holds " + v + " (after --scale); give the ids unscaled");
      }
      ids[i] = (int) v;
    }
    return HostTensor.ofInts(x.shape(), ids);
  }
}

package org.wclust.internal.bridge;

import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * One input or output of a serving signature: the user-facing {@code key} (e.g. {@code keras_tensor}),
 * the graph tensor it names (e.g. {@code serving_default_keras_tensor:0}), its dtype and shape
 * (unknown dimensions are -1, as in TensorFlow's protos).
 */
public record TensorSpec(String key, String tensorName, DataType dtype, TensorShapeProto shape) {

  public static TensorSpec of(String key, TensorInfo info) {
    return new TensorSpec(key, info.getName(), info.getDtype(), info.getTensorShape());
  }

  public TensorInfo toTensorInfo() {
    return TensorInfo.newBuilder().setName(tensorName).setDtype(dtype).setTensorShape(shape).build();
  }

  /** The same spec pointing at another graph tensor. */
  public TensorSpec withTensorName(String newTensorName) {
    return new TensorSpec(key, newTensorName, dtype, shape);
  }

  /**
   * The shape of one example, the dimensions after the batch dimension, when they are all known
   * (e.g. [28, 28, 1] of [-1, 28, 28, 1]); empty for an unknown rank or an unknown dimension.
   */
  public java.util.Optional<long[]> exampleDims() {
    long[] dims = dims();
    if (dims.length == 0) {
      return java.util.Optional.empty();
    }
    long[] example = java.util.Arrays.copyOfRange(dims, 1, dims.length);
    return java.util.Arrays.stream(example).allMatch(d -> d >= 0)
        ? java.util.Optional.of(example) : java.util.Optional.empty();
  }

  /** Dimensions with -1 for unknown ones; an unknown rank yields an empty array. */
  public long[] dims() {
    return shape.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
  }
}

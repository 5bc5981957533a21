package org.wclust.internal.bridge;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.tensorflow.Tensor;
import org.tensorflow.internal.types.registry.TensorTypeRegistry;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TInt32;

/**
 * An immutable tensor value held on the Java heap: dtype, shape and the raw little-endian bytes that
 * TensorFlow uses for fixed-size types. It outlives the native tensors it is copied from, so graphs can
 * be rebuilt and sessions closed without losing weights.
 */
public final class HostTensor {
  private final DataType dtype;
  private final long[] shape;
  /** The little-endian bytes; null for an int32 tensor that shares {@link #ints}. */
  private final byte[] data;
  /** The values of an int32 tensor made by {@link #sharingInts}, else null. */
  private final int[] ints;

  private HostTensor(DataType dtype, long[] shape, byte[] data) {
    this.dtype = dtype;
    this.shape = shape.clone();
    this.data = data;
    this.ints = null;
  }

  private HostTensor(long[] shape, int[] ints) {
    this.dtype = DataType.DT_INT32;
    this.shape = shape.clone();
    this.data = null;
    this.ints = ints;
  }

  /** A float32 tensor of the given shape; {@code values.length} must equal the shape's size. */
  public static HostTensor ofFloats(long[] shape, float[] values) {
    checkArgument(Shape.of(shape).size() == values.length,
        "shape %s holds %s values, got %s", Arrays.toString(shape), Shape.of(shape).size(), values.length);
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(values);
    return new HostTensor(DataType.DT_FLOAT, shape, buf.array());
  }

  /** An int32 tensor of the given shape. */
  public static HostTensor ofInts(long[] shape, int[] values) {
    checkArgument(Shape.of(shape).size() == values.length,
        "shape %s holds %s values, got %s", Arrays.toString(shape), Shape.of(shape).size(), values.length);
    return new HostTensor(DataType.DT_INT32, shape, bytes(values));
  }

  /**
   * An int32 tensor that holds {@code values} itself instead of a copy, for big index tensors that
   * live on beside the clustering that made them (one copy of a model's indices instead of two). The
   * caller must never change {@code values} afterwards.
   */
  public static HostTensor sharingInts(long[] shape, int[] values) {
    checkArgument(Shape.of(shape).size() == values.length,
        "shape %s holds %s values, got %s", Arrays.toString(shape), Shape.of(shape).size(), values.length);
    return new HostTensor(shape, values);
  }

  /** Copies a native tensor of a fixed-size type. */
  public static HostTensor copyOf(Tensor tensor) {
    DataType dtype = tensor.dataType();
    checkArgument(!TensorTypeRegistry.find(dtype).isVariableLength(),
        "variable-length tensors (%s) are not supported", dtype);
    byte[] bytes = new byte[(int) tensor.numBytes()];
    tensor.asRawTensor().data().read(bytes);
    return new HostTensor(dtype, tensor.shape().asArray(), bytes);
  }

  /** Reads a TensorProto as found in a Const node (tensor_content or the typed repeated fields). */
  public static HostTensor fromProto(TensorProto proto) {
    long[] shape = proto.getTensorShape().getDimList().stream()
        .mapToLong(TensorShapeProto.Dim::getSize).toArray();
    int n = (int) Shape.of(shape).size();
    DataType dtype = proto.getDtype();
    if (!proto.getTensorContent().isEmpty()) {
      return new HostTensor(dtype, shape, proto.getTensorContent().toByteArray());
    }
    switch (dtype) {
      case DT_FLOAT: {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
          v[i] = proto.getFloatValCount() == 0 ? 0f : proto.getFloatVal(Math.min(i, proto.getFloatValCount() - 1));
        }
        return ofFloats(shape, v);
      }
      case DT_INT32: {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
          v[i] = proto.getIntValCount() == 0 ? 0 : proto.getIntVal(Math.min(i, proto.getIntValCount() - 1));
        }
        return ofInts(shape, v);
      }
      default:
        throw new IllegalArgumentException("cannot read a constant of type " + dtype);
    }
  }

  public DataType dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public long size() {
    return Shape.of(shape).size();
  }

  public boolean isFloat() {
    return dtype == DataType.DT_FLOAT;
  }

  public float[] toFloats() {
    checkArgument(dtype == DataType.DT_FLOAT, "tensor is %s, not float32", dtype);
    float[] out = new float[data.length / 4];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  public int[] toInts() {
    checkArgument(dtype == DataType.DT_INT32, "tensor is %s, not int32", dtype);
    if (ints != null) {
      return ints.clone();
    }
    int[] out = new int[data.length / 4];
    ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
    return out;
  }

  /**
   * Rows {@code [from, to)} along the first dimension, as a new tensor that copies only those rows
   * (e.g. one replica's slice of a batch).
   */
  public HostTensor rows(int from, int to) {
    checkArgument(shape.length > 0 && 0 <= from && from <= to && to <= shape[0],
        "rows [%s, %s) outside a tensor of shape %s", from, to, Arrays.toString(shape));
    long[] sliced = shape.clone();
    sliced[0] = to - from;
    if (ints != null) {
      int width = shape[0] == 0 ? 0 : ints.length / (int) shape[0];
      return new HostTensor(DataType.DT_INT32, sliced, bytes(Arrays.copyOfRange(ints, from * width, to * width)));
    }
    int rowBytes = shape[0] == 0 ? 0 : data.length / (int) shape[0];
    return new HostTensor(dtype, sliced, Arrays.copyOfRange(data, from * rowBytes, to * rowBytes));
  }

  /** A new native tensor holding a copy of this value; the caller closes it. */
  public Tensor toTensor() {
    if (ints != null) {
      return TInt32.tensorOf(Shape.of(shape), DataBuffers.of(ints, true, false));
    }
    return Tensor.of(TensorTypeRegistry.find(dtype).type(), Shape.of(shape),
        DataBuffers.of(data, true, false));
  }

  /** This value as a TensorProto for a Const node. */
  public TensorProto toProto() {
    TensorShapeProto.Builder shapeProto = TensorShapeProto.newBuilder();
    for (long d : shape) {
      shapeProto.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return TensorProto.newBuilder()
        .setDtype(dtype)
        .setTensorShape(shapeProto)
        // No copy: the bytes never change (this class is immutable), and a weight copied into every
        // Const of a big model would be one more copy of the model at its peak.
        .setTensorContent(UnsafeByteOperations.unsafeWrap(data != null ? data : bytes(ints)))
        .build();
  }

  private static byte[] bytes(int[] values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.asIntBuffer().put(values);
    return buf.array();
  }

  /** IEEE 754 binary16 to float (Java 17 has no Float.float16ToFloat). */
  public static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      // Zero or subnormal: mant * 2^-24, exact in float.
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }
}

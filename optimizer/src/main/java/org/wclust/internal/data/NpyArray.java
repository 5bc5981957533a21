package org.wclust.internal.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.wclust.internal.bridge.HostTensor;

/**
 * An immutable n-dimensional array as read from a {@code .npy} file or {@code .npz} entry: its dtype,
 * shape (C order) and raw little-endian bytes. The {@code to*} methods return fresh Java arrays
 * converted from those bytes, so a caller holds at most the raw bytes plus one converted copy.
 */
public final class NpyArray {
  private final String source;
  private final NpyDtype dtype;
  private final long[] shape;
  private final byte[] data;

  /** Takes over {@code data} (not copied): the readers hand their only reference to it. */
  NpyArray(String source, NpyDtype dtype, long[] shape, byte[] data) {
    this.source = checkNotNull(source, "source");
    this.dtype = checkNotNull(dtype, "dtype");
    this.shape = shape.clone();
    this.data = checkNotNull(data, "data");
    checkArgument(data.length == elementCount(shape) * dtype.itemSize(),
        "%s: shape %s of %s needs %s bytes, got %s", source, Arrays.toString(shape), dtype,
        elementCount(shape) * dtype.itemSize(), data.length);
  }

  /** Where the array came from, for messages: the file, or {@code file.npz:name} for an entry. */
  public String source() {
    return source;
  }

  public NpyDtype dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int ndim() {
    return shape.length;
  }

  /** Number of elements (1 for a 0-d array). */
  public int size() {
    return data.length / dtype.itemSize();
  }

  /** The values as float32 (bool as 0/1; wide integers and float64 rounded to nearest). */
  public float[] toFloats() {
    int n = size();
    float[] out = new float[n];
    ByteBuffer buf = buffer();
    switch (dtype) {
      case FLOAT32 -> buf.asFloatBuffer().get(out);
      case FLOAT64 -> {
        for (int i = 0; i < n; i++) {
          out[i] = (float) buf.getDouble(i * 8);
        }
      }
      case UINT8, BOOL -> {
        for (int i = 0; i < n; i++) {
          out[i] = data[i] & 0xff;
        }
      }
      default -> {
        for (int i = 0; i < n; i++) {
          out[i] = (float) doubleAt(buf, i);
        }
      }
    }
    return out;
  }

  /** The values as float64, exactly (int64 beyond 2^53 rounded). */
  public double[] toDoubles() {
    int n = size();
    double[] out = new double[n];
    ByteBuffer buf = buffer();
    for (int i = 0; i < n; i++) {
      out[i] = doubleAt(buf, i);
    }
    return out;
  }

  /**
   * The values as int32. Integer dtypes must lie in the int range; float dtypes must hold integer
   * values only (labels saved as float are common), else an {@link IllegalArgumentException} names the
   * first offending value and its index.
   */
  public int[] toInts() {
    int n = size();
    int[] out = new int[n];
    ByteBuffer buf = buffer();
    for (int i = 0; i < n; i++) {
      if (dtype == NpyDtype.INT64 || dtype == NpyDtype.UINT32) {
        long l = longAt(buf, i);
        checkArgument(l == (int) l, "%s holds %s at index %s, outside the int32 range", source, l, i);
        out[i] = (int) l;
      } else {
        double v = doubleAt(buf, i);
        checkArgument(v == Math.rint(v), "%s holds %s at index %s, not an integer", source, v, i);
        checkArgument(v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE,
            "%s holds %s at index %s, outside the int32 range", source, v, i);
        out[i] = (int) v;
      }
    }
    return out;
  }

  /** The values of an integer (or bool) array as int64; float arrays are refused. */
  public long[] toLongs() {
    checkArgument(dtype.isIntegral(), "%s has dtype %s, not an integer type", source, dtype.descr());
    int n = size();
    long[] out = new long[n];
    ByteBuffer buf = buffer();
    for (int i = 0; i < n; i++) {
      out[i] = longAt(buf, i);
    }
    return out;
  }

  @Override
  public String toString() {
    return source + " " + dtype.descr() + " " + Arrays.toString(shape);
  }

  /** Product of the dimensions; negative dimensions are refused by the readers before this. */
  static long elementCount(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  private ByteBuffer buffer() {
    return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
  }

  private long longAt(ByteBuffer buf, int i) {
    return switch (dtype) {
      case BOOL, UINT8 -> data[i] & 0xff;
      case INT8 -> data[i];
      case INT16 -> buf.getShort(i * 2);
      case UINT16 -> buf.getShort(i * 2) & 0xffff;
      case INT32 -> buf.getInt(i * 4);
      case UINT32 -> buf.getInt(i * 4) & 0xffffffffL;
      case INT64 -> buf.getLong(i * 8);
      default -> throw new AssertionError(dtype);
    };
  }

  private double doubleAt(ByteBuffer buf, int i) {
    return switch (dtype) {
      case FLOAT16 -> HostTensor.halfToFloat(buf.getShort(i * 2));
      case FLOAT32 -> buf.getFloat(i * 4);
      case FLOAT64 -> buf.getDouble(i * 8);
      default -> longAt(buf, i);
    };
  }
}

package org.wclust.internal.data;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;

/**
 * Decodes the {@code tf.train.Example} records of a TFRecord file into flat float inputs and int
 * labels, one or several input features in the same pass. Two passes: the first counts the records so
 * the arrays are allocated once, at their final size, instead of growing (which would briefly hold up to three copies of the inputs).
 */
final class TfExampleDecoder {
  private static final long MAX_VALUES = Integer.MAX_VALUE - 8;

  /**
   * {@code size} examples of {@code exampleSize} values; labels null when there are none. {@code
   * offset} and {@code length} locate each record's data in the file (offsets in the uncompressed
   * stream of a GZIP file); {@code kind} is the input feature's kind when every record has the same,
   * else null.
   */
  record Decoded(int size, int exampleSize, float[] inputs, int[] labels, long[] offset, int[] length,
      Feature.KindCase kind) {}

  private TfExampleDecoder() {}

  /**
   * @param rawSize the number of values an example should have (from the model's input shape), or -1:
   *     a bytes value of exactly that length is raw pixels even if it happens to start like a JPEG
   */
  static Decoded decode(Path file, FeatureSpec features, boolean labelsRequired, long rawSize)
      throws IOException {
    return decode(file, List.of(features.inputKey()), features.labelKey().orElse(null), labelsRequired, rawSize)
        .get(0);
  }

  /**
   * Every input feature of {@code inputKeys} (one {@link Decoded} each, in their order, sharing the
   * labels and record offsets) in one pass over the file.
   */
  static List<Decoded> decode(Path file, List<String> inputKeys, String labelKey, boolean labelsRequired,
      long rawSize) throws IOException {
    int n = TfRecordReader.count(file);
    if (n == 0) {
      throw new IllegalArgumentException(file + " holds no records");
    }
    int k = inputKeys.size();
    float[][] inputs = new float[k][];
    int[] exampleSize = new int[k];
    Feature.KindCase[] kind = new Feature.KindCase[k];
    int[] labels = null;
    long[] offset = new long[n];
    int[] length = new int[n];
    try (TfRecordReader reader = TfRecordReader.open(file)) {
      for (int i = 0; i < n; i++) {
        offset[i] = reader.position() + 12; // after the 8 length and 4 CRC bytes
        byte[] record = reader.next();
        if (record == null) {
          throw new IllegalArgumentException(file + ": changed while being read (record " + i + " vanished)");
        }
        length[i] = record.length;
        Map<String, Feature> map = parse(record, file, i).getFeatures().getFeatureMap();
        for (int j = 0; j < k; j++) {
          String inputKey = inputKeys.get(j);
          Feature x = map.get(inputKey);
          if (x == null) {
            throw missing(file, i, inputKey, "input", map);
          }
          int count = valueCount(x, file, i, inputKey, rawSize);
          if (inputs[j] == null) {
            if (count == 0) {
              throw new IllegalArgumentException(where(file, i, inputKey) + " holds no values");
            }
            if ((long) n * count > MAX_VALUES) {
              throw new IllegalArgumentException(file + ": " + n + " examples of " + count
                  + " values are too many for one in-memory dataset (limit 2^31 values)");
            }
            exampleSize[j] = count;
            inputs[j] = new float[n * count];
          } else if (count != exampleSize[j]) {
            throw new IllegalArgumentException(where(file, i, inputKey) + " has " + count
                + " values but record 0 had " + exampleSize[j] + "; all examples must have the same size"
                + (x.hasBytesList() ? " (encoded PNG/JPEG images are not supported: store raw uint8 pixels)" : ""));
          }
          copyValues(x, inputs[j], i * exampleSize[j]);
          kind[j] = i == 0 || x.getKindCase() == kind[j] ? x.getKindCase() : Feature.KindCase.KIND_NOT_SET;
        }
        if (i == 0 && labelKey != null && (map.containsKey(labelKey) || labelsRequired)) {
          labels = new int[n];
        }
        if (labels != null) {
          Feature y = map.get(labelKey);
          if (y == null) {
            throw missing(file, i, labelKey, "label", map);
          }
          labels[i] = label(y, file, i, labelKey);
        }
      }
    }
    List<Decoded> out = new ArrayList<>();
    for (int j = 0; j < k; j++) {
      out.add(new Decoded(n, exampleSize[j], inputs[j], labels, offset, length,
          kind[j] == Feature.KindCase.KIND_NOT_SET ? null : kind[j]));
    }
    return out;
  }

  static Example parse(byte[] record, Path file, int i) {
    try {
      return Example.parseFrom(record);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException(file + ": record " + i + " is not a tf.train.Example ("
          + e.getMessage() + ")");
    }
  }

  private static int valueCount(Feature f, Path file, int i, String key, long rawSize) {
    switch (f.getKindCase()) {
      case FLOAT_LIST:
        return f.getFloatList().getValueCount();
      case INT64_LIST:
        return f.getInt64List().getValueCount();
      case BYTES_LIST: {
        if (f.getBytesList().getValueCount() != 1) {
          throw new IllegalArgumentException(where(file, i, key) + " is a bytes_list of "
              + f.getBytesList().getValueCount() + " values; expected one value of raw uint8 bytes");
        }
        ByteString bytes = f.getBytesList().getValue(0);
        String encoded = bytes.size() == rawSize ? null : imageFormat(bytes);
        if (encoded != null) {
          throw new IllegalArgumentException(where(file, i, key) + " holds an encoded " + encoded
              + " image; encoded PNG/JPEG images are not supported: store the raw uint8 pixels "
              + "(e.g. image.numpy().tobytes())");
        }
        return bytes.size();
      }
      default:
        throw new IllegalArgumentException(where(file, i, key) + " is empty (no float_list, int64_list "
            + "or bytes_list)");
    }
  }

  private static void copyValues(Feature f, float[] out, int offset) {
    switch (f.getKindCase()) {
      case FLOAT_LIST -> {
        var list = f.getFloatList();
        for (int j = 0; j < list.getValueCount(); j++) {
          out[offset + j] = list.getValue(j);
        }
      }
      case INT64_LIST -> {
        var list = f.getInt64List();
        for (int j = 0; j < list.getValueCount(); j++) {
          out[offset + j] = list.getValue(j);
        }
      }
      case BYTES_LIST -> {
        ByteString bytes = f.getBytesList().getValue(0);
        for (int j = 0; j < bytes.size(); j++) {
          out[offset + j] = bytes.byteAt(j) & 0xff;
        }
      }
      default -> throw new AssertionError(f.getKindCase());
    }
  }

  static int label(Feature y, Path file, int i, String key) {
    if (y.hasInt64List() && y.getInt64List().getValueCount() == 1) {
      long l = y.getInt64List().getValue(0);
      if (l != (int) l) {
        throw new IllegalArgumentException(where(file, i, key) + " holds label " + l
            + ", outside the int32 range");
      }
      return (int) l;
    } else if (y.hasFloatList() && y.getFloatList().getValueCount() == 1) {
      float v = y.getFloatList().getValue(0);
      if (v != Math.rint(v) || Math.abs(v) > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(where(file, i, key) + " holds label " + v + ", not an integer");
      }
      return (int) v;
    }
    String kind = switch (y.getKindCase()) {
      case INT64_LIST -> "an int64_list of " + y.getInt64List().getValueCount() + " values";
      case FLOAT_LIST -> "a float_list of " + y.getFloatList().getValueCount() + " values";
      case BYTES_LIST -> "a bytes_list";
      default -> "empty";
    };
    throw new IllegalArgumentException(where(file, i, key) + " is " + kind
        + "; a label must be an int64_list of one class index (one-hot labels are not supported)");
  }

  /** "PNG" or "JPEG" when the bytes start with that format's signature, else null. */
  private static String imageFormat(ByteString b) {
    if (b.size() >= 8 && b.byteAt(0) == (byte) 0x89 && b.byteAt(1) == 'P' && b.byteAt(2) == 'N'
        && b.byteAt(3) == 'G' && b.byteAt(4) == '\r' && b.byteAt(5) == '\n' && b.byteAt(6) == 0x1a
        && b.byteAt(7) == '\n') {
      return "PNG";
    }
    // SOI marker and segment start, and the EOI marker at the end.
    int n = b.size();
    if (n >= 6 && b.byteAt(0) == (byte) 0xff && b.byteAt(1) == (byte) 0xd8 && b.byteAt(2) == (byte) 0xff
        && b.byteAt(n - 2) == (byte) 0xff && b.byteAt(n - 1) == (byte) 0xd9) {
      return "JPEG";
    }
    return null;
  }

  private static String where(Path file, int i, String key) {
    return file + ": record " + i + ": feature '" + key + "'";
  }

  static IllegalArgumentException missing(Path file, int i, String key, String role,
      Map<String, Feature> present) {
    return new IllegalArgumentException(file + ": record " + i + " has no " + role + " feature '" + key
        + "'; features present: " + (present.isEmpty() ? "none" : String.join(", ", new TreeSet<>(present.keySet()))));
  }
}

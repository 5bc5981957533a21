package org.wclust.internal.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.tensorflow.proto.BytesList;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.Int64List;

/**
 * Writers for the test files, written from the format descriptions rather than with the readers' code:
 * hand-made .npy headers, zips via java.util.zip, TFRecords framed with the JDK's CRC32C.
 */
public final class TestFiles {
  private TestFiles() {}

  /** A .npy file body: the header dict as NumPy writes it, padded to 64 bytes, then the data. */
  public static byte[] npy(int major, String descr, boolean fortran, long[] shape, byte[] data) {
    String dims = Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
    String tuple = "(" + dims + (shape.length == 1 ? ",)" : ")");
    return npyWithHeader(major, "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False")
        + ", 'shape': " + tuple + ", }", data);
  }

  /** A .npy body with a verbatim header dict (padded with spaces and a newline). */
  static byte[] npyWithHeader(int major, String dict, byte[] data) {
    int lengthBytes = major == 1 ? 2 : 4;
    byte[] text = dict.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    int unpadded = 6 + 2 + lengthBytes + text.length + 1;
    int pad = (64 - unpadded % 64) % 64;
    int headerLength = text.length + pad + 1;
    ByteBuffer out = ByteBuffer.allocate(6 + 2 + lengthBytes + headerLength + data.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    out.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    if (major == 1) {
      out.putShort((short) headerLength);
    } else {
      out.putInt(headerLength);
    }
    out.put(text);
    for (int i = 0; i < pad; i++) {
      out.put((byte) ' ');
    }
    out.put((byte) '\n');
    out.put(data);
    return out.array();
  }

  public static byte[] f4(float... v) {
    ByteBuffer b = le(v.length * 4);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  public static byte[] f8(double... v) {
    ByteBuffer b = le(v.length * 8);
    for (double x : v) {
      b.putDouble(x);
    }
    return b.array();
  }

  public static byte[] i8(long... v) {
    ByteBuffer b = le(v.length * 8);
    for (long x : v) {
      b.putLong(x);
    }
    return b.array();
  }

  static byte[] i4(int... v) {
    ByteBuffer b = le(v.length * 4);
    for (int x : v) {
      b.putInt(x);
    }
    return b.array();
  }

  static byte[] i2(int... v) {
    ByteBuffer b = le(v.length * 2);
    for (int x : v) {
      b.putShort((short) x);
    }
    return b.array();
  }

  public static byte[] u1(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }

  private static ByteBuffer le(int n) {
    return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
  }

  public static Path write(Path file, byte[] bytes) throws IOException {
    Files.write(file, bytes);
    return file;
  }

  /** A zip of entries NAME -> bytes, stored (with CRC and sizes up front) or deflated. */
  public static Path zip(Path file, boolean compressed, Map<String, byte[]> entries) throws IOException {
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        ZipEntry entry = new ZipEntry(e.getKey());
        if (compressed) {
          entry.setMethod(ZipEntry.DEFLATED);
        } else {
          CRC32 crc = new CRC32();
          crc.update(e.getValue());
          entry.setMethod(ZipEntry.STORED);
          entry.setSize(e.getValue().length);
          entry.setCompressedSize(e.getValue().length);
          entry.setCrc(crc.getValue());
        }
        zip.putNextEntry(entry);
        zip.write(e.getValue());
        zip.closeEntry();
      }
    }
    return file;
  }

  /** TFRecord framing of the records (GZIP-compressed when the name ends in .gz). */
  public static Path tfrecord(Path file, List<byte[]> records) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (byte[] r : records) {
      byte[] len = le(8).putLong(r.length).array();
      bytes.write(len);
      bytes.write(le(4).putInt(masked(len)).array());
      bytes.write(r);
      bytes.write(le(4).putInt(masked(r)).array());
    }
    try (OutputStream out = file.toString().endsWith(".gz")
        ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
      out.write(bytes.toByteArray());
    }
    return file;
  }

  static int masked(byte[] data) {
    CRC32C crc = new CRC32C();
    crc.update(data);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + 0xa282ead8;
  }

  public static Feature floats(float... v) {
    FloatList.Builder b = FloatList.newBuilder();
    for (float x : v) {
      b.addValue(x);
    }
    return Feature.newBuilder().setFloatList(b).build();
  }

  public static Feature int64s(long... v) {
    Int64List.Builder b = Int64List.newBuilder();
    for (long x : v) {
      b.addValue(x);
    }
    return Feature.newBuilder().setInt64List(b).build();
  }

  public static Feature bytes(byte[]... values) {
    BytesList.Builder b = BytesList.newBuilder();
    for (byte[] v : values) {
      b.addValue(com.google.protobuf.ByteString.copyFrom(v));
    }
    return Feature.newBuilder().setBytesList(b).build();
  }

  /** A serialized tf.train.Example of alternating key, Feature arguments. */
  public static byte[] example(Object... keysAndFeatures) {
    Features.Builder f = Features.newBuilder();
    for (int i = 0; i < keysAndFeatures.length; i += 2) {
      f.putFeature((String) keysAndFeatures[i], (Feature) keysAndFeatures[i + 1]);
    }
    return Example.newBuilder().setFeatures(f).build().toByteArray();
  }
}

package org.wclust.internal.data;

import com.google.common.hash.Hashing;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads the records of a TFRecord file. Each record is framed as
 *
 * <pre>
 *   uint64 length (little-endian)
 *   uint32 masked CRC32C of the 8 length bytes
 *   byte   data[length]
 *   uint32 masked CRC32C of the data
 * </pre>
 *
 * where {@code masked(crc) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8}. Both CRCs are verified; a
 * mismatch or a file ending inside a record fails with an {@link IllegalArgumentException} naming the
 * file and the record index (0-based). Files whose name ends in {@code .gz} are read as GZIP-compressed
 * TFRecords ({@code tf.io.TFRecordOptions(compression_type="GZIP")}); ZLIB compression is not supported.
 */
public final class TfRecordReader implements Closeable {
  private static final int MASK_DELTA = 0xa282ead8;
  // Records beyond this cannot be held in one Java array.
  private static final long MAX_RECORD_BYTES = Integer.MAX_VALUE - 8;

  private final Path file;
  private final InputStream in;
  private final byte[] header = new byte[12];
  private final byte[] footer = new byte[4];
  private int index;
  private long position;

  private TfRecordReader(Path file, InputStream in) {
    this.file = file;
    this.in = in;
  }

  /** Opens a TFRecord file (GZIP when its name ends in {@code .gz}); the caller closes it. */
  public static TfRecordReader open(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(Files.exists(file) ? "not a file: " + file : "no such file: " + file);
    }
    InputStream raw = Files.newInputStream(file);
    try {
      InputStream in = isGzip(file) ? new GZIPInputStream(raw, 1 << 16) : raw;
      return new TfRecordReader(file, new BufferedInputStream(in, 1 << 16));
    } catch (IOException e) {
      raw.close();
      throw new IllegalArgumentException(file + ": not a GZIP-compressed TFRecord file: " + e.getMessage());
    }
  }

  /** Reads all records of a file. */
  public static List<byte[]> readAll(Path file) throws IOException {
    try (TfRecordReader reader = open(file)) {
      List<byte[]> records = new ArrayList<>();
      for (byte[] r = reader.next(); r != null; r = reader.next()) {
        records.add(r);
      }
      return records;
    }
  }

  /**
   * Counts the records of a file without keeping them, so that a caller can size its arrays before a
   * second pass. The length CRCs are verified; the data CRCs are left to the reading pass.
   */
  public static int count(Path file) throws IOException {
    try (TfRecordReader reader = open(file)) {
      while (reader.skip()) {
        // counting
      }
      return reader.index;
    }
  }

  static boolean isGzip(Path file) {
    return file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".gz");
  }

  /** The next record's data, or null at the end of the file. */
  public byte[] next() throws IOException {
    long length = readHeader();
    if (length < 0) {
      return null;
    }
    byte[] data = new byte[(int) length];
    readFully(data, "data");
    readFully(footer, "data CRC");
    int stored = ByteBuffer.wrap(footer).order(ByteOrder.LITTLE_ENDIAN).getInt();
    int computed = maskedCrc32c(data, 0, data.length);
    if (stored != computed) {
      throw new IllegalArgumentException(String.format(
          "%s: record %d: data CRC mismatch (stored 0x%08x, computed 0x%08x); the file is corrupt",
          file, index, stored, computed));
    }
    index++;
    return data;
  }

  /**
   * Bytes of the (uncompressed) record stream consumed so far: the offset at which the next record's
   * header starts, its data 12 bytes later (for random access to an uncompressed file).
   */
  public long position() {
    return position;
  }

  /** Index of the record {@link #next()} returns next (= records read so far). */
  public int index() {
    return index;
  }

  public Path file() {
    return file;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  /** The masked CRC32C that TFRecord stores for {@code bytes[off, off+len)}. */
  public static int maskedCrc32c(byte[] bytes, int off, int len) {
    int crc = Hashing.crc32c().hashBytes(bytes, off, len).asInt();
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }

  private boolean skip() throws IOException {
    long length = readHeader();
    if (length < 0) {
      return false;
    }
    try {
      in.skipNBytes(length + 4);
      position += length + 4;
    } catch (EOFException e) {
      throw new IllegalArgumentException(String.format(
          "%s: record %d: truncated: the file ends inside the record's %d data bytes", file, index, length));
    }
    index++;
    return true;
  }

  /** Reads and checks a record header; returns the data length, or -1 at a clean end of file. */
  private long readHeader() throws IOException {
    int got = in.readNBytes(header, 0, header.length);
    if (got == 0) {
      return -1;
    }
    if (got < header.length) {
      throw truncated("header", got, header.length);
    }
    position += header.length;
    ByteBuffer buf = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
    long length = buf.getLong(0);
    int stored = buf.getInt(8);
    int computed = maskedCrc32c(header, 0, 8);
    if (stored != computed) {
      throw new IllegalArgumentException(String.format(
          "%s: record %d: length CRC mismatch (stored 0x%08x, computed 0x%08x); not a TFRecord file, "
              + "or corrupt%s", file, index, stored, computed,
          isGzip(file) ? "" : " (GZIP-compressed TFRecords need a name ending in .gz)"));
    }
    if (length < 0 || length > MAX_RECORD_BYTES) {
      throw new IllegalArgumentException(String.format(
          "%s: record %d: length %s is too large", file, index, Long.toUnsignedString(length)));
    }
    return length;
  }

  private void readFully(byte[] b, String what) throws IOException {
    int got = in.readNBytes(b, 0, b.length);
    if (got < b.length) {
      throw truncated(what, got, b.length);
    }
    position += b.length;
  }

  private IllegalArgumentException truncated(String what, int got, int wanted) {
    return new IllegalArgumentException(String.format(
        "%s: record %d: truncated: the file ends after %d of %d bytes of the %s", file, index, got, wanted, what));
  }
}

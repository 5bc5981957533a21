package org.wclust.internal.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wclust.internal.data.TestFiles.tfrecord;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TFRecord framing: lengths, masked CRC32C of length and data, GZIP. */
class TfRecordReaderTest {
  @TempDir Path tmp;

  private static final List<byte[]> RECORDS = List.of(
      "first".getBytes(StandardCharsets.US_ASCII), new byte[0], new byte[70_000]);

  @Test
  void maskedCrcMatchesTheKnownCrc32cVector() {
    // CRC32C("123456789") = 0xe3069283 (RFC 3720 check value), masked by the TFRecord rule.
    int crc = 0xe3069283;
    int expected = ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
    assertEquals(expected, TfRecordReader.maskedCrc32c(check, 0, check.length));
    assertEquals(expected, TestFiles.masked(check));
  }

  @Test
  void readsRecordsIncludingEmptyAndLargeOnes() throws IOException {
    Path file = tfrecord(tmp.resolve("r.tfrecord"), RECORDS);
    List<byte[]> read = TfRecordReader.readAll(file);
    assertEquals(3, read.size());
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(RECORDS.get(i), read.get(i));
    }
    assertEquals(3, TfRecordReader.count(file));
    assertEquals(0, TfRecordReader.count(tfrecord(tmp.resolve("empty.tfrecord"), List.of())));
  }

  @Test
  void readsGzipCompressedFiles() throws IOException {
    Path file = tfrecord(tmp.resolve("r.tfrecord.gz"), RECORDS);
    assertEquals(3, TfRecordReader.count(file));
    assertArrayEquals(RECORDS.get(0), TfRecordReader.readAll(file).get(0));
  }

  @Test
  void dataCrcMismatchNamesTheRecord() throws IOException {
    Path file = tfrecord(tmp.resolve("r.tfrecord"), RECORDS);
    byte[] bytes = Files.readAllBytes(file);
    // Record 0 occupies 12 + 5 + 4 bytes; record 1 (empty) the next 16; flip a byte of record 2's data.
    int record2Data = 21 + 16 + 12;
    bytes[record2Data + 100] ^= 1;
    Files.write(file, bytes);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfRecordReader.readAll(file));
    assertTrue(e.getMessage().startsWith(file + ": record 2: data CRC mismatch (stored 0x"), e.getMessage());
  }

  @Test
  void lengthCrcMismatchNamesTheRecord() throws IOException {
    Path file = tfrecord(tmp.resolve("r.tfrecord"), RECORDS);
    byte[] bytes = Files.readAllBytes(file);
    bytes[21] ^= 1; // the length of record 1
    Files.write(file, bytes);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfRecordReader.readAll(file));
    assertTrue(e.getMessage().startsWith(file + ": record 1: length CRC mismatch"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> TfRecordReader.count(file));
  }

  @Test
  void truncatedFiles() throws IOException {
    Path file = tfrecord(tmp.resolve("r.tfrecord"), RECORDS);
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 10));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfRecordReader.readAll(file));
    assertTrue(e.getMessage().startsWith(file + ": record 2: truncated"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> TfRecordReader.count(file));
    assertTrue(e.getMessage().startsWith(file + ": record 2: truncated"), e.getMessage());

    Files.write(file, Arrays.copyOf(bytes, 5));
    e = assertThrows(IllegalArgumentException.class, () -> TfRecordReader.readAll(file));
    assertTrue(e.getMessage().contains("record 0: truncated: the file ends after 5 of 12 bytes of the header"),
        e.getMessage());
  }

  @Test
  void gzipFileReadWithoutGzipSuffixSaysSo() throws IOException {
    Path gz = tfrecord(tmp.resolve("r.tfrecord.gz"), RECORDS);
    Path plain = Files.copy(gz, tmp.resolve("r.tfrecord"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfRecordReader.readAll(plain));
    assertTrue(e.getMessage().contains("need a name ending in .gz"), e.getMessage());
  }
}

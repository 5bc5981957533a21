package org.wclust.internal.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wclust.internal.data.TestFiles.f4;
import static org.wclust.internal.data.TestFiles.f8;
import static org.wclust.internal.data.TestFiles.i2;
import static org.wclust.internal.data.TestFiles.i4;
import static org.wclust.internal.data.TestFiles.i8;
import static org.wclust.internal.data.TestFiles.npy;
import static org.wclust.internal.data.TestFiles.npyWithHeader;
import static org.wclust.internal.data.TestFiles.u1;
import static org.wclust.internal.data.TestFiles.write;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.wclust.internal.bridge.HostTensor;

/** The .npy format as NumPy writes it, and the refusals of what the readers do not support. */
class NpyReaderTest {
  @TempDir Path tmp;

  private NpyArray read(byte[] npy) throws IOException {
    return NpyReader.read(write(tmp.resolve("a.npy"), npy));
  }

  private String fails(byte[] npy) {
    return assertThrows(IllegalArgumentException.class, () -> read(npy)).getMessage();
  }

  @Test
  void readsUint8InCOrder() throws IOException {
    NpyArray a = read(npy(1, "|u1", false, new long[] {2, 3}, u1(0, 1, 2, 253, 254, 255)));
    assertEquals(NpyDtype.UINT8, a.dtype());
    assertArrayEquals(new long[] {2, 3}, a.shape());
    assertEquals(6, a.size());
    assertArrayEquals(new float[] {0, 1, 2, 253, 254, 255}, a.toFloats());
    assertArrayEquals(new int[] {0, 1, 2, 253, 254, 255}, a.toInts());
    assertEquals(tmp.resolve("a.npy").toString(), a.source());
  }

  static Stream<Arguments> dtypes() {
    return Stream.of(
        Arguments.of("|b1", u1(0, 1, 1), new double[] {0, 1, 1}),
        Arguments.of("|i1", u1(-128, -1, 127), new double[] {-128, -1, 127}),
        Arguments.of("|u1", u1(0, 128, 255), new double[] {0, 128, 255}),
        Arguments.of("<i2", i2(-32768, -1, 32767), new double[] {-32768, -1, 32767}),
        Arguments.of("<u2", i2(0, 32768, 65535), new double[] {0, 32768, 65535}),
        Arguments.of("<i4", i4(Integer.MIN_VALUE, -7, Integer.MAX_VALUE),
            new double[] {Integer.MIN_VALUE, -7, Integer.MAX_VALUE}),
        Arguments.of("<u4", i4(0, -1, 5), new double[] {0, 4294967295.0, 5}),
        Arguments.of("<i8", i8(-1L << 40, 0, 1L << 50), new double[] {-(double) (1L << 40), 0, 1L << 50}),
        // 1.0, -2.0, smallest subnormal, +inf
        Arguments.of("<f2", i2(0x3c00, 0xc000, 0x0001, 0x7c00),
            new double[] {1, -2, Math.pow(2, -24), Double.POSITIVE_INFINITY}),
        Arguments.of("<f4", f4(0.1f, -3.5f, Float.MAX_VALUE), new double[] {0.1f, -3.5f, Float.MAX_VALUE}),
        Arguments.of("<f8", f8(0.1, -1e300, 2.5), new double[] {0.1, -1e300, 2.5}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dtypes")
  void readsEveryDtype(String descr, byte[] data, double[] expected) throws IOException {
    NpyArray a = read(npy(1, descr, false, new long[] {expected.length}, data));
    assertEquals(descr, a.dtype().descr());
    assertArrayEquals(expected, a.toDoubles());
    float[] floats = new float[expected.length];
    for (int i = 0; i < floats.length; i++) {
      floats[i] = (float) expected[i];
    }
    assertArrayEquals(floats, a.toFloats());
  }

  @ParameterizedTest(name = "version {0}.0")
  @ValueSource(ints = {1, 2, 3})
  void readsFormatVersions1To3(int major) throws IOException {
    NpyArray a = read(npy(major, "<f4", false, new long[] {2, 2}, f4(1, 2, 3, 4)));
    assertArrayEquals(new long[] {2, 2}, a.shape());
    assertArrayEquals(new float[] {1, 2, 3, 4}, a.toFloats());
  }

  @Test
  void readsScalarsEmptyArraysAndPython2Shapes() throws IOException {
    NpyArray scalar = read(npy(1, "<f8", false, new long[] {}, f8(7.5)));
    assertEquals(0, scalar.ndim());
    assertArrayEquals(new double[] {7.5}, scalar.toDoubles());

    NpyArray empty = read(npy(1, "<f4", false, new long[] {0, 3}, new byte[0]));
    assertEquals(0, empty.size());

    NpyArray py2 = read(npyWithHeader(1,
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 1L), }", i4(4, 5)));
    assertArrayEquals(new long[] {2, 1}, py2.shape());
    // Key order and quotes are free in a dict literal.
    NpyArray reordered = read(npyWithHeader(1,
        "{\"shape\": (1,), \"fortran_order\": False, \"descr\": \"<i2\"}", i2(9)));
    assertArrayEquals(new int[] {9}, reordered.toInts());
  }

  @Test
  void ignoresBytesAfterTheData() throws IOException {
    byte[] body = npy(1, "<i4", false, new long[] {1}, i4(3));
    byte[] longer = Arrays.copyOf(body, body.length + 5);
    assertArrayEquals(new int[] {3}, read(longer).toInts());
  }

  @Test
  void rejectsBigEndian() {
    String msg = fails(npy(1, ">f4", false, new long[] {1}, f4(1)));
    assertTrue(msg.startsWith(tmp.resolve("a.npy") + ": big-endian dtype '>f4' is not supported"), msg);
  }

  @Test
  void oneByteTypesIgnoreTheByteOrderMark() throws IOException {
    assertArrayEquals(new int[] {200}, read(npy(1, ">u1", false, new long[] {1}, u1(200))).toInts());
  }

  @Test
  void rejectsFortranOrder() {
    String msg = fails(npy(1, "<f4", true, new long[] {2, 2}, f4(1, 2, 3, 4)));
    assertTrue(msg.contains("a.npy: Fortran-order arrays (fortran_order: True) are not supported"), msg);
  }

  @Test
  void rejectsObjectAndStructuredAndStringArrays() {
    assertTrue(fails(npy(1, "|O", false, new long[] {1}, new byte[8]))
        .contains("object arrays (dtype '|O') are not supported"));
    assertTrue(fails(npyWithHeader(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
        f4(1))).contains("structured dtypes"));
    assertTrue(fails(npy(1, "<U3", false, new long[] {1}, new byte[12]))
        .contains("unsupported dtype '<U3'"));
    assertTrue(fails(npy(1, "<c8", false, new long[] {1}, new byte[8]))
        .contains("unsupported dtype '<c8'"));
  }

  @Test
  void rejectsBadMagicVersionsAndHeaders() {
    assertTrue(fails("not numpy at all".getBytes()).contains("not a .npy file"));
    byte[] v4 = npy(2, "<f4", false, new long[] {1}, f4(1));
    v4[6] = 4;
    assertTrue(fails(v4).contains("unsupported .npy format version 4.0"));
    assertTrue(fails(npyWithHeader(1, "{'descr': '<f4', 'fortran_order': False}", f4(1)))
        .contains("bad .npy header: expected a dict with keys 'descr', 'fortran_order', 'shape'"));
    String syntax = fails(npyWithHeader(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,) ", f4(1)));
    assertTrue(syntax.contains("bad .npy header: expected ',' or '}'"), syntax);
    assertTrue(fails(npyWithHeader(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", f4(1)))
        .contains("not an integer >= 0"));
  }

  @Test
  void rejectsTruncatedFiles() {
    byte[] full = npy(1, "<f4", false, new long[] {4}, f4(1, 2, 3, 4));
    String msg = fails(Arrays.copyOf(full, full.length - 3));
    assertTrue(msg.contains("truncated: shape [4] of <f4 needs 16 data bytes, the file has 13"), msg);
    assertTrue(fails(Arrays.copyOf(full, 9)).contains("truncated"));
  }

  @Test
  void toIntsChecksRangeAndIntegrality() throws IOException {
    NpyArray big = read(npy(1, "<i8", false, new long[] {2}, i8(1, 3_000_000_000L)));
    assertEquals(big.source() + " holds 3000000000 at index 1, outside the int32 range",
        assertThrows(IllegalArgumentException.class, big::toInts).getMessage());

    NpyArray wholeFloats = read(npy(1, "<f4", false, new long[] {3}, f4(0, 2, 9)));
    assertArrayEquals(new int[] {0, 2, 9}, wholeFloats.toInts());

    NpyArray fractional = read(npy(1, "<f8", false, new long[] {3}, f8(0, 2.5, 1)));
    assertEquals(fractional.source() + " holds 2.5 at index 1, not an integer",
        assertThrows(IllegalArgumentException.class, fractional::toInts).getMessage());

    NpyArray nan = read(npy(1, "<f4", false, new long[] {1}, f4(Float.NaN)));
    assertThrows(IllegalArgumentException.class, nan::toInts);
    assertThrows(IllegalArgumentException.class, nan::toLongs);
  }

  @Test
  void halfPrecisionConversion() {
    assertEquals(65504f, HostTensor.halfToFloat((short) 0x7bff));
    assertEquals(-0f, HostTensor.halfToFloat((short) 0x8000));
    assertEquals(0x1p-14f, HostTensor.halfToFloat((short) 0x0400));
    assertTrue(Float.isNaN(HostTensor.halfToFloat((short) 0x7e00)));
  }

  @Test
  void missingFile() {
    Path missing = tmp.resolve("nope.npy");
    assertEquals("no such file: " + missing,
        assertThrows(IllegalArgumentException.class, () -> NpyReader.read(missing)).getMessage());
  }
}

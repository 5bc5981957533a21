package org.wclust.internal.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the NumPy {@code .npy} format (versions 1.0, 2.0 and 3.0) as {@code np.save} writes it:
 * magic {@code \x93NUMPY}, version, a little-endian header length (2 bytes in 1.0, 4 bytes later), a
 * Python dict literal header {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}
 * (Latin-1, UTF-8 in 3.0), then the raw data.
 *
 * <p>Only little-endian, C-order arrays of the {@link NpyDtype} types are accepted; big-endian,
 * Fortran-order, object (pickled) and structured arrays fail with an {@link IllegalArgumentException}
 * naming the file and the reason. Bytes after the data are ignored, as {@code np.load} does.
 */
public final class NpyReader {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  // NumPy itself refuses headers over 10000 bytes unless told otherwise; this only guards allocation.
  private static final int MAX_HEADER_BYTES = 1 << 20;
  private static final int MAX_DATA_BYTES = Integer.MAX_VALUE - 8;

  private NpyReader() {}

  /** Reads a {@code .npy} file. */
  public static NpyArray read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(Files.exists(file) ? "not a file: " + file : "no such file: " + file);
    }
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      return read(in, file.toString(), Files.size(file));
    }
  }

  /** Where the rows of the array of a {@code .npy} file lie in it, for a reader of byte ranges. */
  static Optional<OnDisk> rows(Path file, double scale) throws IOException {
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      Layout layout = readLayout(in, file.toString(), Files.size(file));
      return rows(file, layout.headerBytes(), layout, scale);
    }
  }

  /** The rows of an array of {@code layout} whose data starts at byte {@code start} of {@code file}. */
  static Optional<OnDisk> rows(Path file, long start, Layout layout, double scale) {
    long[] shape = layout.shape();
    if (shape.length == 0 || shape[0] == 0) {
      return Optional.empty();
    }
    long rowBytes = layout.dataBytes() / shape[0];
    return Optional.of(new OnDisk.ArrayRows(file, start, layout.dtype(), rowBytes, scale));
  }

  /**
   * Reads one array from a stream positioned at the magic string.
   *
   * @param source names the array in messages, e.g. {@code data.npz:x}
   * @param available bytes the stream can hold at most, or -1 if unknown; checked before the data is
   *     allocated so that a corrupt shape fails with a message, not an OutOfMemoryError
   */
  public static NpyArray read(InputStream in, String source, long available) throws IOException {
    Layout layout = readLayout(in, source, available);
    byte[] data = readFully(in, (int) layout.dataBytes(), source, "the data");
    return new NpyArray(source, layout.dtype(), layout.shape(), data);
  }

  /**
   * An array's dtype and shape, and where its data starts: {@code headerBytes} after the magic string.
   *
   * @param dataBytes the size of the data (checked to fit in the available bytes)
   */
  record Layout(NpyDtype dtype, long[] shape, long headerBytes, long dataBytes) {}

  /** Reads the magic string and header, leaving the stream at the data. */
  static Layout readLayout(InputStream in, String source, long available) throws IOException {
    byte[] magic = readFully(in, 8, source, "the magic string");
    if (!Arrays.equals(Arrays.copyOf(magic, 6), MAGIC)) {
      throw new IllegalArgumentException(source + ": not a .npy file (no \\x93NUMPY magic string)");
    }
    int major = magic[6] & 0xff;
    int minor = magic[7] & 0xff;
    if (major < 1 || major > 3 || minor != 0) {
      throw new IllegalArgumentException(
          source + ": unsupported .npy format version " + major + "." + minor + " (supported: 1.0, 2.0, 3.0)");
    }
    int lengthBytes = major == 1 ? 2 : 4;
    byte[] len = readFully(in, lengthBytes, source, "the header length");
    long headerLength = 0;
    for (int i = lengthBytes - 1; i >= 0; i--) {
      headerLength = (headerLength << 8) | (len[i] & 0xff);
    }
    if (headerLength > MAX_HEADER_BYTES) {
      throw new IllegalArgumentException(source + ": bad .npy header: length " + headerLength + " bytes");
    }
    byte[] headerBytes = readFully(in, (int) headerLength, source, "the header");
    String header = new String(headerBytes,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Header h = Header.parse(header, source);

    long count = NpyArray.elementCount(h.shape);
    long bytes = count * h.dtype.itemSize();
    if (bytes > MAX_DATA_BYTES || count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(source + ": array " + Arrays.toString(h.shape) + " of "
          + bytes + " bytes is too large (limit 2 GiB per array)");
    }
    long headerTotal = 8 + lengthBytes + headerLength;
    if (available >= 0 && available - headerTotal < bytes) {
      throw new IllegalArgumentException(source + ": truncated: shape " + Arrays.toString(h.shape)
          + " of " + h.dtype.descr() + " needs " + bytes + " data bytes, the file has "
          + Math.max(0, available - headerTotal));
    }
    return new Layout(h.dtype, h.shape, headerTotal, bytes);
  }

  private static byte[] readFully(InputStream in, int n, String source, String what) throws IOException {
    byte[] b = new byte[n];
    int got = in.readNBytes(b, 0, n);
    if (got != n) {
      throw new IllegalArgumentException(
          source + ": truncated: ends after " + got + " of " + n + " bytes of " + what);
    }
    return b;
  }

  /** The three header keys, validated. */
  private record Header(NpyDtype dtype, long[] shape) {
    static Header parse(String text, String source) {
      String shown = text.strip();
      Object value;
      try {
        value = new LiteralParser(text).parseAll();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + ": bad .npy header: " + e.getMessage() + " in " + shown);
      }
      if (!(value instanceof Map<?, ?> dict)
          || !dict.keySet().equals(Set.of("descr", "fortran_order", "shape"))) {
        throw new IllegalArgumentException(source
            + ": bad .npy header: expected a dict with keys 'descr', 'fortran_order', 'shape', got " + shown);
      }
      Object descr = dict.get("descr");
      if (descr instanceof List<?>) {
        throw new IllegalArgumentException(
            source + ": structured dtypes (descr " + descr + ") are not supported; save one array per field");
      }
      if (!(descr instanceof String d)) {
        throw new IllegalArgumentException(source + ": bad .npy header: 'descr' is not a string in " + shown);
      }
      NpyDtype dtype = NpyDtype.parse(d, source);
      Object fortran = dict.get("fortran_order");
      if (!(fortran instanceof Boolean f)) {
        throw new IllegalArgumentException(source + ": bad .npy header: 'fortran_order' is not True/False in " + shown);
      }
      if (f) {
        throw new IllegalArgumentException(source + ": Fortran-order arrays (fortran_order: True) are not "
            + "supported; save np.ascontiguousarray(a) instead");
      }
      if (!(dict.get("shape") instanceof Tuple t)) {
        throw new IllegalArgumentException(source + ": bad .npy header: 'shape' is not a tuple in " + shown);
      }
      long[] shape = new long[t.items().size()];
      for (int i = 0; i < shape.length; i++) {
        if (!(t.items().get(i) instanceof Long dim) || dim < 0) {
          throw new IllegalArgumentException(
              source + ": bad .npy header: shape " + t + " has a dimension that is not an integer >= 0");
        }
        shape[i] = dim;
      }
      return new Header(dtype, shape);
    }
  }

  /** A Python tuple, told apart from a list (a list descr means a structured dtype). */
  private record Tuple(List<Object> items) {
    @Override
    public String toString() {
      List<String> parts = items.stream().map(String::valueOf).toList();
      return "(" + String.join(", ", parts) + (parts.size() == 1 ? ",)" : ")");
    }
  }

  /**
   * The subset of Python literal syntax that {@code repr} of a header dict uses: dicts, tuples, lists,
   * quoted strings, integers (with an optional Python 2 {@code L}), True, False and None.
   */
  private static final class LiteralParser {
    private static final Object NONE = new Object() {
      @Override
      public String toString() {
        return "None";
      }
    };
    private final String s;
    private int pos;

    LiteralParser(String s) {
      this.s = s;
    }

    Object parseAll() {
      Object v = value();
      skipSpace();
      if (pos != s.length()) {
        throw error("unexpected '" + s.charAt(pos) + "'");
      }
      return v;
    }

    private Object value() {
      skipSpace();
      if (pos >= s.length()) {
        throw error("unexpected end");
      }
      char c = s.charAt(pos);
      switch (c) {
        case '{': {
          pos++;
          Map<String, Object> map = new LinkedHashMap<>();
          while (!closes('}')) {
            Object key = value();
            if (!(key instanceof String k)) {
              throw error("dict key " + key + " is not a string");
            }
            expect(':');
            if (map.put(k, value()) != null) {
              throw error("duplicate key '" + k + "'");
            }
            separator('}');
          }
          return map;
        }
        case '(':
        case '[': {
          pos++;
          char close = c == '(' ? ')' : ']';
          List<Object> items = new ArrayList<>();
          while (!closes(close)) {
            items.add(value());
            separator(close);
          }
          return c == '(' ? new Tuple(items) : items;
        }
        case '\'':
        case '"':
          return string(c);
        default:
          if (c == '-' || Character.isDigit(c)) {
            return integer();
          }
          for (String word : List.of("True", "False", "None")) {
            if (s.startsWith(word, pos)) {
              pos += word.length();
              return word.equals("None") ? NONE : Boolean.valueOf(word.equals("True"));
            }
          }
          throw error("unexpected '" + c + "'");
      }
    }

    private String string(char quote) {
      StringBuilder out = new StringBuilder();
      pos++;
      while (pos < s.length() && s.charAt(pos) != quote) {
        char c = s.charAt(pos++);
        if (c == '\\' && pos < s.length()) {
          c = s.charAt(pos++);
        }
        out.append(c);
      }
      if (pos >= s.length()) {
        throw error("unterminated string");
      }
      pos++;
      return out.toString();
    }

    private Long integer() {
      int start = pos;
      if (s.charAt(pos) == '-') {
        pos++;
      }
      while (pos < s.length() && Character.isDigit(s.charAt(pos))) {
        pos++;
      }
      String digits = s.substring(start, pos);
      if (pos < s.length() && s.charAt(pos) == 'L') {
        pos++;
      }
      try {
        return Long.parseLong(digits);
      } catch (NumberFormatException e) {
        throw error("bad integer '" + digits + "'");
      }
    }

    /** Skips blanks; consumes and returns true if the next character closes the container. */
    private boolean closes(char close) {
      skipSpace();
      if (pos < s.length() && s.charAt(pos) == close) {
        pos++;
        return true;
      }
      return false;
    }

    /** After an item: a comma, or the closing bracket (left for {@link #closes}). */
    private void separator(char close) {
      skipSpace();
      if (pos < s.length() && s.charAt(pos) == ',') {
        pos++;
      } else if (pos >= s.length() || s.charAt(pos) != close) {
        throw error("expected ',' or '" + close + "'");
      }
    }

    private void expect(char c) {
      skipSpace();
      if (pos >= s.length() || s.charAt(pos) != c) {
        throw error("expected '" + c + "'");
      }
      pos++;
    }

    private void skipSpace() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    private IllegalArgumentException error(String what) {
      return new IllegalArgumentException(what + " at position " + pos);
    }
  }
}

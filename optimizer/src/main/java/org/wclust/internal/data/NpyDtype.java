package org.wclust.internal.data;

/**
 * The NumPy element types the readers accept, by their little-endian {@code descr} as NumPy writes it
 * ({@code |u1}, {@code <f4}, ...).
 */
public enum NpyDtype {
  BOOL("b1", 1, true),
  INT8("i1", 1, true),
  UINT8("u1", 1, true),
  INT16("i2", 2, true),
  UINT16("u2", 2, true),
  INT32("i4", 4, true),
  UINT32("u4", 4, true),
  INT64("i8", 8, true),
  FLOAT16("f2", 2, false),
  FLOAT32("f4", 4, false),
  FLOAT64("f8", 8, false);

  private final String code;
  private final int itemSize;
  private final boolean integral;

  NpyDtype(String code, int itemSize, boolean integral) {
    this.code = code;
    this.itemSize = itemSize;
    this.integral = integral;
  }

  /** Bytes per element. */
  public int itemSize() {
    return itemSize;
  }

  /** Whether the values are integers (bool counts as 0/1). */
  public boolean isIntegral() {
    return integral;
  }

  /** The descr NumPy writes for this type, e.g. {@code |u1} or {@code <f4}. */
  public String descr() {
    return (itemSize == 1 ? "|" : "<") + code;
  }

  /**
   * The type of a {@code descr} string, or an {@link IllegalArgumentException} saying why it is not
   * supported (big-endian, object, string, structured ...); {@code where} names the file or array.
   */
  static NpyDtype parse(String descr, String where) {
    if (descr.length() < 2) {
      throw new IllegalArgumentException(where + ": unsupported dtype '" + descr + "'");
    }
    char order = descr.charAt(0);
    String code = descr.substring(1);
    for (NpyDtype t : values()) {
      if (!t.code.equals(code)) {
        continue;
      }
      // Byte order is meaningless for one-byte types; NumPy writes '|' but '<', '>' and '=' read alike.
      if (t.itemSize == 1 && "|<>=".indexOf(order) >= 0) {
        return t;
      }
      if (order == '<') {
        return t;
      }
      if (order == '>') {
        throw new IllegalArgumentException(where + ": big-endian dtype '" + descr
            + "' is not supported; save it little-endian, e.g. a.astype('<" + code + "')");
      }
      throw new IllegalArgumentException(where + ": dtype '" + descr
          + "' has no explicit little-endian byte order");
    }
    if (code.startsWith("O")) {
      throw new IllegalArgumentException(where + ": object arrays (dtype '" + descr
          + "') are not supported; save a numeric array");
    }
    throw new IllegalArgumentException(where + ": unsupported dtype '" + descr
        + "'; supported: bool, int8/16/32/64, uint8/16/32, float16/32/64");
  }
}

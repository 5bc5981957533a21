package org.wclust.internal.data;

import java.util.Locale;
import java.util.Set;

/** The image formats TensorFlow's {@code DecodeImage} reads, told by file name and by signature. */
final class ImageFormats {
  /** The extensions Keras {@code image_dataset_from_directory} lists. */
  private static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif");

  /** Bytes needed by {@link #of}. */
  static final int SIGNATURE_BYTES = 8;

  private ImageFormats() {}

  static boolean hasImageExtension(String fileName) {
    int dot = fileName.lastIndexOf('.');
    return dot > 0 && EXTENSIONS.contains(fileName.substring(dot + 1).toLowerCase(Locale.ROOT));
  }

  /**
   * Whether a whole value (a TFRecord bytes feature) is an encoded image, checked more strictly than
   * {@link #of} because raw pixels can start like a short signature: a JPEG must also end with its EOI
   * marker, a GIF start with GIF87a/GIF89a, a BMP's header must state the value's length.
   */
  static boolean isEncoded(byte[] b) {
    String format = of(b, b.length);
    if (format == null) {
      return false;
    }
    int n = b.length;
    return switch (format) {
      case "JPEG" -> n >= 4 && (b[n - 2] & 0xff) == 0xff && (b[n - 1] & 0xff) == 0xd9;
      case "GIF" -> n >= 6 && (b[4] == '7' || b[4] == '9') && b[5] == 'a';
      case "BMP" -> n >= 6 && ((b[2] & 0xff) | (b[3] & 0xff) << 8 | (b[4] & 0xff) << 16 | (b[5] & 0xff) << 24) == n;
      default -> true;
    };
  }

  /** "PNG", "JPEG", "GIF" or "BMP" when the bytes start with that format's signature, else null. */
  static String of(byte[] head, int length) {
    if (length >= 8 && (head[0] & 0xff) == 0x89 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G'
        && head[4] == '\r' && head[5] == '\n' && head[6] == 0x1a && head[7] == '\n') {
      return "PNG";
    }
    if (length >= 3 && (head[0] & 0xff) == 0xff && (head[1] & 0xff) == 0xd8 && (head[2] & 0xff) == 0xff) {
      return "JPEG";
    }
    if (length >= 4 && head[0] == 'G' && head[1] == 'I' && head[2] == 'F' && head[3] == '8') {
      return "GIF";
    }
    if (length >= 2 && head[0] == 'B' && head[1] == 'M') {
      return "BMP";
    }
    return null;
  }
}

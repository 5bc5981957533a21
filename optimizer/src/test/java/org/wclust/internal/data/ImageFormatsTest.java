package org.wclust.internal.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Telling encoded images from raw pixels that start alike. */
class ImageFormatsTest {
  private static byte[] u1(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return b;
  }

  @Test
  void signaturesNameTheFormat() {
    assertEquals("PNG", ImageFormats.of(u1(0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'), 8));
    assertEquals("JPEG", ImageFormats.of(u1(0xff, 0xd8, 0xff, 0xe0), 4));
    assertEquals("GIF", ImageFormats.of(u1('G', 'I', 'F', '8', '9', 'a'), 6));
    assertEquals("BMP", ImageFormats.of(u1('B', 'M', 0, 0), 4));
    assertNull(ImageFormats.of(u1(1, 2, 3, 4, 5, 6, 7, 8), 8));
  }

  @Test
  void rawPixelsStartingLikeABmpOrGifAreNotImages() {
    // two grey pixels 66, 77 spell "BM"; a real BMP states its own length at bytes 2-5
    assertFalse(ImageFormats.isEncoded(u1('B', 'M', 10, 20, 30, 40, 50, 60)));
    assertTrue(ImageFormats.isEncoded(u1('B', 'M', 8, 0, 0, 0, 50, 60)));
    assertFalse(ImageFormats.isEncoded(u1('G', 'I', 'F', '8', '0', '0')));
    assertFalse(ImageFormats.isEncoded(u1(0xff, 0xd8, 0xff, 0x10, 0x20, 0x30)), "no EOI marker");
    assertTrue(ImageFormats.isEncoded(u1(0xff, 0xd8, 0xff, 0x10, 0xff, 0xd9)));
  }

  @Test
  void imageExtensionsAreKerasOnes() {
    assertTrue(ImageFormats.hasImageExtension("a.JPG"));
    assertTrue(ImageFormats.hasImageExtension("b.jpeg"));
    assertFalse(ImageFormats.hasImageExtension("c.webp"));
    assertFalse(ImageFormats.hasImageExtension(".png"));
  }
}

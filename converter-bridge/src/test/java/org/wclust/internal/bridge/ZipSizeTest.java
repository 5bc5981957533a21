package org.wclust.internal.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZipSizeTest {
  @Test
  void equalsTheSizeOfARealZipArchiveOfTheFile(@TempDir Path tmp) throws Exception {
    byte[] content = new byte[50_000];
    new Random(3).nextBytes(content);
    for (int i = 0; i < content.length; i += 2) {
      content[i] = 0; // half compressible
    }
    Path file = tmp.resolve("model.tflite");
    Files.write(file, content);

    ByteArrayOutputStream archive = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(archive)) {
      zip.putNextEntry(new ZipEntry("model.tflite"));
      zip.write(content);
      zip.closeEntry();
    }
    assertEquals(archive.size(), ZipSize.of(file));
    assertTrue(ZipSize.of(file) < content.length, "deflate should shrink half-zero data");
  }
}

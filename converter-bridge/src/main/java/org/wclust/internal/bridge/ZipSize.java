package org.wclust.internal.bridge;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The size metric of tfmot's published results: the bytes of a zip archive (deflate, default level)
 * holding the model. Counted without writing the archive anywhere.
 */
public final class ZipSize {
  private ZipSize() {}

  /** Zipped size of a file, or of every regular file under a directory. */
  public static long of(Path path) throws IOException {
    CountingStream counter = new CountingStream();
    try (ZipOutputStream zip = new ZipOutputStream(counter)) {
      zip.setLevel(Deflater.DEFAULT_COMPRESSION);
      List<Path> files;
      if (Files.isDirectory(path)) {
        try (Stream<Path> walk = Files.walk(path)) {
          files = walk.filter(Files::isRegularFile).sorted().toList();
        }
      } else {
        files = List.of(path);
      }
      for (Path file : files) {
        String name = Files.isDirectory(path) ? path.relativize(file).toString() : file.getFileName().toString();
        zip.putNextEntry(new ZipEntry(name));
        Files.copy(file, zip);
        zip.closeEntry();
      }
    }
    return counter.count;
  }

  private static final class CountingStream extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }
}

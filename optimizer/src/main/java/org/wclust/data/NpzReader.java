package org.wclust.data;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads NumPy {@code .npz} archives as {@code np.savez} (stored) and {@code np.savez_compressed}
 * (deflate) write them: a zip whose entries {@code NAME.npy} each hold one {@code .npy} array, exposed
 * here as {@code NAME}. Arrays are read one at a time, on demand, so a caller that needs {@code x} and
 * {@code y} of a file that also holds a test split never loads the test split. Entries not ending in
 * {@code .npy} are ignored.
 */
public final class NpzReader implements Closeable {
  private final Path file;
  private final ZipFile zip;
  private final Map<String, ZipEntry> entries;

  private NpzReader(Path file, ZipFile zip, Map<String, ZipEntry> entries) {
    this.file = file;
    this.zip = zip;
    this.entries = entries;
  }

  /** Opens the archive and lists its arrays; the caller closes it. */
  public static NpzReader open(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(Files.exists(file) ? "not a file: " + file : "no such file: " + file);
    }
    ZipFile zip;
    try {
      zip = new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new IllegalArgumentException(file + ": not a .npz (zip) archive: " + e.getMessage());
    }
    Map<String, ZipEntry> entries = new LinkedHashMap<>();
    for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
      ZipEntry entry = e.nextElement();
      if (!entry.isDirectory() && entry.getName().endsWith(".npy")) {
        String name = entry.getName();
        entries.put(name.substring(0, name.length() - ".npy".length()), entry);
      }
    }
    return new NpzReader(file, zip, Collections.unmodifiableMap(entries));
  }

  /** Reads every array of the archive, in archive order. */
  public static Map<String, NpyArray> readAll(Path file) throws IOException {
    try (NpzReader npz = open(file)) {
      Map<String, NpyArray> out = new LinkedHashMap<>();
      for (String name : npz.names()) {
        out.put(name, npz.read(name));
      }
      return Collections.unmodifiableMap(out);
    }
  }

  public Path file() {
    return file;
  }

  /** The array names, in archive order ({@code x} for the entry {@code x.npy}). */
  public List<String> names() {
    return List.copyOf(entries.keySet());
  }

  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  /** Reads one array; a missing name fails with the names that are present. */
  public NpyArray read(String name) throws IOException {
    ZipEntry entry = entries.get(name);
    if (entry == null) {
      throw new IllegalArgumentException(file + " has no array '" + name + "'; arrays present: "
          + (entries.isEmpty() ? "none" : String.join(", ", entries.keySet())));
    }
    String source = file + ":" + name;
    // np.savez stores entries uncompressed, and ZipFile checks no CRC on those: check it here, so a
    // damaged byte fails instead of silently changing the data
    CheckedInputStream checked = new CheckedInputStream(zip.getInputStream(entry), new CRC32());
    try (InputStream in = new BufferedInputStream(checked)) {
      NpyArray array = NpyReader.read(in, source, entry.getSize());
      in.transferTo(OutputStream.nullOutputStream());
      if (entry.getCrc() != -1 && checked.getChecksum().getValue() != entry.getCrc()) {
        throw new IllegalArgumentException(source + ": the data fails its zip checksum (the file was damaged)");
      }
      return array;
    } catch (ZipException e) {
      // Unsupported compression methods (bzip2, lzma) and corrupt entries surface here.
      throw new IllegalArgumentException(source + ": cannot read zip entry " + entry.getName() + ": "
          + e.getMessage() + " (np.savez and np.savez_compressed write stored or deflate entries)");
    }
  }

  @Override
  public void close() throws IOException {
    zip.close();
  }
}

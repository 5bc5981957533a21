package org.wclust.internal.data;

import java.io.BufferedInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
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

  /**
   * An array stored uncompressed ({@code np.savez}) as a read-only memory map of its data, or empty
   * when it is compressed or its zip entry cannot be located by its local header. The zip CRC of the
   * entry is checked once, over the mapped bytes.
   */
  Optional<MappedArray> map(String name) throws IOException {
    ZipEntry entry = entries.get(name);
    if (entry == null || entry.getMethod() != ZipEntry.STORED) {
      return Optional.empty();
    }
    String source = file + ":" + name;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long start = dataStart(ch, entry);
      if (start < 0) {
        return Optional.empty();
      }
      long size = entry.getCompressedSize();
      NpyReader.Layout layout = NpyReader.readLayout(
          new BufferedInputStream(Channels.newInputStream(ch.position(start))), source, size);
      MappedByteBuffer whole = ch.map(FileChannel.MapMode.READ_ONLY, start, size);
      CRC32 crc = new CRC32();
      crc.update(whole.duplicate());
      if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
        throw new IllegalArgumentException(source + ": the data fails its zip checksum (the file was damaged)");
      }
      ByteBuffer data = whole.slice((int) layout.headerBytes(), (int) layout.dataBytes())
          .order(ByteOrder.LITTLE_ENDIAN);
      return Optional.of(new MappedArray(source, layout.dtype(), layout.shape(), data));
    }
  }

  /**
   * Where the rows (first dimension) of an array stored uncompressed lie in the file, for a reader that
   * takes byte ranges; empty when it is compressed, 0-d, or its entry cannot be located.
   */
  Optional<OnDisk> rows(String name, double scale) throws IOException {
    ZipEntry entry = entries.get(name);
    if (entry == null || entry.getMethod() != ZipEntry.STORED) {
      return Optional.empty();
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long start = dataStart(ch, entry);
      if (start < 0) {
        return Optional.empty();
      }
      NpyReader.Layout layout = NpyReader.readLayout(
          new BufferedInputStream(Channels.newInputStream(ch.position(start))), file + ":" + name,
          entry.getCompressedSize());
      return NpyReader.rows(file, start + layout.headerBytes(), layout, scale);
    }
  }

  /** An array's data in a memory map; see {@link #map}. */
  record MappedArray(String source, NpyDtype dtype, long[] shape, ByteBuffer data) {}

  /**
   * The offset of an entry's data, found by walking the local file headers from the start of the file
   * (the zip layout np.savez writes); -1 if the walk does not reach it.
   */
  private long dataStart(FileChannel ch, ZipEntry target) throws IOException {
    long at = 0;
    ByteBuffer header = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
    while (at + 30 <= ch.size()) {
      header.clear();
      ch.read(header, at);
      if (header.getInt(0) != 0x04034b50) {
        return -1;
      }
      int flags = header.getShort(6) & 0xffff;
      int nameLength = header.getShort(26) & 0xffff;
      int extraLength = header.getShort(28) & 0xffff;
      ByteBuffer nameBytes = ByteBuffer.allocate(nameLength);
      ch.read(nameBytes, at + 30);
      String entryName = new String(nameBytes.array(), java.nio.charset.StandardCharsets.UTF_8);
      long data = at + 30 + nameLength + extraLength;
      if (entryName.equals(target.getName())) {
        return data;
      }
      ZipEntry entry = zip.getEntry(entryName);
      if (entry == null || (flags & 8) != 0) {
        return -1; // sizes only in a data descriptor: cannot skip reliably
      }
      at = data + entry.getCompressedSize();
    }
    return -1;
  }

  @Override
  public void close() throws IOException {
    zip.close();
  }
}

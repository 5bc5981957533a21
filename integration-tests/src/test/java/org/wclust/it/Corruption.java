package org.wclust.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * One way to damage a file, applied to a working copy: truncation, a flipped byte, an empty file, a
 * directory in its place, no read permission, or a header that declares an absurd size. {@link
 * #standardSet} gives the seeded set the corrupt-input suite runs per file.
 */
record Corruption(String name, Damage damage, String directory) {
  /** Applies the damage to {@code file} in place. */
  interface Damage {
    void apply(Path file) throws IOException;
  }

  /** A damage to the file under test. */
  Corruption(String name, Damage damage) {
    this(name, damage, null);
  }

  /**
   * The same damage applied to a directory of the input instead of the file under test.
   *
   * @param relative the directory, relative to the input's copy ("" = the input itself)
   */
  Corruption onDirectory(String relative) {
    return new Corruption(name + (relative.isEmpty() ? "" : "@" + relative), damage, relative);
  }

  void apply(Path file) throws IOException {
    damage.apply(file);
  }

  /** The kind, without the position: "truncate", "flip", "empty", ... */
  String kind() {
    int at = name.indexOf('@');
    return at < 0 ? name : name.substring(0, at);
  }

  /**
   * Truncations at 32 offsets spread evenly over the file, 32 single-byte flips at seeded random
   * positions (each XORs a seeded non-zero value), an empty file, a directory in the file's place and
   * a file without read permission.
   */
  static List<Corruption> standardSet(long size, long seed) {
    List<Corruption> out = new ArrayList<>();
    for (int i = 1; i <= 32; i++) {
      long offset = size * i / 33;
      out.add(new Corruption("truncate@" + offset, f -> truncate(f, offset)));
    }
    Random random = new Random(seed);
    for (int i = 0; i < 32; i++) {
      long offset = (long) (random.nextDouble() * size);
      int xor = 1 + random.nextInt(255);
      out.add(new Corruption("flip@" + offset + "^" + xor, f -> flip(f, offset, xor)));
    }
    out.add(new Corruption("empty", f -> truncate(f, 0)));
    out.add(new Corruption("directory-for-file", f -> {
      Files.delete(f);
      Files.createDirectory(f);
    }));
    out.add(new Corruption("unreadable", f -> f.toFile().setReadable(false, false)));
    return out;
  }

  /** A directory replaced by a regular file of the same name. */
  static Corruption fileForDirectory() {
    return new Corruption("file-for-directory", dir -> {
      deleteTree(dir);
      Files.writeString(dir, "not a directory\n");
    });
  }

  /** An .npy whose header declares {@code shape[0] = 10^12} examples, the rest of the file unchanged. */
  static Corruption npyAbsurdShape() {
    return new Corruption("npy-shape-1e12", f -> Files.write(f, npyWithFirstDim(Files.readAllBytes(f))));
  }

  /** An .npz whose member {@code x.npy} declares {@code shape[0] = 10^12}, with a valid zip CRC. */
  static Corruption npzAbsurdShape() {
    return new Corruption("npz-shape-1e12", f -> {
      ByteArrayOutputStream rebuilt = new ByteArrayOutputStream();
      try (ZipInputStream in = new ZipInputStream(Files.newInputStream(f));
          ZipOutputStream out = new ZipOutputStream(rebuilt)) {
        for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
          byte[] data = in.readAllBytes();
          if (e.getName().equals("x.npy")) {
            data = npyWithFirstDim(data);
          }
          ZipEntry copy = new ZipEntry(e.getName());
          copy.setMethod(ZipEntry.STORED);
          copy.setSize(data.length);
          CRC32 crc = new CRC32();
          crc.update(data);
          copy.setCrc(crc.getValue());
          out.putNextEntry(copy);
          out.write(data);
          out.closeEntry();
        }
      }
      Files.write(f, rebuilt.toByteArray());
    });
  }

  /** A TFRecord whose first record declares a length of 2^60 bytes, with a matching length CRC. */
  static Corruption tfrecordAbsurdLength() {
    return new Corruption("tfrecord-length-2^60", f -> {
      byte[] bytes = Files.readAllBytes(f);
      ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(0, 1L << 60);
      CRC32C crc = new CRC32C();
      crc.update(bytes, 0, 8);
      int c = (int) crc.getValue();
      b.putInt(8, ((c >>> 15) | (c << 17)) + 0xa282ead8);
      Files.write(f, bytes);
    });
  }

  /** A TensorFlow.js model.json whose first weight declares 10^12 values. */
  static Corruption tfjsAbsurdShape() {
    return new Corruption("tfjs-shape-1e12", f -> {
      String json = Files.readString(f);
      int at = json.indexOf("\"shape\"", json.indexOf("weightsManifest"));
      int open = json.indexOf('[', at);
      int close = json.indexOf(']', open);
      Files.writeString(f, json.substring(0, open) + "[1000000,1000000]" + json.substring(close + 1));
    });
  }

  private static byte[] npyWithFirstDim(byte[] npy) {
    int headerLength = (npy[8] & 0xff) | (npy[9] & 0xff) << 8; // format 1.0
    String header = new String(npy, 10, headerLength, StandardCharsets.ISO_8859_1);
    int open = header.indexOf("'shape': (") + "'shape': (".length();
    int comma = header.indexOf(',', open);
    String changed = header.substring(0, open) + "1000000000000" + header.substring(comma);
    // keep the header length (padding spaces before the newline absorb the longer number)
    int grow = changed.length() - header.length();
    changed = changed.substring(0, changed.length() - 1).replaceFirst(" {" + grow + "}$", "") + "\n";
    if (changed.length() != header.length()) {
      throw new IllegalStateException("no room in the .npy header padding");
    }
    byte[] out = npy.clone();
    System.arraycopy(changed.getBytes(StandardCharsets.ISO_8859_1), 0, out, 10, headerLength);
    return out;
  }

  private static void truncate(Path f, long size) throws IOException {
    try (var channel = Files.newByteChannel(f, java.nio.file.StandardOpenOption.WRITE)) {
      channel.truncate(size);
    }
  }

  private static void flip(Path f, long offset, int xor) throws IOException {
    byte[] bytes = Files.readAllBytes(f);
    bytes[(int) offset] ^= (byte) xor;
    Files.write(f, bytes);
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        q.toFile().setReadable(true, false);
        q.toFile().setWritable(true, false);
        Files.delete(q);
      }
    }
  }
}

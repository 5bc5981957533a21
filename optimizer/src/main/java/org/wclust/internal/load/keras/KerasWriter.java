package org.wclust.internal.load.keras;

import io.jhdf.Superblock;
import io.jhdf.WritableGroupImpl;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.api.WritableGroup;
import io.jhdf.storage.HdfFileChannel;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Array;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.load.ModelLoadException;

/**
 * Writes a Keras 3 {@code .keras} file: the source file's entries (config.json, metadata.json,
 * assets) unchanged and its {@code model.weights.h5} rewritten with jHDF, group for group and
 * dataset for dataset, with some weights replaced. The output appears complete or not at all.
 *
 * <p>jHDF's {@code WritableHdfFile} writes a version string at the channel position when it closes,
 * which is the end of the last dataset written, not the end of the file, and so overwrites the
 * object header after it; this class drives jHDF's group writer itself and leaves the string out.
 */
public final class KerasWriter {
  private static final String WEIGHTS = "model.weights.h5";
  private static final long ROOT_GROUP_ADDRESS = 64;

  private KerasWriter() {}

  /**
   * @param replacements new values by HDF5 dataset path (see {@link KerasFile#datasetPath}); each
   *     must have the size of the dataset it replaces
   */
  public static void write(KerasFile source, Map<String, HostTensor> replacements, Path output)
      throws ModelLoadException, IOException {
    if (source.format() != KerasFile.Format.KERAS_V3 || source.hdf() == null) {
      throw new ModelLoadException("only a Keras 3 .keras input can be written as .keras; "
          + source.path() + " is a legacy .h5 file");
    }
    if (Files.exists(output)) {
      throw new IOException("output already exists: " + output);
    }
    Path absolute = output.toAbsolutePath();
    Path dir = absolute.getParent();
    Files.createDirectories(dir);
    Path weights = Files.createTempFile(dir, ".wclust-", ".h5");
    Path zip = Files.createTempFile(dir, ".wclust-", ".keras");
    try {
      Set<String> used = new HashSet<>();
      writeWeights(source.hdf(), replacements, used, weights);
      Set<String> unused = new HashSet<>(replacements.keySet());
      unused.removeAll(used);
      if (!unused.isEmpty()) {
        throw new ModelLoadException("no such weights in " + source.path() + ": " + unused);
      }
      try (ZipFile in = new ZipFile(source.path().toFile());
          ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
        for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements(); ) {
          ZipEntry entry = e.nextElement();
          out.putNextEntry(new ZipEntry(entry.getName()));
          if (entry.getName().equals(WEIGHTS)) {
            Files.copy(weights, out);
          } else {
            try (InputStream data = in.getInputStream(entry)) {
              data.transferTo(out);
            }
          }
          out.closeEntry();
        }
      }
      Files.move(zip, absolute, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(weights);
      Files.deleteIfExists(zip);
    }
  }

  private static void writeWeights(Group source, Map<String, HostTensor> replacements, Set<String> used,
      Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      Superblock.SuperblockV2V3 superblock = new Superblock.SuperblockV2V3();
      HdfFileChannel hdf = new HdfFileChannel(channel, superblock);
      WritableGroupImpl root = new WritableGroupImpl(null, "/");
      copy(source, root, replacements, used);
      root.write(hdf, ROOT_GROUP_ADDRESS);
      hdf.write(superblock.toBuffer(channel.size()), 0L);
    }
  }

  private static void copy(Group source, WritableGroup target, Map<String, HostTensor> replacements,
      Set<String> used) {
    for (Map.Entry<String, Attribute> a : source.getAttributes().entrySet()) {
      target.putAttribute(a.getKey(), a.getValue().getData());
    }
    for (Node node : source) {
      if (node instanceof Group group) {
        copy(group, target.putGroup(group.getName()), replacements, used);
      } else if (node instanceof Dataset dataset) {
        HostTensor value = replacements.get(dataset.getPath());
        Object data = dataset.getData();
        if (value != null) {
          used.add(dataset.getPath());
          int[] dims = dataset.getDimensions();
          float[] flat = value.toFloats();
          if (Arrays.stream(dims).asLongStream().reduce(1, (a, b) -> a * b) != flat.length) {
            throw new IllegalArgumentException("replacement for " + dataset.getPath() + " has " + flat.length
                + " values, the dataset " + Arrays.toString(dims));
          }
          data = dims.length == 0 ? flat[0] : nested(flat, dims);
        }
        target.putDataset(dataset.getName(), data);
      }
    }
  }

  /** A float[d0][d1]... array holding {@code flat} in row-major order. */
  private static Object nested(float[] flat, int[] dims) {
    Object array = Array.newInstance(float.class, dims);
    fill(array, flat, dims, 0, 0);
    return array;
  }

  private static int fill(Object array, float[] flat, int[] dims, int depth, int offset) {
    if (depth == dims.length - 1) {
      System.arraycopy(flat, offset, array, 0, dims[depth]);
      return offset + dims[depth];
    }
    for (int i = 0; i < dims[depth]; i++) {
      offset = fill(Array.get(array, i), flat, dims, depth + 1, offset);
    }
    return offset;
  }

}

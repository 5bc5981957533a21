package org.wclust.internal.data;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A folder of images in the layout of Keras {@code image_dataset_from_directory}: one sub-folder per
 * class (labels = the classes' positions in sorted order, or in the order of {@code --class-names}),
 * each holding JPEG/PNG/BMP/GIF files at any depth; or, for unlabelled data, image files directly in
 * the folder. Files are listed in sorted order; only their paths are kept in memory.
 *
 * <p>Each file's first bytes are checked against the image signatures: a file that is not an image
 * (by extension or by content) or cannot be read is skipped and counted, or with {@code strict} is an
 * error, as is a class folder without images.
 */
final class ImageFolder {
  /** The listed images: {@code files[i]} (relative to the root) has label {@code labels[i]}. */
  record Listing(Path root, String[] files, int[] labels, ImmutableList<String> classes, int skipped) {}

  private ImageFolder() {}

  static boolean looksLikeImageFolder(Path dir) throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.anyMatch(p -> Files.isDirectory(p) || ImageFormats.hasImageExtension(p.getFileName().toString()));
    }
  }

  /**
   * @param labelled whether labels are wanted: from class sub-folders if there are any; unlabelled
   *     data may be class folders too (labels then dropped) or image files directly in {@code root}
   * @param required whether labels are required (class sub-folders must then exist)
   * @param warnings one line for each lenient skip
   */
  static Listing list(Path root, ImageOptions options, boolean labelled, boolean required,
      Consumer<String> warnings) throws IOException {
    List<Path> classDirs = new ArrayList<>();
    List<Path> looseFiles = new ArrayList<>();
    try (Stream<Path> entries = Files.list(root)) {
      entries.sorted().forEach(p -> (Files.isDirectory(p) ? classDirs : looseFiles).add(p));
    }
    Counter counter = new Counter(options.strict());
    List<String> files = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    ImmutableList<String> classes;
    if (classDirs.isEmpty()) {
      labelled = false;
      if (required) {
        throw new IllegalArgumentException(root + " has no class sub-folders; labelled image data needs one "
            + "folder per class (DIR/CLASS/IMAGE.png)");
      }
      classes = ImmutableList.of();
      for (Path f : looseFiles) {
        addIfImage(root, f, -1, files, labels, counter);
      }
    } else {
      classes = classOrder(root, classDirs, options.classNames());
      for (int c = 0; c < classes.size(); c++) {
        Path dir = root.resolve(classes.get(c));
        int before = files.size();
        List<Path> members;
        try (Stream<Path> walk = Files.walk(dir)) {
          members = walk.filter(Files::isRegularFile).sorted().toList();
        }
        for (Path f : members) {
          addIfImage(root, f, c, files, labels, counter);
        }
        if (files.size() == before) {
          String msg = "class folder " + dir + " holds no images";
          if (options.strict()) {
            throw new IllegalArgumentException(msg);
          }
          warnings.accept(msg + " (class " + c + " kept so that the other labels stay)");
        }
      }
      for (Path f : looseFiles) {
        counter.skip(f, "a file beside the class folders");
      }
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException(root + " holds no JPEG/PNG/BMP/GIF images"
          + (counter.count > 0 ? " (" + counter.count + " other files, e.g. " + counter.first + ")" : ""));
    }
    if (counter.count > 0) {
      warnings.accept("skipped " + counter.count + " files in " + root + " that are not readable images, e.g. "
          + counter.first + " (" + counter.firstReason + "); --strict makes this an error");
    }
    return new Listing(root, files.toArray(new String[0]),
        labelled ? labels.stream().mapToInt(Integer::intValue).toArray() : null, classes, counter.count);
  }

  private static ImmutableList<String> classOrder(Path root, List<Path> dirs, List<String> given) {
    TreeSet<String> present = new TreeSet<>();
    dirs.forEach(d -> present.add(d.getFileName().toString()));
    if (given.isEmpty()) {
      return ImmutableList.copyOf(present);
    }
    TreeSet<String> missing = new TreeSet<>(given);
    missing.removeAll(present);
    TreeSet<String> extra = new TreeSet<>(present);
    extra.removeAll(given);
    if (!missing.isEmpty() || !extra.isEmpty()) {
      throw new IllegalArgumentException("--class-names must name the class folders of " + root + " exactly"
          + (missing.isEmpty() ? "" : "; no folder for " + missing) + (extra.isEmpty() ? "" : "; not named: " + extra));
    }
    return ImmutableList.copyOf(given);
  }

  private static void addIfImage(Path root, Path f, int label, List<String> files, List<Integer> labels,
      Counter counter) {
    String name = f.getFileName().toString();
    if (!ImageFormats.hasImageExtension(name)) {
      counter.skip(f, "not a .jpg/.jpeg/.png/.bmp/.gif file");
      return;
    }
    byte[] head = new byte[ImageFormats.SIGNATURE_BYTES];
    int n;
    try (InputStream in = Files.newInputStream(f)) {
      n = in.readNBytes(head, 0, head.length);
    } catch (IOException e) {
      counter.skip(f, "unreadable: " + e.getMessage());
      return;
    }
    if (ImageFormats.of(head, n) == null) {
      counter.skip(f, "not a JPEG/PNG/BMP/GIF image by its content");
      return;
    }
    files.add(root.relativize(f).toString());
    labels.add(label);
  }

  /** Counts skipped files, or fails on the first one when strict. */
  private static final class Counter {
    final boolean strict;
    int count;
    Path first;
    String firstReason;

    Counter(boolean strict) {
      this.strict = strict;
    }

    void skip(Path f, String reason) {
      if (strict) {
        throw new IllegalArgumentException(f + ": " + reason + " (without --strict such files are skipped)");
      }
      if (count++ == 0) {
        first = f;
        firstReason = reason;
      }
    }
  }

  /** The listed files as the source of an {@link EncodedImageStore}. */
  record FileSource(Path root, String[] files) implements EncodedImageStore.Source {
    @Override
    public int size() {
      return files.length;
    }

    @Override
    public byte[] bytes(int i) throws IOException {
      return Files.readAllBytes(root.resolve(files[i]));
    }

    @Override
    public String name(int i) {
      return root.resolve(files[i]).toString();
    }

    @Override
    public EncodedImageStore.Source slice(int from, int to) {
      return new FileSource(root, Arrays.copyOfRange(files, from, to));
    }

    @Override
    public String describe() {
      return "image files";
    }
  }
}

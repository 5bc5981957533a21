package org.wclust.bridge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * An output directory that appears complete or not at all: everything is written into a hidden
 * sibling directory, which {@link #commit()} renames onto the target. Closing without committing
 * deletes the partial work, so a failure never leaves a half-written output behind.
 */
public final class AtomicOutputDirectory implements AutoCloseable {
  private final Path target;
  private final Path staging;
  /** The outermost parent directory this class created, removed again if nothing is committed. */
  private final Path createdParent;
  private boolean committed;

  private AtomicOutputDirectory(Path target, Path staging, Path createdParent) {
    this.target = target;
    this.staging = staging;
    this.createdParent = createdParent;
  }

  /** Refuses an existing target up front, so no work is wasted on an output that cannot be written. */
  public static AtomicOutputDirectory create(Path target) throws IOException {
    Path absolute = target.toAbsolutePath().normalize();
    if (Files.exists(absolute)) {
      throw new IOException("output already exists: " + target);
    }
    Path parent = absolute.getParent();
    Path createdParent = null;
    for (Path p = parent; p != null && !Files.exists(p); p = p.getParent()) {
      createdParent = p;
    }
    Files.createDirectories(parent);
    Path staging = Files.createTempDirectory(parent, "." + absolute.getFileName() + ".partial-");
    return new AtomicOutputDirectory(absolute, staging, createdParent);
  }

  /** The directory to write into until {@link #commit()}. */
  public Path path() {
    return staging;
  }

  public void commit() throws IOException {
    if (Files.exists(target)) {
      throw new IOException("output appeared while writing: " + target);
    }
    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    committed = true;
  }

  @Override
  public void close() {
    if (!committed) {
      deleteRecursively(createdParent != null ? createdParent : staging);
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

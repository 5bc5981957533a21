package org.wclust.internal.bridge;

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
 *
 * <p>The staging directory's name carries the writer's process id ({@code .OUT.partial-PID-...}): a
 * process killed before it could clean up (kill -9, power loss) leaves its staging directory, and the
 * next writer of the same OUT removes it once that process is gone. Two writers of one OUT race
 * safely: the rename is atomic and refuses a non-empty target, so one wins and the other fails.
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
    AtomicOutputDirectory out = new AtomicOutputDirectory(absolute, null, createdParent);
    try {
      Files.createDirectories(parent);
      removeStaleStaging(parent, absolute.getFileName().toString());
      Path staging = Files.createTempDirectory(parent, stagingPrefix(absolute.getFileName().toString())
          + ProcessHandle.current().pid() + "-");
      return new AtomicOutputDirectory(absolute, staging, createdParent);
    } catch (IOException e) {
      out.close();
      throw out.writeFailed(e);
    }
  }

  private static String stagingPrefix(String name) {
    return "." + name + ".partial-";
  }

  /** Deletes the staging directories of this output whose writing process no longer runs. */
  private static void removeStaleStaging(Path parent, String name) throws IOException {
    String prefix = stagingPrefix(name);
    try (Stream<Path> siblings = Files.list(parent)) {
      for (Path sibling : siblings.toList()) {
        String rest = sibling.getFileName().toString();
        if (!rest.startsWith(prefix) || !Files.isDirectory(sibling)) {
          continue;
        }
        rest = rest.substring(prefix.length());
        int dash = rest.indexOf('-');
        if (dash <= 0 || !rest.substring(0, dash).chars().allMatch(Character::isDigit)) {
          continue; // not ours
        }
        if (ProcessHandle.of(Long.parseLong(rest.substring(0, dash))).isEmpty()) {
          deleteRecursively(sibling);
        }
      }
    }
  }

  /**
   * A write into the staging directory failed: the same error naming the output the user asked for
   * (the staging directory's name means nothing to them), and saying when the file system is full.
   */
  public IOException writeFailed(IOException e) {
    String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (reason.contains("No space left on device")) {
      reason = "the file system is full (No space left on device)";
    } else if (e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null) {
      reason = fs.getReason();
    }
    return new IOException("cannot write " + target + ": " + reason, e);
  }

  /** The directory to write into until {@link #commit()}. */
  public Path path() {
    return staging;
  }

  public void commit() throws IOException {
    if (Files.exists(target)) {
      throw new IOException("output appeared while writing: " + target);
    }
    try {
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
      throw new IOException("output appeared while writing: " + target + " (another process wrote it first)", e);
    }
    committed = true;
  }

  @Override
  public void close() {
    if (!committed && (createdParent != null || staging != null)) {
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

package org.wclust.internal.bridge;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicOutputDirectoryTest {
  @Test
  void targetAppearsOnlyOnCommit(@TempDir Path tmp) throws Exception {
    Path target = tmp.resolve("out");
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(target)) {
      Files.writeString(out.path().resolve("file.txt"), "x");
      assertFalse(Files.exists(target));
      out.commit();
    }
    assertTrue(Files.isRegularFile(target.resolve("file.txt")));
    assertOnlyEntry(tmp, "out");
  }

  @Test
  void closingWithoutCommitLeavesNothing(@TempDir Path tmp) throws Exception {
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(tmp.resolve("out"))) {
      Files.writeString(out.path().resolve("partial.txt"), "x");
    }
    try (Stream<Path> entries = Files.list(tmp)) {
      assertTrue(entries.findAny().isEmpty());
    }
  }

  @Test
  void parentsItCreatedAreRemovedWhenNothingIsCommitted(@TempDir Path tmp) throws Exception {
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(tmp.resolve("new/dir/out"))) {
      assertTrue(Files.isDirectory(tmp.resolve("new/dir")));
    }
    assertFalse(Files.exists(tmp.resolve("new")));
  }

  @Test
  void refusesAnExistingTarget(@TempDir Path tmp) throws Exception {
    Path target = Files.createDirectory(tmp.resolve("out"));
    IOException e = assertThrows(IOException.class, () -> AtomicOutputDirectory.create(target));
    assertTrue(e.getMessage().contains("already exists"), e.getMessage());
  }

  private static void assertOnlyEntry(Path dir, String name) throws IOException {
    try (Stream<Path> entries = Files.list(dir)) {
      assertTrue(entries.allMatch(p -> p.getFileName().toString().equals(name)));
    }
  }
}

package org.wclust.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** The checks commands that read a model and write an output make before any work. */
final class CommandChecks {
  private CommandChecks() {}

  /** Fails with one line unless {@code input} exists and {@code output} does not. */
  static void inputExistsOutputDoesNot(Path input, Path output) {
    if (Files.exists(output)) {
      throw new IllegalArgumentException("output already exists: " + output);
    }
    if (!Files.exists(input)) {
      throw new IllegalArgumentException("no such file or directory: " + input);
    }
  }
}

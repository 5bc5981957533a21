package org.wclust.internal.load;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * What went wrong reading a file, in a user's words: NIO's exceptions often say only the path
 * ({@code AccessDeniedException: x.h5}) or nothing ({@code EOFException}).
 */
public final class ReadErrors {
  private ReadErrors() {}

  public static String describe(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof EOFException) {
      return "it ends early (truncated?)";
    }
    if (e instanceof FileSystemException fs && fs.getReason() != null) {
      return fs.getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}

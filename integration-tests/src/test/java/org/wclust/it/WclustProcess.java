package org.wclust.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@code ./wclust} launcher run as a separate process, as a user runs it: for the contract that
 * only a process shows (its exit status, everything on its stderr, no JVM crash file).
 */
final class WclustProcess {
  static final Path LAUNCHER = Paths.get("..", "wclust").toAbsolutePath().normalize();

  /** What a finished run did. */
  record Result(int exit, String out, String err) {
    List<String> errLines() {
      return err.lines().toList();
    }
  }

  private final Process process;
  // Read to EOF, which comes only once every writer is done: the JVM and the launcher's stderr filter.
  private final CompletableFuture<String> stdout;
  private final CompletableFuture<String> stderr;

  // What stdout has said so far, for a test that acts on a line of a process still running.
  private final StringBuffer stdoutSoFar = new StringBuffer();

  private WclustProcess(Process process) {
    this.process = process;
    this.stdout = readAll(process.getInputStream(), stdoutSoFar);
    this.stderr = readAll(process.getErrorStream(), new StringBuffer());
  }

  private static CompletableFuture<String> readAll(InputStream in, StringBuffer soFar) {
    return CompletableFuture.supplyAsync(() -> {
      try (in) {
        byte[] chunk = new byte[4096];
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (int n; (n = in.read(chunk)) > 0; ) {
          all.write(chunk, 0, n);
          soFar.setLength(0);
          soFar.append(all.toString(StandardCharsets.UTF_8));
        }
        return all.toString(StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /**
   * Waits until stdout contains {@code text} (true) or the process ends or {@code timeoutSeconds}
   * pass (false).
   */
  boolean awaitStdout(String text, long timeoutSeconds) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (System.nanoTime() < end) {
      if (stdoutSoFar.toString().contains(text)) {
        return true;
      }
      if (!process.isAlive()) {
        return stdoutSoFar.toString().contains(text);
      }
      Thread.sleep(100);
    }
    return false;
  }

  /** Starts {@code ./wclust ARGS} in {@code workDir} (where a JVM crash would leave hs_err_pid*.log). */
  static WclustProcess start(Path workDir, List<String> args) throws IOException {
    List<String> command = new ArrayList<>(List.of(LAUNCHER.toString()));
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile());
    pb.environment().remove("WCLUST_DEBUG");
    return new WclustProcess(pb.start());
  }

  /** Runs {@code ./wclust ARGS} to the end (at most {@code timeoutSeconds}). */
  static Result run(Path workDir, long timeoutSeconds, String... args) throws IOException, InterruptedException {
    return start(workDir, List.of(args)).await(timeoutSeconds);
  }

  Result await(long timeoutSeconds) throws IOException, InterruptedException {
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      killHard();
      throw new AssertionError("wclust did not end within " + timeoutSeconds + " s");
    }
    try {
      return new Result(process.exitValue(), stdout.get(30, TimeUnit.SECONDS), stderr.get(30, TimeUnit.SECONDS));
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException("cannot read the output of wclust", e);
    }
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** kill -9 of the JVM (the launcher execs java, so the process is the JVM itself). */
  void killHard() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }
}

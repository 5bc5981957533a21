package org.wclust.internal.bridge;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One {@code tflite_tool.py serve} process: runs the tool's commands one after the other, so that
 * TensorFlow is imported once for all of them (seconds each time; converting a small model takes
 * about one). A command's failure is answered like any result; a process that dies or hangs is
 * closed, and the call fails with the last line it wrote to stderr.
 */
final class ToolProcess implements AutoCloseable {
  /**
   * Commands one process runs before it is replaced: each conversion leaves some of TensorFlow's
   * state behind in the process, so a long-lived caller (a test run, a size search) recycles it.
   */
  static final int CALLS_PER_PROCESS = 16;

  private static final long TIMEOUT_MINUTES = 30;
  private static final Gson GSON = new Gson();
  /** Timeouts and idle closing: one daemon thread for every tool process. */
  static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "wclust-tool-watchdog");
    t.setDaemon(true);
    return t;
  });

  private final Process process;
  private final Writer requests;
  private final BufferedReader answers;
  private final Path stderrFile;
  private int calls;
  private boolean broken;

  private ToolProcess(Process process, Path stderrFile) {
    this.process = process;
    this.stderrFile = stderrFile;
    this.requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    this.answers = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  /** Starts {@code python tool serve}. */
  static ToolProcess start(Path python, Path tool) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(python.toString(), tool.toString(), "serve");
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
    Path stderrFile = Files.createTempFile("wclust-tool", ".err");
    pb.redirectError(stderrFile.toFile());
    try {
      return new ToolProcess(pb.start(), stderrFile);
    } catch (IOException e) {
      Files.deleteIfExists(stderrFile);
      throw e;
    }
  }

  long pid() {
    return process.pid();
  }

  /** Whether this process can take another command. */
  boolean usable() {
    return !broken && calls < CALLS_PER_PROCESS && process.isAlive();
  }

  /**
   * Runs one command ({@code tflite_tool.py}'s arguments) and returns its JSON result.
   *
   * @throws IOException with the tool's one-line error when the command fails, or when the process
   *     dies or takes longer than 30 minutes (the process is then unusable)
   */
  JsonObject call(List<String> args) throws IOException {
    calls++;
    // A watchdog, not a read on another thread: the caller may itself be a fork-join worker.
    AtomicBoolean timedOut = new AtomicBoolean();
    ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> {
      timedOut.set(true);
      process.destroyForcibly();
    }, TIMEOUT_MINUTES, TimeUnit.MINUTES);
    String answer;
    try {
      requests.write(GSON.toJson(args) + "\n");
      requests.flush();
      answer = answers.readLine();
    } catch (IOException e) {
      answer = null;
    } finally {
      watchdog.cancel(false);
    }
    if (answer == null) {
      if (timedOut.get()) {
        broken = true;
        throw new IOException("tflite_tool.py timed out");
      }
      throw died();
    }
    JsonObject o = JsonParser.parseString(answer).getAsJsonObject();
    if (o.has("error")) {
      throw new IOException("TFLite tool failed: " + o.get("error").getAsString());
    }
    return o.getAsJsonObject("result");
  }

  /** The failure of a process that stopped answering: its last line on stderr. */
  private IOException died() throws IOException {
    broken = true;
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    String[] lines = Files.readString(stderrFile, StandardCharsets.UTF_8).strip().split("\n");
    return new IOException("TFLite tool failed: " + lines[lines.length - 1]);
  }

  /** Ends the process (it exits when its input ends) and deletes its stderr file. */
  @Override
  public void close() throws IOException {
    try {
      requests.close();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (IOException e) {
      process.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    } finally {
      Files.deleteIfExists(stderrFile);
    }
  }

  /** Ends the process without waiting (JVM shutdown). */
  void destroy() {
    process.destroyForcibly();
    try {
      Files.deleteIfExists(stderrFile);
    } catch (IOException e) {
      // leaving a temp file behind at exit is harmless
    }
  }
}

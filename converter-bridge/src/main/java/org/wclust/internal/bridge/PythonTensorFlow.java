package org.wclust.internal.bridge;

import com.google.common.io.ByteStreams;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The Python TensorFlow installation that the TFLite converter and interpreter come from, and the
 * bridge script ({@code tflite_tool.py}) that runs inside it. Located, in order: the interpreter named
 * by {@code WCLUST_PYTHON}; the project virtualenv {@code .venv} under {@code wclust.home} or the
 * working directory and its parents (made by {@code scripts/setup-python.sh}); {@code python3}.
 */
public final class PythonTensorFlow {
  public static final String INSTALL_HINT =
      "install it with: scripts/setup-python.sh (pip install tensorflow-cpu==2.21.0 into .venv)";
  /** The command that installs tflite-micro, for TFLM compression. */
  public static final String TFLM_INSTALL_HINT =
      "install it with: scripts/setup-python.sh (pip install tflite-micro==0.dev20261023182759 into .venv)";
  /** The bridge scripts: the entry point first, then the modules it imports. */
  private static final List<String> TOOL_FILES = List.of("tflite_tool.py", "tflm_compression.py");
  private static volatile Optional<PythonTensorFlow> cached;

  private final Path python;
  /** The tool process calls share (written under this object's lock; read by the shutdown hook). */
  private volatile ToolProcess tool;
  /** The extracted tool script, once extracted; guarded by this. */
  private Path toolScript;
  /** Closes the tool process once no call came for {@link #IDLE_SECONDS}; guarded by this. */
  private ScheduledFuture<?> idleClose;

  /**
   * How long an unused tool process is kept: calls come in bursts (a model's two conversions for the
   * size report), and a process with TensorFlow loaded holds hundreds of MB that, between bursts
   * minutes apart (a size search's conversion, then clustering and fine-tuning), are better freed.
   */
  static final long IDLE_SECONDS = 60;

  /** Normally made by {@link #find()}; tests make their own to start from no tool process. */
  PythonTensorFlow(Path python) {
    this.python = python;
  }

  /** The installation, or empty when no interpreter with {@code tensorflow} importable is found. */
  public static Optional<PythonTensorFlow> find() {
    Optional<PythonTensorFlow> found = cached;
    if (found == null) {
      found = candidates().stream().filter(PythonTensorFlow::hasTensorFlow).findFirst()
          .map(PythonTensorFlow::new);
      cached = found;
    }
    return found;
  }

  /** Like {@link #find()}, failing with the install command when TensorFlow is missing. */
  public static PythonTensorFlow require() {
    return find().orElseThrow(() -> new IllegalStateException(
        "Python package 'tensorflow' not found; " + INSTALL_HINT));
  }

  public Path python() {
    return python;
  }

  /** Whether this Python can import {@code module} (e.g. {@code tflite_micro}). */
  public boolean hasModule(String module) {
    return canImport(python, module);
  }

  /**
   * Runs {@code tflite_tool.py} with the arguments and returns its JSON output. A failure of the tool
   * becomes an exception carrying the tool's one-line error. Calls share one tool process
   * ({@link ToolProcess}), started on first use and replaced every {@link ToolProcess#CALLS_PER_PROCESS}
   * calls or when it died; they run one at a time.
   */
  public synchronized JsonObject runTool(String... args) throws IOException {
    if (idleClose != null) {
      idleClose.cancel(false);
    }
    try {
      return toolProcess().call(List.of(args));
    } finally {
      idleClose = ToolProcess.WATCHDOG.schedule(this::closeIdleTool, IDLE_SECONDS, TimeUnit.SECONDS);
    }
  }

  /** The tool process for the next call: the current one, or a new one when it is spent or died. */
  private ToolProcess toolProcess() throws IOException {
    ToolProcess current = tool;
    if (current == null || !current.usable()) {
      if (current != null) {
        tool = null;
        current.close();
      } else if (toolScript == null) {
        // Once: a process still running when the JVM exits is ended with it.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          ToolProcess last = tool;
          if (last != null) {
            last.destroy();
          }
        }, "wclust-tool-shutdown"));
      }
      if (toolScript == null || !Files.isRegularFile(toolScript)) {
        toolScript = extractTool();
      }
      current = ToolProcess.start(python, toolScript);
      tool = current;
    }
    return current;
  }

  private synchronized void closeIdleTool() {
    ToolProcess current = tool;
    tool = null;
    if (current != null) {
      try {
        current.close();
      } catch (IOException e) {
        current.destroy();
      }
    }
  }

  /** The process id of the tool process the last call ran in (tests), or -1 before any. */
  synchronized long toolProcessId() {
    ToolProcess current = tool;
    return current == null ? -1 : current.pid();
  }

  /**
   * Copies the bridge scripts into a fresh temporary directory (tflite_tool.py imports its sibling
   * tflm_compression.py from there) and returns the path of tflite_tool.py.
   */
  private static Path extractTool() throws IOException {
    Path dir = Files.createTempDirectory("wclust-tools");
    dir.toFile().deleteOnExit(); // registered first, so deleted after the files in it
    for (String name : TOOL_FILES) {
      Path file = dir.resolve(name);
      try (InputStream in = PythonTensorFlow.class.getResourceAsStream(name)) {
        if (in == null) {
          throw new IOException(name + " missing from the classpath");
        }
        Files.write(file, ByteStreams.toByteArray(in));
      }
      file.toFile().deleteOnExit();
    }
    return dir.resolve(TOOL_FILES.get(0));
  }

  private static List<Path> candidates() {
    List<Path> list = new ArrayList<>();
    String env = System.getenv("WCLUST_PYTHON");
    if (env != null && !env.isBlank()) {
      list.add(Paths.get(env));
    }
    String home = System.getProperty("wclust.home");
    if (home != null) {
      list.add(Paths.get(home, ".venv", "bin", "python"));
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      list.add(dir.resolve(".venv/bin/python"));
    }
    list.add(Paths.get("python3"));
    return list;
  }

  private static boolean hasTensorFlow(Path python) {
    return canImport(python, "tensorflow");
  }

  private static boolean canImport(Path python, String module) {
    if (python.isAbsolute() && !Files.isExecutable(python)) {
      return false;
    }
    try {
      Process p = new ProcessBuilder(python.toString(), "-c", "import importlib.util,sys;"
          + "sys.exit(0 if importlib.util.find_spec('" + module + "') else 1)")
          .redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}

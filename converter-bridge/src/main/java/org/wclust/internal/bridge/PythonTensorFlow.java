package org.wclust.internal.bridge;

import com.google.common.io.ByteStreams;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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

  private PythonTensorFlow(Path python) {
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
   * becomes an exception carrying the tool's one-line error.
   */
  public JsonObject runTool(String... args) throws IOException {
    Path script = extractTool();
    List<String> command = new ArrayList<>(List.of(python.toString(), script.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
    Path stderrFile = Files.createTempFile("wclust-tool", ".err");
    pb.redirectError(stderrFile.toFile());
    Process process = pb.start();
    byte[] out;
    try (InputStream in = process.getInputStream()) {
      out = ByteStreams.toByteArray(in);
    }
    try {
      if (!process.waitFor(30, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new IOException("tflite_tool.py timed out");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new IOException("interrupted while waiting for tflite_tool.py", e);
    }
    String err = Files.readString(stderrFile, StandardCharsets.UTF_8).strip();
    Files.deleteIfExists(stderrFile);
    if (process.exitValue() != 0) {
      String[] lines = err.split("\n");
      throw new IOException("TFLite tool failed: " + lines[lines.length - 1]);
    }
    return JsonParser.parseString(new String(out, StandardCharsets.UTF_8)).getAsJsonObject();
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

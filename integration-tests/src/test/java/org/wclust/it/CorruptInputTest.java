package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.cli.WclustCommand;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoader;
import picocli.CommandLine;

/**
 * The corrupt-input suite: every file of every input format wclust reads is damaged in the ways of
 * {@link Corruption} (truncated at 32 offsets, 32 flipped bytes, emptied, replaced by a directory,
 * made unreadable, given absurd sizes), and {@code inspect}, {@code export} and {@code cluster} (for
 * data files: {@code cluster --data}) run on the damaged copy, in this JVM through the picocli entry
 * point. Each run must end within {@link #TIME_BOUND_S} with either
 *
 * <ul>
 *   <li>exit 0 and the intact model's result (same inspect table; the written model computes the
 *       intact run's outputs within 1e-5), or
 *   <li>exit 2 with exactly one stderr line that names the damaged input,
 * </ul>
 *
 * never exit 1, an exception or error escaping (OutOfMemoryError included), nor an output directory
 * or a staging directory left behind after a failure. One case is allowed a third outcome: exit 0
 * with a changed result when a flipped byte lies in a file whose format has no checksum (HDF5
 * outside a zip, TensorFlow.js JSON and shards, .npy, saved_model.pb): the damaged file then is a
 * different valid model (Keras or TF.js would read the changed value too), counted apart.
 *
 * <p>Seeded (the flip positions derive from the file name), and small models keep it to a few minutes.
 */
class CorruptInputTest {
  static final Path INPUTS = Paths.get("target/corrupt-inputs").toAbsolutePath();
  static final long TIME_BOUND_S = 60;
  private static final double TOLERANCE = 1e-5;

  enum Verb { INSPECT, EXPORT, CLUSTER }

  /**
   * A file to damage and how to run wclust on it.
   *
   * @param source the intact input (file or directory) copied for every case
   * @param target the file inside {@code source} to damage ("" = source itself)
   * @param argument the path given to wclust, relative to the copy ("" = the copy itself)
   * @param dataArgs non-null for a data file: the cluster arguments besides {@code --data FILE}
   * @param checksummed whether the format detects changed bytes (a flip may then not change results)
   */
  record Subject(String name, Path source, String target, String argument, List<Verb> verbs,
      List<String> dataArgs, boolean checksummed, List<Corruption> extra) {
    Path targetIn(Path copy) {
      return target.isEmpty() ? copy : copy.resolve(target);
    }

    Path argumentIn(Path copy) {
      return argument.isEmpty() ? copy : copy.resolve(argument);
    }
  }

  /** What one run did. */
  record Run(int exit, String out, String err, Throwable escaped, boolean timedOut, double seconds) {}

  private static final List<Verb> MODEL_VERBS = List.of(Verb.INSPECT, Verb.EXPORT, Verb.CLUSTER);

  @BeforeAll
  static void makeInputs() throws Exception {
    if (!Files.exists(INPUTS.resolve("data.tfrecord"))) {
      Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_corrupt_inputs.py").toString(), INPUTS.toString());
    }
  }

  static List<Subject> subjects() {
    Path savedModel = INPUTS.resolve("tiny_savedmodel");
    Path tfjs = KerasFixtures.TFJS.resolve("tfjs_cnn");
    Path keras = INPUTS.resolve("tiny.keras");
    List<String> fineTune = List.of("cluster", keras.toString(), "-k", "4", "--no-size", "--epochs", "1",
        "--batch-size", "16");
    List<String> distill = new ArrayList<>(fineTune);
    distill.add("--distill");
    return List.of(
        new Subject("SavedModel saved_model.pb", savedModel, "saved_model.pb", "", MODEL_VERBS, null, false,
            List.of(Corruption.fileForDirectory().onDirectory(""))),
        new Subject("SavedModel variables.index", savedModel, "variables/variables.index", "", MODEL_VERBS, null,
            true, List.of(Corruption.fileForDirectory().onDirectory("variables"))),
        new Subject("SavedModel variables.data", savedModel, "variables/variables.data-00000-of-00001", "",
            MODEL_VERBS, null, true, List.of()),
        new Subject(".keras (Keras 3)", keras, "", "", MODEL_VERBS, null, true, List.of()),
        new Subject(".h5 (Keras 3)", INPUTS.resolve("tiny.h5"), "", "", MODEL_VERBS, null, false, List.of()),
        new Subject(".h5 (tf.keras 2)", KerasFixtures.LEGACY.resolve("tf_keras_sequential.h5"), "", "",
            MODEL_VERBS, null, false, List.of()),
        new Subject("TF.js model.json", tfjs, "model.json", "model.json", MODEL_VERBS, null, false,
            List.of(Corruption.tfjsAbsurdShape())),
        new Subject("TF.js weights.bin", tfjs, "weights.bin", "model.json", MODEL_VERBS, null, false, List.of()),
        new Subject(".npz (--data)", INPUTS.resolve("data.npz"), "", "", List.of(Verb.CLUSTER), fineTune, true,
            List.of(Corruption.npzAbsurdShape())),
        new Subject(".npy (--data --distill)", INPUTS.resolve("x.npy"), "", "", List.of(Verb.CLUSTER), distill,
            false, List.of(Corruption.npyAbsurdShape())),
        new Subject("TFRecord (--data)", INPUTS.resolve("data.tfrecord"), "", "", List.of(Verb.CLUSTER), fineTune,
            true, List.of(Corruption.tfrecordAbsurdLength())));
  }

  /** The tallies of one subject (one table row). */
  static final class Tally {
    int tried;
    int exitZeroCorrect;
    int exitZeroChangedUnprotected;
    int exitTwo;
    final List<String> violations = new ArrayList<>();
    double slowest;
  }

  @Test
  void everyDamagedInputEndsInACorrectResultOrOneLineExitTwo(@TempDir Path tmp) throws Exception {
    boolean root = "root".equals(System.getProperty("user.name"));
    Map<String, Tally> tallies = new LinkedHashMap<>();
    for (Subject subject : subjects()) {
      Tally tally = new Tally();
      tallies.put(subject.name(), tally);
      Map<Verb, Run> intact = new LinkedHashMap<>();
      Map<Verb, Map<String, HostTensor>> intactOutputs = new LinkedHashMap<>();
      Path intactDir = tmp.resolve("intact");
      Path copy = copyInto(subject.source(), intactDir);
      for (Verb verb : subject.verbs()) {
        Path out = intactDir.resolve("out-" + verb);
        Run run = run(command(subject, verb, subject.argumentIn(copy), out));
        assertEquals(0, run.exit(), subject.name() + " intact " + verb + ": " + run.err() + run.escaped());
        intact.put(verb, run);
        if (verb != Verb.INSPECT) {
          intactOutputs.put(verb, outputsOf(out));
        }
      }
      Corruption.deleteTree(intactDir);

      long size = Files.size(subject.targetIn(subject.source()));
      List<Corruption> corruptions = new ArrayList<>(
          Corruption.standardSet(size, subject.name().hashCode()));
      corruptions.addAll(subject.extra());
      int caseNo = 0;
      for (Corruption corruption : corruptions) {
        Path caseDir = tmp.resolve("case-" + caseNo++);
        Path damagedCopy = copyInto(subject.source(), caseDir);
        corruption.apply(corruption.directory() == null ? subject.targetIn(damagedCopy)
            : damagedCopy.resolve(corruption.directory()));
        for (Verb verb : subject.verbs()) {
          Path out = caseDir.resolve("out-" + verb);
          Path argument = subject.argumentIn(damagedCopy);
          Run run = run(command(subject, verb, argument, out));
          tally.tried++;
          tally.slowest = Math.max(tally.slowest, run.seconds());
          String label = subject.name() + " " + corruption.name() + " " + verb.name().toLowerCase();
          String violation = judge(run, verb, argument, subject.source().getFileName().toString(), out, caseDir,
              intact.get(verb), intactOutputs.get(verb));
          if (violation == null) {
            if (run.exit() == 2) {
              tally.exitTwo++;
            } else {
              tally.exitZeroCorrect++;
            }
          } else if (violation.equals(CHANGED) && !subject.checksummed() && corruption.kind().equals("flip")) {
            tally.exitZeroChangedUnprotected++;
          } else {
            tally.violations.add(label + ": " + violation);
          }
        }
        Corruption.deleteTree(caseDir);
      }
    }
    String summary = summary(tallies, root);
    System.out.println(summary);
    Files.writeString(Paths.get("target/corrupt-input-summary.md"), summary);
    List<String> violations = tallies.values().stream().flatMap(t -> t.violations.stream()).toList();
    assertTrue(violations.isEmpty(), violations.size() + " violations:\n" + String.join("\n", violations));
  }

  /**
   * The same contract seen from outside, on a few damages through the real {@code ./wclust} process:
   * exit 2, exactly one line on the process's stderr (TensorFlow's native logging included), naming
   * the file, no JVM crash file, no output. The truncated .h5 cases are those of issue #16.
   */
  @Test
  void theLauncherProcessKeepsTheContractOnDamagedInputs(@TempDir Path tmp) throws Exception {
    Path h5 = INPUTS.resolve("tiny.h5");
    long size = Files.size(h5);
    List<List<String>> failures = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    int runs = 0;
    for (long keep : new long[] {size / 4, size / 2, size * 3 / 4}) {
      Path truncated = tmp.resolve("t" + keep + ".h5");
      Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(h5), (int) keep));
      failures.add(List.of("inspect", truncated.toString()));
      if (keep == size * 3 / 4) {
        failures.add(List.of("export", truncated.toString(), "-o", tmp.resolve("out").toString()));
        failures.add(List.of("cluster", truncated.toString(), "-o", tmp.resolve("out").toString(), "-k", "4",
            "--no-size"));
      }
    }
    Path savedModel = copyInto(INPUTS.resolve("tiny_savedmodel"), tmp.resolve("sm"));
    Path data = savedModel.resolve("variables/variables.data-00000-of-00001");
    Files.write(data, java.util.Arrays.copyOf(Files.readAllBytes(data), (int) Files.size(data) / 2));
    failures.add(List.of("export", savedModel.toString(), "-o", tmp.resolve("out").toString()));
    Path npy = copyInto(INPUTS.resolve("x.npy"), tmp.resolve("npy"));
    Corruption.npyAbsurdShape().apply(npy);
    Path tfrecord = copyInto(INPUTS.resolve("data.tfrecord"), tmp.resolve("tfrecord"));
    Corruption.tfrecordAbsurdLength().apply(tfrecord);
    Path keras = INPUTS.resolve("tiny.keras");
    failures.add(List.of("cluster", keras.toString(), "-o", tmp.resolve("out").toString(), "-k", "4", "--no-size",
        "--data", npy.toString(), "--distill"));
    failures.add(List.of("cluster", keras.toString(), "-o", tmp.resolve("out").toString(), "-k", "4", "--no-size",
        "--data", tfrecord.toString()));
    for (List<String> args : failures) {
      runs++;
      WclustProcess.Result r = WclustProcess.start(tmp, args).await(TIME_BOUND_S + 60);
      String file = args.get(args.contains("--data") ? args.indexOf("--data") + 1 : 1);
      List<String> lines = r.errLines();
      if (r.exit() != 2 || lines.size() != 1 || !lines.get(0).startsWith("wclust: error: ")
          || !lines.get(0).contains(file)) {
        problems.add("wclust " + String.join(" ", args) + " -> exit " + r.exit() + ", stderr:\n" + r.err());
      } else if (file.endsWith(".h5") && !lines.get(0).contains("truncated or corrupt")) {
        problems.add("a truncated .h5 is not called truncated or corrupt: " + lines.get(0));
      }
      System.out.println("wclust " + args.get(0) + " " + Paths.get(file).getFileName() + " -> " + r.exit() + ": "
          + r.err().strip());
    }
    try (Stream<Path> files = Files.list(tmp)) {
      List<Path> crashes = files.filter(p -> p.getFileName().toString().startsWith("hs_err_pid")).toList();
      assertEquals(List.of(), crashes, "JVM crash files");
    }
    assertTrue(!Files.exists(tmp.resolve("out")), "a failed run left its output");
    assertTrue(problems.isEmpty(), problems.size() + " of " + runs + " runs broke the contract:\n"
        + String.join("\n", problems));
  }

  private static final String CHANGED = "exit 0 but the result differs from the intact model's";

  /** Null when the run kept the contract; else what it broke. */
  static String judge(Run run, Verb verb, Path argument, String inputName, Path out, Path caseDir, Run intact,
      Map<String, HostTensor> intactOutputs) throws IOException {
    if (run.timedOut()) {
      return "did not end within " + TIME_BOUND_S + " s";
    }
    if (run.escaped() != null) {
      return "threw " + run.escaped();
    }
    try (Stream<Path> files = Files.list(caseDir)) {
      List<String> staging = files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".partial-")).toList();
      if (!staging.isEmpty()) {
        return "left staging directories " + staging;
      }
    }
    if (run.exit() == 0) {
      if (verb == Verb.INSPECT) {
        return run.out().equals(intact.out()) ? null : CHANGED;
      }
      if (!Files.isDirectory(out)) {
        return "exit 0 without writing " + out;
      }
      Map<String, HostTensor> outputs;
      try {
        outputs = outputsOf(out);
      } catch (Exception e) {
        return "exit 0 but the written model does not run: " + e;
      }
      if (!outputs.keySet().equals(intactOutputs.keySet())) {
        return CHANGED;
      }
      for (String key : outputs.keySet()) {
        if (Fixtures.maxAbsDiff(outputs.get(key), intactOutputs.get(key)) > TOLERANCE) {
          return CHANGED;
        }
      }
      return null;
    }
    if (run.exit() != 2) {
      return "exit " + run.exit() + ": " + run.err().strip();
    }
    if (Files.exists(out)) {
      return "exit 2 but left " + out;
    }
    List<String> lines = run.err().lines().toList();
    if (lines.size() != 1) {
      return lines.size() + " stderr lines: " + run.err().strip();
    }
    if (!lines.get(0).startsWith("wclust: error: ") || !lines.get(0).contains(inputName)) {
      return "the error does not name " + inputName + ": " + lines.get(0);
    }
    return null;
  }

  static List<String> command(Subject subject, Verb verb, Path argument, Path out) {
    List<String> args = new ArrayList<>();
    if (subject.dataArgs() != null) {
      args.addAll(subject.dataArgs());
      args.addAll(List.of("-o", out.toString(), "--data", argument.toString()));
      return args;
    }
    switch (verb) {
      case INSPECT -> args.addAll(List.of("inspect", argument.toString()));
      case EXPORT -> args.addAll(List.of("export", argument.toString(), "-o", out.toString()));
      case CLUSTER -> args.addAll(List.of("cluster", argument.toString(), "-o", out.toString(), "-k", "4",
          "--no-size"));
    }
    return args;
  }

  /**
   * Runs wclust in this JVM on a thread of its own, capturing its output and exit status; a run that
   * does not end within the bound is abandoned (its thread is a daemon) and reported.
   */
  static Run run(List<String> args) throws InterruptedException {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    long start = System.nanoTime();
    FutureTask<Integer> exit = new FutureTask<>(() -> {
      CommandLine cli = WclustCommand.commandLine();
      cli.setOut(new PrintWriter(out, true));
      cli.setErr(new PrintWriter(err, true));
      return cli.execute(args.toArray(String[]::new));
    });
    Thread thread = new Thread(exit, "wclust " + args.get(0));
    thread.setDaemon(true);
    thread.start();
    try {
      int code = exit.get(TIME_BOUND_S, TimeUnit.SECONDS);
      return new Run(code, out.toString(), err.toString(), null, false, (System.nanoTime() - start) / 1e9);
    } catch (TimeoutException e) {
      thread.interrupt();
      return new Run(-1, out.toString(), err.toString(), null, true, TIME_BOUND_S);
    } catch (ExecutionException e) {
      return new Run(-1, out.toString(), err.toString(), e.getCause(), false, (System.nanoTime() - start) / 1e9);
    }
  }

  /** The outputs of a written SavedModel on a fixed input (batch 2, seeded). */
  static Map<String, HostTensor> outputsOf(Path savedModel) throws Exception {
    FlatModel model = ModelLoader.load(savedModel, ModelLoader.DEFAULT_SIGNATURE);
    TensorSpec input = model.signature().inputs().get(0);
    long[] dims = input.dims();
    long[] example = java.util.Arrays.copyOfRange(dims, 1, dims.length);
    try (ModelSession session = new ModelSession(model)) {
      return session.run(Map.of(input.key(), Fixtures.randomInput(example, 2, 7)));
    }
  }

  static Path copyInto(Path source, Path dir) throws IOException {
    Files.createDirectories(dir);
    Path copy = dir.resolve(source.getFileName().toString());
    try (Stream<Path> walk = Files.walk(source)) {
      for (Path p : walk.toList()) {
        Path to = copy.resolve(source.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
    return copy;
  }

  static String summary(Map<String, Tally> tallies, boolean root) {
    StringBuilder s = new StringBuilder();
    s.append("| input | runs tried | exit 0, intact result | exit 0, changed (flip in unchecksummed bytes) "
        + "| exit 2, one line | violations | slowest run (s) |\n|---|---:|---:|---:|---:|---:|---:|\n");
    Tally total = new Tally();
    tallies.forEach((name, t) -> {
      s.append(String.format("| %s | %d | %d | %d | %d | %d | %.1f |%n", name, t.tried, t.exitZeroCorrect,
          t.exitZeroChangedUnprotected, t.exitTwo, t.violations.size(), t.slowest));
      total.tried += t.tried;
      total.exitZeroCorrect += t.exitZeroCorrect;
      total.exitZeroChangedUnprotected += t.exitZeroChangedUnprotected;
      total.exitTwo += t.exitTwo;
      total.violations.addAll(t.violations);
      total.slowest = Math.max(total.slowest, t.slowest);
    });
    s.append(String.format("| **all** | %d | %d | %d | %d | %d | %.1f |%n", total.tried, total.exitZeroCorrect,
        total.exitZeroChangedUnprotected, total.exitTwo, total.violations.size(), total.slowest));
    if (root) {
      s.append("\nRun as root: 'unreadable' (chmod 000) files stay readable to root, so those cases read the "
          + "intact file and test nothing about permissions.\n");
    }
    return s.toString();
  }
}

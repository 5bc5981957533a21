package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.cli.WclustCommand;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.load.ModelLoader;
import picocli.CommandLine;

/**
 * Faults while writing OUT: a full file system, a {@code kill -9} in the middle of {@code cluster}, and
 * two processes writing the same OUT. OUT appears complete or not at all, no staging directory is left
 * for a rerun to trip over, and of two writers one wins while the other fails with one line.
 */
class OutputFaultsTest {
  private static Path keras;
  private static Path data;

  @BeforeAll
  static void inputs() throws Exception {
    CorruptInputTest.makeInputs();
    keras = CorruptInputTest.INPUTS.resolve("tiny.keras");
    data = CorruptInputTest.INPUTS.resolve("data.npz");
  }

  @Test
  void fullFileSystemFailsWithOneLineAndLeavesNothing(@TempDir Path tmp) throws Exception {
    Path mount = Files.createDirectory(tmp.resolve("full"));
    // one 4 KiB page: the staging directory fits, saved_model.pb does not
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", mount.toString())
        .redirectErrorStream(true).start();
    String why = new String(p.getInputStream().readAllBytes()).strip();
    Assumptions.assumeTrue(p.waitFor() == 0, "cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN): " + why);
    try {
      for (List<String> args : List.of(
          List.of("export", keras.toString(), "-o", mount.resolve("out").toString()),
          List.of("cluster", keras.toString(), "-o", mount.resolve("out").toString(), "-k", "4", "--no-size"))) {
        StringWriter err = new StringWriter();
        CommandLine cli = WclustCommand.commandLine();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        int exit = cli.execute(args.toArray(String[]::new));
        List<String> lines = err.toString().lines().toList();
        assertEquals(2, exit, args.get(0) + ": " + err);
        assertEquals(1, lines.size(), err.toString());
        assertTrue(lines.get(0).contains(mount.resolve("out").toString()) && lines.get(0).contains("full"),
            lines.get(0));
        try (Stream<Path> left = Files.list(mount)) {
          assertEquals(List.of(), left.toList(), args.get(0) + " left files on the full file system");
        }
      }
    } finally {
      new ProcessBuilder("umount", mount.toString()).inheritIO().start().waitFor();
    }
  }

  @Test
  void killMinus9DuringClusterLeavesNoOutAndTheRerunSucceedsAndCleansUp(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    // enough fine-tuning to be sure the process is killed while writing is under way
    WclustProcess victim = WclustProcess.start(tmp, clusterArgs(out, 4, 400));
    Path staging = awaitStaging(tmp, out, victim);
    victim.killHard();
    assertFalse(Files.exists(out), "kill -9 left " + out);
    assertTrue(Files.isDirectory(staging), "expected the killed process's staging directory " + staging);

    WclustProcess.Result rerun = WclustProcess.start(tmp, clusterArgs(out, 4, 1)).await(300);
    assertEquals(0, rerun.exit(), rerun.err());
    assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));
    assertEquals(List.of(), stagingDirectories(tmp, out), "the rerun left the dead process's staging directory");
  }

  @Test
  void twoWritersOfOneOutputOneWinsTheOtherFailsNeverAMix(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    // different k, so that a mix of the two writers' files would show
    WclustProcess four = WclustProcess.start(tmp, clusterArgs(out, 4, 20));
    WclustProcess eight = WclustProcess.start(tmp, clusterArgs(out, 8, 20));
    WclustProcess.Result r4 = four.await(300);
    WclustProcess.Result r8 = eight.await(300);
    assertEquals(1, (r4.exit() == 0 ? 1 : 0) + (r8.exit() == 0 ? 1 : 0),
        "exactly one writer wins: k=4 -> " + r4.exit() + " " + r4.err() + "; k=8 -> " + r8.exit() + " " + r8.err());
    WclustProcess.Result loser = r4.exit() == 0 ? r8 : r4;
    int k = r4.exit() == 0 ? 4 : 8;
    assertEquals(2, loser.exit(), loser.err());
    assertEquals(1, loser.errLines().size(), loser.err());
    assertTrue(loser.errLines().get(0).contains(out.toString()), loser.err());

    // OUT is the winner's, whole: its report says k, and its weights hold what the report says
    JsonObject report = JsonParser.parseString(Files.readString(out.resolve("wclust-report.json"))).getAsJsonObject();
    // the written graph's constants by shape, with their distinct values
    FlatModel written = ModelLoader.load(out, ModelLoader.DEFAULT_SIGNATURE);
    Map<String, List<Integer>> distinctByShape = new HashMap<>();
    for (NodeDef node : written.graph().getNodeList()) {
      if (node.getOp().equals("Const") && node.getAttrOrThrow("dtype").getType() == DataType.DT_FLOAT) {
        HostTensor value = HostTensor.fromProto(node.getAttrOrThrow("value").getTensor());
        distinctByShape.computeIfAbsent(Arrays.toString(value.shape()), s -> new ArrayList<>())
            .add(WeightDiscovery.distinct(value.toFloats()));
      }
    }
    for (JsonElement e : report.getAsJsonArray("layers")) {
      JsonObject layer = e.getAsJsonObject();
      assertEquals(k, layer.get("clusters").getAsInt(), "the report is not the winner's: " + layer);
      long[] shape = new com.google.gson.Gson().fromJson(layer.get("shape"), long[].class);
      assertEquals(List.of(layer.get("distinct_values").getAsInt()), distinctByShape.get(Arrays.toString(shape)),
          "the SavedModel's weight " + layer.get("name") + " is not the report's");
    }
    assertEquals(List.of(), stagingDirectories(tmp, out), "a staging directory was left behind");
  }

  private static List<String> clusterArgs(Path out, int k, int epochs) {
    return List.of("cluster", keras.toString(), "-o", out.toString(), "-k", Integer.toString(k), "--no-size",
        "--data", data.toString(), "--epochs", Integer.toString(epochs), "--batch-size", "16");
  }

  private static Path awaitStaging(Path dir, Path out, WclustProcess process) throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline) {
      List<String> staging = stagingDirectories(dir, out);
      if (!staging.isEmpty()) {
        Thread.sleep(1000); // into the work, not at its first instant
        return dir.resolve(staging.get(0));
      }
      if (!process.isAlive()) {
        throw new AssertionError("wclust ended before writing began: " + process.await(1));
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no staging directory of " + out + " appeared");
  }

  private static List<String> stagingDirectories(Path dir, Path out) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("." + out.getFileName() + ".partial-")).toList();
    }
  }
}

package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.SavedModel;

/**
 * Data-parallel fine-tuning on TensorFlow's distributed runtime, with real processes: two
 * {@code wclust worker} servers on 127.0.0.1 and a chief ({@code wclust cluster --workers}).
 *
 * <ul>
 *   <li>The Fashion-MNIST CNN clustered at k = 8 and fine-tuned for one epoch on 6,000 training images
 *       with the same global batch (64) and seed on two workers, which read the rows of the
 *       (uncompressed) .npz themselves, reaches the test accuracy (Python TensorFlow, 10,000 test
 *       images) of the single-process run within 0.3 point, and every weight constant of the exported
 *       model keeps at most 8 values (read from its GraphDef). The same images as a PNG class folder,
 *       which the workers read themselves (the chief feeds paths), and as three TFRecord shards of
 *       PNGs, whose records the workers read by byte range (the chief feeds the file, offset and
 *       length), give that accuracy too.
 *   <li>The workers open the image files, the TFRecord and the .npz at the chief's paths: with a path
 *       that names another file in each process ({@code /proc/self/cwd/...}) and no such file where the
 *       workers run, the chief fails with one line naming the file a worker could not read.
 *   <li>Killing a worker during the epoch (task 1, or task 0, whose master runs the chief's session)
 *       makes the chief fail within a minute with one line naming that worker, a non-zero status, and
 *       nothing written; a worker address that does not answer is one line too.
 * </ul>
 */
class DistributedFineTuningTest {
  private static final double SAME = 0.003;
  private static final int K = 8;
  @TempDir Path tmp;
  private final List<WclustProcess> started = new ArrayList<>();

  @AfterEach
  void stopWorkers() throws InterruptedException {
    for (WclustProcess p : started) {
      p.killHard();
    }
  }

  @Test
  void twoWorkersFineTuneAsOneProcessDoes() throws Exception {
    List<String> workers = startWorkers(2);
    Path single = tmp.resolve("single");
    assertEquals(0, EndToEndFixturesTest.cli(clusterArgs(single, ImageData.sortedNpz())));
    Path distributed = fineTuneOnWorkers("distributed", ImageData.sortedNpz(), workers);

    double one = FashionMnist.accuracy(single, FashionMnist.test(), FashionMnist.SCALE);
    double two = FashionMnist.accuracy(distributed, FashionMnist.test(), FashionMnist.SCALE);
    assertEquals(one, two, SAME, "two workers vs one process");
    assertTrue(two > FashionMnist.kerasAccuracy() - 0.02, "k=8 on 6,000 images, two workers: " + two);

    double files = FashionMnist.accuracy(fineTuneOnWorkers("from-files", ImageData.pngFolder(), workers),
        FashionMnist.test(), FashionMnist.SCALE);
    assertEquals(one, files, SAME, "two workers reading the PNG files vs one process on their pixels");
    // three TFRecord shards: each record read from its shard by byte range (a single small file would be
    // read into each worker's memory once, as the .npz above and the TFRecord of the /proc test are)
    double records = FashionMnist.accuracy(fineTuneOnWorkers("from-records", ImageData.shards(), workers),
        FashionMnist.test(), FashionMnist.SCALE);
    assertEquals(one, records, SAME, "two workers reading the TFRecord shards vs one process on their pixels");

    GraphDef graph = SavedModel.parseFrom(Files.readAllBytes(distributed.resolve("saved_model.pb")))
        .getMetaGraphs(0).getGraphDef();
    Map<String, Integer> weights = EndToEndFixturesTest.weightConstantDistinctCounts(graph);
    assertEquals(4, weights.size(), "the CNN's 2 conv and 2 dense weights: " + weights);
    weights.forEach((name, distinct) -> assertTrue(distinct <= K, name + " has " + distinct + " values"));
  }

  @Test
  void theWorkersReadTheImageFilesTheTfRecordAndTheNpzThemselves() throws Exception {
    // /proc/self/cwd/NAME is the chief's data for the chief, and nothing where the workers run
    List<String> workers = startWorkers(2);
    Path chiefDir = Files.createDirectories(tmp.resolve("chief"));
    Files.createSymbolicLink(chiefDir.resolve("images"), ImageData.pngFolder());
    Files.createSymbolicLink(chiefDir.resolve("png.tfrecord"), ImageData.tfrecord());
    Files.createSymbolicLink(chiefDir.resolve("sorted.npz"), ImageData.sortedNpz());
    for (String name : List.of("images", "png.tfrecord", "sorted.npz")) {
      Path out = tmp.resolve("out-" + name);
      List<String> args = onWorkers(clusterArgs(out, Path.of("/proc/self/cwd/" + name)), workers);
      WclustProcess.Result r = WclustProcess.start(chiefDir, args).await(300);
      assertNotEquals(0, r.exit(), r.err());
      assertEquals(1, r.err().strip().lines().count(), r.err());
      assertTrue(r.err().startsWith("wclust: error: worker 127.0.0.1:"), r.err());
      assertTrue(r.err().contains("/proc/self/cwd/" + name), r.err());
      assertFalse(Files.exists(out), "nothing is written");
    }
  }

  @ParameterizedTest(name = "task {0}")
  @ValueSource(ints = {1, 0})
  void aWorkerKilledDuringTheEpochFailsTheChiefWithOneLineAndNoOutput(int task) throws Exception {
    List<String> workers = startWorkers(2);
    Path out = tmp.resolve("out");
    List<String> args = onWorkers(clusterArgs(out, FashionMnist.train(), 3), workers);
    WclustProcess chief = WclustProcess.start(tmp, args);
    // Off a terminal the chief prints a progress line ("epoch E: step S/N") every 10 s of training; three
    // epochs over 60,000 images last far longer (the run ends at the kill, so they cost nothing).
    assertTrue(chief.awaitStdout(": step ", 600), "the chief never reported progress");
    started.get(task).killHard();
    long killed = System.nanoTime();
    WclustProcess.Result r = chief.await(300);
    // Task 0 runs the master of the chief's session, whose calls TensorFlow retries until its 120 s
    // operation timeout; the chief's own check of the workers must end the run well before that.
    double seconds = (System.nanoTime() - killed) / 1e9;
    assertTrue(seconds < 60, "the chief ended " + seconds + " s after task " + task + " was killed");
    assertNotEquals(0, r.exit(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("wclust: error: worker " + workers.get(task) + " "), r.err());
    assertFalse(Files.exists(out), "nothing is written");
    try (var siblings = Files.list(tmp)) {
      assertTrue(siblings.noneMatch(p -> p.getFileName().toString().contains("out")), "no staging directory left");
    }
  }

  @Test
  void aWorkerThatDoesNotAnswerIsOneLineAndSoIsABadList() throws Exception {
    String nobody = "127.0.0.1:" + freePort();
    Path out = tmp.resolve("out");
    List<String> args = onWorkers(clusterArgs(out, ImageData.sortedNpz()), List.of(nobody));
    WclustProcess.Result r = WclustProcess.start(tmp, args).await(300);
    assertEquals(2, r.exit(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("wclust: error: worker " + nobody + " does not answer"), r.err());
    assertFalse(Files.exists(out));

    // and what is not a worker list, or a list without data to train on, is refused before any work
    assertEquals(2, EndToEndFixturesTest.cli("cluster", FashionMnist.model().toString(), "-o", out.toString(),
        "--clusters", "8", "--no-size", "--data", ImageData.sortedNpz().toString(), "--workers", "127.0.0.1"));
    assertEquals(2, EndToEndFixturesTest.cli("cluster", FashionMnist.model().toString(), "-o", out.toString(),
        "--clusters", "8", "--no-size", "--workers", nobody));
    assertFalse(Files.exists(out));
  }

  /** Fine-tunes on {@code data} with {@code workers} into {@code tmp/name}, which it returns; the run must succeed. */
  private Path fineTuneOnWorkers(String name, Path data, List<String> workers) {
    Path out = tmp.resolve(name);
    assertEquals(0, EndToEndFixturesTest.cli(onWorkers(clusterArgs(out, data), workers).toArray(new String[0])));
    return out;
  }

  private static List<String> onWorkers(String[] args, List<String> workers) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--workers", String.join(",", workers)));
    return all;
  }

  private static String[] clusterArgs(Path out, Path data) {
    return clusterArgs(out, data, 1);
  }

  private static String[] clusterArgs(Path out, Path data, int epochs) {
    List<String> args = new ArrayList<>(List.of("cluster", FashionMnist.model().toString(), "-o", out.toString(),
        "--clusters", String.valueOf(K), "--scale", Double.toString(FashionMnist.SCALE), "--no-size", "--epochs",
        String.valueOf(epochs), "--batch-size", "64", "--seed", "7", "--data", data.toString()));
    if (data.toString().endsWith(".tfrecord") || data.equals(ImageData.shards())) {
      args.addAll(List.of("--features", "image:image,label:label"));
    }
    return args.toArray(new String[0]);
  }

  /** Starts {@code n} workers on free ports of 127.0.0.1; returns their addresses once each listens. */
  private List<String> startWorkers(int n) throws IOException, InterruptedException {
    List<String> addresses = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      addresses.add("127.0.0.1:" + freePort());
    }
    String cluster = "worker=" + String.join(",", addresses);
    for (int i = 0; i < n; i++) {
      started.add(WclustProcess.start(tmp, List.of("worker", "--listen", addresses.get(i), "--cluster", cluster,
          "--task", String.valueOf(i))));
    }
    for (int i = 0; i < n; i++) {
      String line = "wclust worker: task " + i + " of " + n + " listening on " + addresses.get(i);
      assertTrue(started.get(i).awaitStdout(line, 120), "worker " + i + " did not say it listens");
    }
    return addresses;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}

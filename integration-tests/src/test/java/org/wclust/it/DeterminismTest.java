package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.load.ModelLoader;

/** A fixed seed gives byte-identical output: users can diff and cache clustered models. */
class DeterminismTest {
  @Test
  void sameSeedSameSavedModelBytes(@TempDir Path tmp) throws Exception {
    Path model = Fixtures.all().stream().filter(f -> f.name().equals("functional_residual"))
        .findFirst().orElseThrow().path();
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    assertEquals(0, EndToEndFixturesTest.cli("cluster", model.toString(), "-o", a.toString(), "--clusters", "4", "--seed", "42"));
    assertEquals(0, EndToEndFixturesTest.cli("cluster", model.toString(), "-o", b.toString(), "--clusters", "4", "--seed", "42"));
    assertArrayEquals(Files.readAllBytes(a.resolve("saved_model.pb")), Files.readAllBytes(b.resolve("saved_model.pb")));
  }

  /**
   * Fine-tuning: the same seed gives the same shuffle, assignments and trained model, byte for byte
   * (the centroid gradients are summed exactly, see ClusteredWeight.centroidGradient; TensorFlow's
   * float Bincount made them differ in the last bits). Another seed gives a clearly different model,
   * so the comparison is not vacuous.
   */
  @Test
  void sameSeedSameFineTunedModel(@TempDir Path tmp) throws Exception {
    Path slice = tmp.resolve("slice.npz");
    Fixtures.runPython("-c", "import numpy as np; d = np.load('" + FashionMnist.test() + "'); "
        + "np.savez('" + slice + "', x=d['x'][:1000], y=d['y'][:1000])");
    Map<String, HostTensor> a = fineTuned(tmp.resolve("a"), slice, 7);
    Map<String, HostTensor> b = fineTuned(tmp.resolve("b"), slice, 7);
    Map<String, HostTensor> other = fineTuned(tmp.resolve("other"), slice, 8);
    assertArrayEquals(Files.readAllBytes(tmp.resolve("a").resolve("saved_model.pb")),
        Files.readAllBytes(tmp.resolve("b").resolve("saved_model.pb")), "same seed, same SavedModel bytes");
    assertEquals(a.keySet(), b.keySet());
    double different = 0;
    for (String name : a.keySet()) {
      different = Math.max(different, Fixtures.maxAbsDiff(a.get(name), other.get(name)));
    }
    assertTrue(different > 1e-3, "another seed: constants differ by only " + different);
  }

  /**
   * Fine-tuning a model whose activation feeds three ops (the fixture's residual block: a convolution, a
   * second convolution and the Add) gives the same bytes on every run. TensorFlow summed the gradients of
   * such a fan-out with one AddN whose float additions ran in an order that depended on scheduling, and
   * Grappler merged chains of adds into such AddNs: the biases came out about 1e-10 apart on every run
   * until training graphs got sums of two only (DeterministicSums).
   */
  @Test
  void sameSeedSameFineTunedResidualModel(@TempDir Path tmp) throws Exception {
    sameBytesEveryRun(tmp, "--data", "--epochs", "2");
  }

  /**
   * The same for the calibration gradients (Fisher sensitivities) of {@code --calibration}, from which
   * the codebooks of this model came out different in one run of three before.
   */
  @Test
  void sameSeedSameCalibratedResidualModel(@TempDir Path tmp) throws Exception {
    sameBytesEveryRun(tmp, "--calibration");
  }

  /**
   * Clusters the functional_residual fixture three times at k = 16, seed 2, with {@code dataOption} naming
   * 512 random images (and {@code more} options after it), and compares the SavedModels' bytes.
   */
  private static void sameBytesEveryRun(Path tmp, String dataOption, String... more) throws Exception {
    Path model = Fixtures.all().stream().filter(f -> f.name().equals("functional_residual"))
        .findFirst().orElseThrow().path();
    Path data = tmp.resolve("random.npz");
    Fixtures.runPython("-c", "import numpy as np; r = np.random.default_rng(5); "
        + "np.savez('" + data + "', x=r.random((512, 16, 16, 3), dtype=np.float32), "
        + "y=r.integers(0, 10, 512).astype(np.int64))");
    byte[] first = null;
    for (String run : new String[] {"a", "b", "c"}) {
      Path out = tmp.resolve(run);
      List<String> args = new ArrayList<>(List.of("cluster", model.toString(), "-o", out.toString(), "--clusters",
          "16", "--seed", "2", "--no-size", dataOption, data.toString()));
      args.addAll(List.of(more));
      assertEquals(0, EndToEndFixturesTest.cli(args.toArray(new String[0])));
      byte[] bytes = Files.readAllBytes(out.resolve("saved_model.pb"));
      if (first == null) {
        first = bytes;
      } else {
        assertArrayEquals(first, bytes, "run " + run + " against run a");
      }
    }
  }

  /** The float constants of a model fine-tuned with {@code seed}, by node name. */
  private static Map<String, HostTensor> fineTuned(Path out, Path data, long seed) throws Exception {
    assertEquals(0, EndToEndFixturesTest.cli("cluster", FashionMnist.model().toString(), "-o", out.toString(),
        "--clusters", "4", "--seed", String.valueOf(seed), "--data", data.toString(),
        "--scale", Double.toString(FashionMnist.SCALE), "--epochs", "2", "--no-size"));
    Map<String, HostTensor> constants = new TreeMap<>();
    for (NodeDef node : ModelLoader.load(out, ModelLoader.DEFAULT_SIGNATURE).graph().getNodeList()) {
      if (node.getOp().equals("Const") && node.getAttrMap().get("dtype").getType() == DataType.DT_FLOAT) {
        constants.put(node.getName(), HostTensor.fromProto(node.getAttrMap().get("value").getTensor()));
      }
    }
    assertTrue(constants.size() >= 8, "kernels and biases as constants: " + constants.keySet());
    return constants;
  }
}

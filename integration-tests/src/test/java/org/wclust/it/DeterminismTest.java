package org.wclust.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  /** Fine-tuning too: same seed, same shuffle, same trained model, to the byte. */
  @Test
  void sameSeedSameFineTunedBytes(@TempDir Path tmp) throws Exception {
    Path slice = tmp.resolve("slice.npz");
    Fixtures.runPython("-c", "import numpy as np; d = np.load('" + FashionMnist.test() + "'); "
        + "np.savez('" + slice + "', x=d['x'][:1000], y=d['y'][:1000])");
    byte[][] runs = new byte[2][];
    for (int i = 0; i < 2; i++) {
      Path out = tmp.resolve("tuned" + i);
      assertEquals(0, EndToEndFixturesTest.cli("cluster", FashionMnist.model().toString(), "-o", out.toString(),
          "--clusters", "4", "--seed", "7", "--data", slice.toString(), "--scale", Double.toString(FashionMnist.SCALE),
          "--epochs", "2", "--no-size"));
      runs[i] = Files.readAllBytes(out.resolve("saved_model.pb"));
    }
    assertArrayEquals(runs[0], runs[1]);
  }
}

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
}

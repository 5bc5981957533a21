package org.wclust.internal.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.wclust.internal.data.TestFiles.f4;
import static org.wclust.internal.data.TestFiles.i8;
import static org.wclust.internal.data.TestFiles.npy;
import static org.wclust.internal.data.TestFiles.u1;
import static org.wclust.internal.data.TestFiles.write;
import static org.wclust.internal.data.TestFiles.zip;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** .npz archives: stored (np.savez) and deflated (np.savez_compressed) entries NAME.npy. */
class NpzReaderTest {
  @TempDir Path tmp;

  private Map<String, byte[]> entries() {
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("x.npy", npy(1, "|u1", false, new long[] {2, 2}, u1(1, 2, 3, 255)));
    entries.put("y.npy", npy(1, "<i8", false, new long[] {2}, i8(7, 0)));
    entries.put("notes.txt", "ignored".getBytes());
    return entries;
  }

  @ParameterizedTest(name = "compressed={0}")
  @ValueSource(booleans = {false, true})
  void readsStoredAndDeflatedArchives(boolean compressed) throws IOException {
    Path file = zip(tmp.resolve("d.npz"), compressed, entries());
    Map<String, NpyArray> all = NpzReader.readAll(file);
    assertEquals(List.of("x", "y"), List.copyOf(all.keySet()));
    assertArrayEquals(new float[] {1, 2, 3, 255}, all.get("x").toFloats());
    assertArrayEquals(new long[] {2, 2}, all.get("x").shape());
    assertArrayEquals(new int[] {7, 0}, all.get("y").toInts());
    assertEquals(file + ":y", all.get("y").source());
  }

  @Test
  void missingArrayListsThePresentOnes() throws IOException {
    Path file = zip(tmp.resolve("d.npz"), true, entries());
    try (NpzReader npz = NpzReader.open(file)) {
      assertTrue(npz.contains("x"));
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> npz.read("x_train"));
      assertEquals(file + " has no array 'x_train'; arrays present: x, y", e.getMessage());
    }
  }

  @Test
  void errorsInsideAnEntryNameTheEntry() throws IOException {
    Map<String, byte[]> entries = Map.of("x.npy", npy(1, ">f4", false, new long[] {1}, f4(1)));
    Path file = zip(tmp.resolve("d.npz"), false, entries);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NpzReader.readAll(file));
    assertTrue(e.getMessage().startsWith(file + ":x: big-endian dtype '>f4'"), e.getMessage());
  }

  @Test
  void notAZip() throws IOException {
    Path file = write(tmp.resolve("d.npz"), "definitely not a zip".getBytes());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NpzReader.open(file));
    assertTrue(e.getMessage().startsWith(file + ": not a .npz (zip) archive"), e.getMessage());
  }
}

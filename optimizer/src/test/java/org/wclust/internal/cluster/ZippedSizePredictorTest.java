package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightTensor;

/**
 * The zipped-size prediction equals the zip archive of a synthetic "model file" whose weights are
 * overwritten: the first tensor stored transposed (as FULLY_CONNECTED stores a MatMul kernel), the
 * second as the graph holds it, between other bytes.
 */
class ZippedSizePredictorTest {
  private static final int CHANNELS = 16;

  /** A file: a header, target 0 transposed ([channels, rows]), 36 bytes, target 1 as is, a trailer. */
  static byte[] file(List<WeightTensor> targets, List<float[]> values) {
    Random random = new Random(11);
    byte[] header = new byte[200];
    random.nextBytes(header);
    int size = header.length + 36 + 64;
    for (float[] v : values) {
      size += 4 * v.length;
    }
    ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    out.put(header);
    for (int t = 0; t < values.size(); t++) {
      float[] v = values.get(t);
      long[] shape = targets.get(t).shape();
      if (t == 0) {
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        for (int c = 0; c < cols; c++) {
          for (int r = 0; r < rows; r++) {
            out.putFloat(v[r * cols + c]);
          }
        }
        out.put(new byte[36]);
      } else {
        for (float x : v) {
          out.putFloat(x);
        }
      }
    }
    while (out.hasRemaining()) {
      out.put((byte) 7);
    }
    return out.array();
  }

  /** The size of a zip archive holding {@code bytes} as model.tflite. */
  static long zipSize(byte[] bytes) {
    try (ByteArrayOutputStream out = new ByteArrayOutputStream(); ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.putNextEntry(new ZipEntry("model.tflite"));
      zip.write(bytes);
      zip.closeEntry();
      zip.finish();
      return out.size();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static long zipOfFile(List<WeightTensor> targets, List<float[]> values) {
    return zipSize(file(targets, values));
  }

  /** The predictor built from the file holding {@code values}, as Wclust builds it from a .tflite. */
  static ZippedSizePredictor predictorOf(List<WeightTensor> targets, List<float[]> values) {
    byte[] file = file(targets, values);
    return ZippedSizePredictor.of(file, zipSize(file), targets.stream().map(WeightTensor::shape).toList(), values);
  }

  private static WeightTensor tensor(String name, int rows) {
    return new WeightTensor(name, name + "_handle", "MatMul", new long[] {rows, CHANNELS}, rows * CHANNELS,
        rows * CHANNELS, "DT_FLOAT", true, "clusterable", new OutputChannels(CHANNELS, 1));
  }

  private static float[] gaussian(int n, long seed) {
    Random random = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (random.nextGaussian() * 0.05);
    }
    return v;
  }

  /** {@code v} with each value rounded to a multiple of {@code step}: few distinct values, as clustered. */
  private static float[] rounded(float[] v, float step) {
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = Math.round(v[i] / step) * step;
    }
    return out;
  }

  @Test
  void predictsTheZipOfTheFileWithTheNewValuesExactly() {
    List<WeightTensor> targets = List.of(tensor("a", 300), tensor("b", 40));
    List<float[]> values = List.of(gaussian(300 * CHANNELS, 1), gaussian(40 * CHANNELS, 2));
    ZippedSizePredictor predictor = predictorOf(targets, values);
    assertTrue(predictor.allFound());
    assertEquals(zipOfFile(targets, values), predictor.predict(values));
    for (float step : new float[] {0.01f, 0.03f, 0.1f}) {
      List<float[]> clustered = List.of(rounded(values.get(0), step), rounded(values.get(1), step));
      long zipped = zipOfFile(targets, clustered);
      assertEquals(zipped, predictor.predict(clustered), "step " + step);
      assertTrue(zipped < zipOfFile(targets, values), "clustered values zip smaller");
    }
  }

  @Test
  void aTensorMissingFromTheFileCountsAsItsValuesDeflatedAlone() {
    List<WeightTensor> inFile = List.of(tensor("a", 300), tensor("b", 40));
    List<float[]> values = List.of(gaussian(300 * CHANNELS, 1), gaussian(40 * CHANNELS, 2));
    byte[] file = file(inFile, values);
    float[] elsewhere = gaussian(20 * CHANNELS, 3);
    List<float[]> all = new ArrayList<>(values);
    all.add(elsewhere);
    List<long[]> shapes = List.of(inFile.get(0).shape(), inFile.get(1).shape(), new long[] {20, CHANNELS});
    ZippedSizePredictor predictor = ZippedSizePredictor.of(file, zipSize(file), shapes, all);
    assertFalse(predictor.allFound());
    assertEquals(zipSize(file), predictor.predict(all));
    float[] flat = rounded(elsewhere, 1f);
    assertEquals(zipSize(file) + RateControl.deflatedBytes(flat) - RateControl.deflatedBytes(elsewhere),
        predictor.predict(List.of(values.get(0), values.get(1), flat)));
  }

  @Test
  void layoutsAreTheGraphsAndEachAxisMovedToTheFront() {
    // [2, 3, 4]: identity, axis 2 first ([4, 2, 3]), axis 1 first ([3, 2, 4]).
    List<int[]> layouts = ZippedSizePredictor.candidateLayouts(new long[] {2, 3, 4});
    assertEquals(3, layouts.size());
    assertEquals(0, layouts.get(0)[0]);
    assertEquals(5, layouts.get(0)[5]);
    // Axis 2 first: file position 1 is element (0, 1, 0) = 4; position 6 is (0, 0, 1) = 1.
    assertEquals(4, layouts.get(1)[1]);
    assertEquals(1, layouts.get(1)[6]);
    // Axis 1 first: file position 1 is (0, 0, 1) = 1; position 4 is (1, 0, 0) = 12; position 8 is (0, 1, 0) = 4.
    assertEquals(1, layouts.get(2)[1]);
    assertEquals(12, layouts.get(2)[4]);
    assertEquals(4, layouts.get(2)[8]);
  }
}

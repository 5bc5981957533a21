package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EntropyConstrainedTest {
  private static float[] gaussian(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  /** Bits per index of an ideal entropy coder for the cluster populations. */
  private static double entropyBits(Clustering c) {
    int[] counts = new int[c.centroids().length];
    for (int i : c.indices()) {
      counts[i]++;
    }
    double bits = 0;
    for (int count : counts) {
      if (count > 0) {
        double p = count / (double) c.indices().length;
        bits -= count * Math.log(p) / Math.log(2);
      }
    }
    return bits;
  }

  @Test
  void zeroWeightChangesNothing() {
    float[] v = gaussian(1000, 1);
    Clustering start = Clusterer1D.cluster(v, 8, InitMethod.OPTIMAL, true, 0);
    assertSame(start, EntropyConstrained.refine(v, start, 0));
  }

  @ParameterizedTest
  @ValueSource(doubles = {0.01, 0.05, 0.2})
  void lowersTheObjectiveAndTheIndexEntropy(double sizeWeight) {
    float[] v = gaussian(20_000, 2);
    Clustering start = Clusterer1D.cluster(v, 16, InitMethod.OPTIMAL, true, 0);
    Clustering sized = EntropyConstrained.refine(v, start, sizeWeight);
    double variance = 0;
    double mean = Arrays.stream(toDoubles(v)).average().orElseThrow();
    for (float x : v) {
      variance += (x - mean) * (x - mean);
    }
    variance /= v.length;
    double lambda = sizeWeight * variance;
    double before = start.sse() + lambda * entropyBits(start);
    double after = sized.sse() + lambda * entropyBits(sized);
    assertTrue(after <= before + 1e-9 * before, "objective " + after + " > " + before);
    assertTrue(entropyBits(sized) < entropyBits(start), "entropy should drop");
    assertTrue(sized.centroids().length <= 16);
    // The reported SSE is the SSE of the reconstruction.
    float[] rec = sized.reconstruct();
    double sse = 0;
    for (int i = 0; i < v.length; i++) {
      sse += (v[i] - rec[i]) * (double) (v[i] - rec[i]);
    }
    assertEquals(sse, sized.sse(), 1e-9 * sse);
  }

  @Test
  void envelopeAssignmentIsTheBruteForceArgmin() {
    Random r = new Random(3);
    for (int trial = 0; trial < 200; trial++) {
      int k = 2 + r.nextInt(10);
      double[] c = new double[k];
      double[] p = new double[k];
      for (int j = 0; j < k; j++) {
        c[j] = r.nextGaussian();
        p[j] = r.nextDouble() * 2;
      }
      Arrays.sort(c);
      float[] x = gaussian(300, trial);
      Arrays.sort(x);
      int[] assign = new int[x.length];
      Arrays.fill(assign, -1);
      EntropyConstrained.assignByEnvelope(x, c, p, assign);
      for (int i = 0; i < x.length; i++) {
        double best = Double.POSITIVE_INFINITY;
        for (int j = 0; j < k; j++) {
          best = Math.min(best, (x[i] - c[j]) * (x[i] - c[j]) + p[j]);
        }
        int a = assign[i];
        double got = (x[i] - c[a]) * (x[i] - c[a]) + p[a];
        assertEquals(best, got, 1e-9, "trial " + trial + " value " + x[i]);
      }
    }
  }

  private static double[] toDoubles(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  @Test
  void deterministic() {
    float[] v = gaussian(5000, 4);
    Clustering start = Clusterer1D.cluster(v, 8, InitMethod.OPTIMAL, true, 0);
    Clustering a = EntropyConstrained.refine(v, start, 0.1);
    Clustering b = EntropyConstrained.refine(v, start, 0.1);
    assertArrayEquals(a.centroids(), b.centroids());
    assertArrayEquals(a.indices(), b.indices());
  }
  /**
   * The interval form of the envelope sweep gives exactly the sweep's assignment, including where
   * rounding decides: centroids a few ulps apart, equal centroids, values at the crossings,
   * repeated values, a wide range of scales, centroids with no values.
   */
  @Test
  void cutsAreExactlyTheSweepsAssignment() {
    Random r = new Random(11);
    for (int trial = 0; trial < 3000; trial++) {
      int k = 1 + r.nextInt(12);
      double scale = Math.pow(10, r.nextInt(9) - 6);
      double[] c = new double[k];
      double[] p = new double[k];
      for (int j = 0; j < k; j++) {
        c[j] = r.nextGaussian() * scale;
        p[j] = switch (r.nextInt(4)) {
          case 0 -> 0;
          case 1 -> Double.POSITIVE_INFINITY;
          default -> r.nextDouble() * scale * scale * 3;
        };
      }
      Arrays.sort(c);
      for (int j = 1; j < k; j++) {
        if (r.nextInt(5) == 0) {
          c[j] = r.nextBoolean() ? c[j - 1] : Math.nextUp(c[j - 1]);
        }
      }
      if (Arrays.stream(p).allMatch(Double::isInfinite)) {
        p[r.nextInt(k)] = 0;
      }
      int n = 1 + r.nextInt(400);
      float[] x = new float[n];
      for (int i = 0; i < n; i++) {
        x[i] = switch (r.nextInt(4)) {
          case 0 -> (float) c[r.nextInt(k)]; // on a centroid
          case 1 -> (float) ((c[r.nextInt(k)] + c[r.nextInt(k)]) / 2); // near a crossing
          default -> (float) (r.nextGaussian() * scale * 2);
        };
        if (i > 0 && r.nextInt(6) == 0) {
          x[i] = x[i - 1];
        }
      }
      Arrays.sort(x);
      int[] swept = new int[n];
      EntropyConstrained.assignByEnvelope(x, c, p, swept);
      int[] cuts = EntropyConstrained.cutsByEnvelope(x, c, p);
      int[] fromCuts = new int[n];
      for (int j = 0; j < k; j++) {
        assertTrue(cuts[j] <= cuts[j + 1], "trial " + trial);
        Arrays.fill(fromCuts, cuts[j], cuts[j + 1], j);
      }
      assertEquals(n, cuts[k], "trial " + trial);
      assertArrayEquals(swept, fromCuts, "trial " + trial);
    }
  }
}

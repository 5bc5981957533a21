package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The knee clustering ({@link RateDistortion#atWeight}) and the entropy-constrained polish
 * ({@link EntropyConstrained#refineWithLambda}) give bit-identical centroids and indices to the
 * version before their speed-up (issue #13). The expected digests were <b>recorded by the previous
 * code</b> (commit 0a2f266, before the interval-based polish) on these seeded inputs: the point of
 * this test is equality with that version, not the quality of the result (RateDistortionTest and
 * EntropyConstrainedTest check that). Sizes are chosen so that the atom DP is followed by the polish
 * (more distinct values than the work budget's atoms) as well as the exact DP alone.
 */
class KneeOutputRecordTest {

  /** Conv-weight-like values: a Gaussian whose scale varies by "channel", some values repeated. */
  private static float[] weights(int n, long seed, int quantize) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      double x = r.nextGaussian() * 0.02 * (1 + (i % 64) / 64.0);
      if (i % 7 == 0) {
        x = Math.signum(x) * Math.abs(x) * 3; // heavier tail
      }
      v[i] = quantize > 0 ? (float) (Math.rint(x * quantize) / quantize) : (float) x;
    }
    return v;
  }

  /** k well separated blobs of equal weight: the knee's polish keeps all k clusters on these. */
  private static float[] blobs(int n, long seed, int k) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextInt(k) * 0.1 + r.nextGaussian() * 0.004);
    }
    return v;
  }

  private static String digest(Clustering c) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    ByteBuffer b = ByteBuffer.allocate(4 * (c.centroids().length + c.indices().length));
    for (float f : c.centroids()) {
      b.putInt(Float.floatToRawIntBits(f));
    }
    for (int i : c.indices()) {
      b.putInt(i);
    }
    md.update(b.array());
    return HexFormat.of().formatHex(md.digest()).substring(0, 24) + "/" + c.centroids().length;
  }

  private static String knee(int n, long seed, int quantize, int k) throws Exception {
    return digest(RateDistortion.atWeight(KMeans1D.Distinct.of(weights(n, seed, quantize)), k,
        RateDistortion.KNEE_WEIGHT));
  }

  @Test
  void kneeMatchesThePreviousVersion() throws Exception {
    String[] got = {
      knee(3_000, 1, 0, 4),
      knee(3_000, 2, 0, 16),
      knee(20_000, 3, 0, 8),
      knee(20_000, 4, 2000, 16),
      knee(120_000, 5, 0, 16),
      knee(120_000, 6, 0, 32),
      knee(400_000, 7, 0, 16),
      knee(400_000, 8, 50_000, 64),
    };
    String[] expected = {
      "9478da90582633d25e957259/4",
      "6b750a0c16671644cf3a65c1/16",
      "4d568140e45e870fd6f73c7a/8",
      "551029afe8f45f98ff7075f2/16",
      "fc70226c34c721c74816c700/16",
      "d5d3bd10c170f2e9a3bd32f4/32",
      "452b37cc1439cab57362bad1/16",
      "de3aba7c2da97f9275885a8e/64",
    };
    for (int i = 0; i < got.length; i++) {
      assertEquals(expected[i], got[i], "case " + i);
    }
  }

  /**
   * On the conv-like inputs above the polish empties a cluster, so the knee keeps the atom DP's
   * clustering; on well separated blobs it keeps all k and the polished clustering is the result.
   */
  @Test
  void kneeWithAFullPolishMatchesThePreviousVersion() throws Exception {
    int[][] cases = {{30_000, 21, 4}, {200_000, 22, 8}, {200_000, 23, 16}};
    String[] expected = {
      "c69d7af6b557b4204f78e670/4",
      "bdaf155d1364c43b3f998bdc/8",
      "551b57e5dfad71243f51e8db/16",
    };
    for (int i = 0; i < cases.length; i++) {
      int[] c = cases[i];
      String got = digest(RateDistortion.atWeight(KMeans1D.Distinct.of(blobs(c[0], c[1], c[2])), c[2],
          RateDistortion.KNEE_WEIGHT));
      assertEquals(expected[i], got, "case " + i);
    }
  }

  @Test
  void polishFromSeveralLambdasMatchesThePreviousVersion() throws Exception {
    float[] v = weights(60_000, 9, 0);
    KMeans1D.Distinct d = KMeans1D.Distinct.of(v);
    Clustering start = OptimalKMeans1D.cluster(d, 12);
    double mse = start.sse() / v.length;
    double[] weights = {0.5, 4, 16, 64, 400};
    String[] expected = {
      "5324f7fc5760e01e7ddfa36f/12",
      "b53dea18e3b5c0b82ca8812e/12",
      "a73882d5411d68a606f8da45/7",
      "7b094b77d357f339f6ac9237/3",
      "ee7d1c29dc60ffd16a011c43/1",
    };
    String[] got = new String[weights.length];
    for (int i = 0; i < weights.length; i++) {
      got[i] = digest(EntropyConstrained.refineWithLambda(d, start, weights[i] * mse));
    }
    for (int i = 0; i < weights.length; i++) {
      assertEquals(expected[i], got[i], "weight " + weights[i]);
    }
  }
}

package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WeightedClusterer1DTest {

  /** The least weighted SSE over every assignment of the values to k labels (k^n of them). */
  private static double bruteForce(float[] x, float[] w, int k) {
    int n = x.length;
    int[] label = new int[n];
    double best = Double.POSITIVE_INFINITY;
    long total = (long) Math.pow(k, n);
    for (long code = 0; code < total; code++) {
      long c = code;
      for (int i = 0; i < n; i++) {
        label[i] = (int) (c % k);
        c /= k;
      }
      double[] sw = new double[k];
      double[] swx = new double[k];
      for (int i = 0; i < n; i++) {
        sw[label[i]] += w[i];
        swx[label[i]] += w[i] * x[i];
      }
      double sse = 0;
      for (int i = 0; i < n; i++) {
        double e = x[i] - swx[label[i]] / sw[label[i]];
        sse += w[i] * e * e;
      }
      best = Math.min(best, sse);
    }
    return best;
  }

  private static float[] randomValues(Random r, int n, int levels) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      // Few levels: repeated values (their weights add up) occur often.
      x[i] = (float) (r.nextInt(levels) * 0.25 + r.nextGaussian() * (r.nextBoolean() ? 0 : 0.1));
    }
    return x;
  }

  private static float[] randomWeights(Random r, int n) {
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      // Spread over four orders of magnitude, as inverse squared BatchNorm factors are.
      w[i] = (float) Math.pow(10, 4 * r.nextDouble() - 2);
    }
    return w;
  }

  @Test
  void optimalMatchesBruteForceOnSmallWeightedSets() {
    Random r = new Random(11);
    int checked = 0;
    for (int trial = 0; trial < 300; trial++) {
      int n = 4 + r.nextInt(5);
      int k = 2 + r.nextInt(2);
      float[] x = randomValues(r, n, 6);
      float[] w = randomWeights(r, n);
      if (KMeans1D.Distinct.of(x).size() <= k) {
        continue;
      }
      Clustering c = WeightedClusterer1D.cluster(x, w, k, InitMethod.OPTIMAL, false, 0, 0);
      double expected = bruteForce(x, w, k);
      double got = WeightedClusterer1D.weightedSse(x, w, c);
      assertEquals(expected, got, 1e-6 * Math.max(1e-6, expected), () -> Arrays.toString(x) + Arrays.toString(w));
      checked++;
    }
    assertTrue(checked > 200, "only " + checked + " sets checked");
  }

  @Test
  void lloydAndKneeNeverBeatTheOptimumAndKneeAssignsToTheNearestCentroid() {
    Random r = new Random(12);
    for (int trial = 0; trial < 100; trial++) {
      int n = 50 + r.nextInt(200);
      float[] x = new float[n];
      for (int i = 0; i < n; i++) {
        x[i] = (float) r.nextGaussian();
      }
      float[] w = randomWeights(r, n);
      int k = 2 + r.nextInt(6);
      double optimum = WeightedClusterer1D.weightedSse(x, w,
          WeightedClusterer1D.cluster(x, w, k, InitMethod.OPTIMAL, false, 0, 0));
      for (InitMethod m : new InitMethod[] {InitMethod.KMEANS_PP, InitMethod.LINEAR, InitMethod.KNEE}) {
        Clustering c = WeightedClusterer1D.cluster(x, w, k, m, true, trial, 16);
        assertTrue(WeightedClusterer1D.weightedSse(x, w, c) >= optimum * (1 - 1e-9), m + " beat the optimum");
        if (m == InitMethod.KNEE) {
          float[] centroids = c.centroids();
          for (int i = 0; i < n; i++) {
            double own = Math.abs(x[i] - centroids[c.indices()[i]]);
            for (float other : centroids) {
              assertTrue(own <= Math.abs(x[i] - other) + 1e-7, "knee: value not at its nearest centroid");
            }
          }
        }
      }
    }
  }

  @Test
  void lloydEndsAtAFixedPointOfWeightedMeans() {
    Random r = new Random(13);
    float[] x = new float[400];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    float[] w = randomWeights(r, x.length);
    Clustering c = WeightedClusterer1D.cluster(x, w, 6, InitMethod.KMEANS_PP, true, 3, 0);
    double[] sw = new double[6];
    double[] swx = new double[6];
    for (int i = 0; i < x.length; i++) {
      sw[c.indices()[i]] += w[i];
      swx[c.indices()[i]] += w[i] * (double) x[i];
    }
    for (int j = 0; j < 6; j++) {
      assertEquals(swx[j] / sw[j], c.centroids()[j], 1e-5, "centroid " + j + " is not its members' weighted mean");
    }
  }

  @Test
  void equalWeightsGiveTheUnweightedOptimum() {
    Random r = new Random(14);
    for (int trial = 0; trial < 50; trial++) {
      float[] x = new float[300 + r.nextInt(3000)];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) (r.nextGaussian() * (r.nextInt(10) == 0 ? 4 : 1));
      }
      float[] w = new float[x.length];
      Arrays.fill(w, 2.5f);
      int k = 2 + r.nextInt(15);
      Clustering weighted = WeightedClusterer1D.cluster(x, w, k, InitMethod.OPTIMAL, false, 0, 0);
      Clustering plain = Clusterer1D.cluster(x, k, InitMethod.OPTIMAL, false, 0);
      assertEquals(plain.sse(), weighted.sse(), 1e-9 * plain.sse());
    }
  }
}

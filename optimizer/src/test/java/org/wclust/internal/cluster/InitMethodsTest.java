package org.wclust.internal.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class InitMethodsTest {

  private static final int[] KS = {2, 3, 8, 16, 64, 256};
  private static final String[] SHAPES = {"normal", "uniform", "bimodal", "duplicates"};

  /**
   * Property: on random tensors of several sizes and shapes, optimal's SSE is at most every other
   * method's, refined or not. Tolerance: 1e-9 relative, plus the effect of rounding centroids to
   * float (at most half an ulp of the largest value per element, squared), which can favour any
   * method by that much.
   */
  @Test
  void optimalIsNeverWorseThanAnyOtherMethod() {
    int comparisons = 0;
    for (int size : new int[] {100, 1000, 20_000}) {
      int seeds = size == 20_000 ? 2 : 6;
      for (int shape = 0; shape < SHAPES.length; shape++) {
        for (int s = 0; s < seeds; s++) {
          long seed = 1000L * size + 10L * shape + s;
          float[] values = tensor(size, shape, seed);
          int distinct = KMeans1D.Distinct.of(values).size();
          double maxAbs = 0;
          for (float v : values) {
            maxAbs = Math.max(maxAbs, Math.abs(v));
          }
          double floatSlack = values.length * square(Math.ulp((float) maxAbs) / 2);
          for (int k : KS) {
            if (k > distinct - 1) {
              continue; // k >= distinct keeps the values; nothing to compare
            }
            Clustering optimal = Clusterer1D.cluster(values, k, InitMethod.OPTIMAL, true, seed);
            for (InitMethod method : InitMethod.values()) {
              for (boolean refine : new boolean[] {false, true}) {
                Clustering other = Clusterer1D.cluster(values, k, method, refine, seed);
                String context =
                    String.format(
                        "size=%d shape=%s seed=%d k=%d %s refine=%s: optimal %.17g vs %.17g",
                        size, SHAPES[shape], seed, k, method.cliName(), refine, optimal.sse(),
                        other.sse());
                if (!(optimal.sse() <= other.sse() * (1 + 1e-9) + floatSlack)) {
                  fail(context);
                }
                comparisons++;
              }
            }
          }
        }
      }
    }
    assertTrue(comparisons > 1500, "only " + comparisons + " comparisons");
  }

  @Test
  void linearWithoutRefineIsEvenlySpacedFromMinToMax() {
    for (int shape = 0; shape < SHAPES.length; shape++) {
      float[] values = tensor(1000, shape, 42 + shape);
      float min = min(values);
      float max = max(values);
      for (int k : KS) {
        if (k > distinct(values) - 1) {
          continue;
        }
        Clustering c = Clusterer1D.cluster(values, k, InitMethod.LINEAR, false, 0);
        float[] expected = new float[k];
        for (int i = 0; i < k; i++) {
          expected[i] = (float) (min + ((double) max - min) * i / (k - 1));
        }
        expected[0] = min;
        expected[k - 1] = max;
        assertArrayEquals(expected, c.centroids(), SHAPES[shape] + " k=" + k);
        assertFixedCentroidContract(values, c, SHAPES[shape] + " k=" + k);
      }
    }
  }

  @Test
  void randomWithoutRefineIsSeededUniformInRange() {
    for (int shape = 0; shape < SHAPES.length; shape++) {
      float[] values = tensor(1000, shape, 7 + shape);
      float min = min(values);
      float max = max(values);
      for (int k : KS) {
        if (k > distinct(values) - 1) {
          continue;
        }
        for (long seed = 0; seed < 5; seed++) {
          Clustering c = Clusterer1D.cluster(values, k, InitMethod.RANDOM, false, seed);
          SplittableRandom random = new SplittableRandom(seed);
          float[] expected = new float[k];
          for (int i = 0; i < k; i++) {
            expected[i] = (float) (min + ((double) max - min) * random.nextDouble());
          }
          Arrays.sort(expected);
          assertArrayEquals(expected, c.centroids(), "k=" + k + " seed=" + seed);
          for (float centroid : c.centroids()) {
            assertTrue(centroid >= min && centroid <= max, centroid + " out of range");
          }
          assertFixedCentroidContract(values, c, "k=" + k + " seed=" + seed);
        }
      }
    }
  }

  @Test
  void densityWithoutRefineIsAtTheMidQuantiles() {
    for (int shape = 0; shape < SHAPES.length; shape++) {
      float[] values = tensor(1000, shape, 99 + shape);
      float[] sorted = new float[values.length];
      for (int i = 0; i < values.length; i++) {
        sorted[i] = values[i] + 0.0f;
      }
      Arrays.sort(sorted);
      int n = sorted.length;
      for (int k : KS) {
        if (k > distinct(values) - 1) {
          continue;
        }
        Clustering c = Clusterer1D.cluster(values, k, InitMethod.DENSITY, false, 0);
        float[] expected = new float[k];
        for (int i = 0; i < k; i++) {
          expected[i] = sorted[(int) ((2L * i + 1) * n / (2L * k))];
        }
        assertArrayEquals(expected, c.centroids(), SHAPES[shape] + " k=" + k);
        assertFixedCentroidContract(values, c, SHAPES[shape] + " k=" + k);
      }
    }
  }

  @Test
  void unusedInitialCentroidsAreReportedWithoutRefineAndReseededWithIt() {
    // Linear centroids 0, 2.5, 5, 7.5, 10 over two tight groups: {0, 0.5, 1} go to 0 and
    // {9, 9.5, 10} to 10; 2.5, 5 and 7.5 get nothing.
    float[] values = {0, 0.5f, 1, 9, 9.5f, 10};
    Clustering raw = Clusterer1D.cluster(values, 5, InitMethod.LINEAR, false, 0);
    assertArrayEquals(new float[] {0, 2.5f, 5, 7.5f, 10}, raw.centroids());
    assertArrayEquals(new int[] {0, 0, 0, 4, 4, 4}, raw.indices());
    assertEquals(3, raw.emptyClusters());
    assertEquals(0.25 + 1 + 1 + 0.25, raw.sse(), 1e-12);

    Clustering refined = Clusterer1D.cluster(values, 5, InitMethod.LINEAR, true, 0);
    assertEquals(0, refined.emptyClusters());
    assertEquals(5, refined.distinctValues());

    // Density on a tensor that is mostly zeros repeats the zero centroid.
    float[] sparse = new float[100];
    for (int i = 90; i < 100; i++) {
      sparse[i] = i - 89;
    }
    Clustering density = Clusterer1D.cluster(sparse, 4, InitMethod.DENSITY, false, 0);
    assertArrayEquals(new float[] {0, 0, 0, 0}, density.centroids());
    assertEquals(3, density.emptyClusters());
    assertEquals(0, Clusterer1D.cluster(sparse, 4, InitMethod.DENSITY, true, 0).emptyClusters());
    // Optimal never leaves one empty.
    assertEquals(0, Clusterer1D.cluster(sparse, 4, InitMethod.OPTIMAL, false, 0).emptyClusters());
  }

  @Test
  void kmeansPlusPlusWithRefineIsKMeans1D() {
    for (int shape = 0; shape < SHAPES.length; shape++) {
      float[] values = tensor(2000, shape, shape);
      for (int k : new int[] {2, 8, 64}) {
        for (long seed = 0; seed < 3; seed++) {
          assertEquals(
              KMeans1D.cluster(values, k, seed),
              Clusterer1D.cluster(values, k, InitMethod.KMEANS_PP, true, seed),
              SHAPES[shape] + " k=" + k + " seed=" + seed);
        }
      }
    }
  }

  @Test
  void kmeansPlusPlusWithoutRefineKeepsItsSeeds() {
    float[] values = tensor(1000, 0, 5);
    Clustering c = Clusterer1D.cluster(values, 16, InitMethod.KMEANS_PP, false, 3);
    assertEquals(0, c.iterations());
    for (float centroid : c.centroids()) {
      assertTrue(contains(values, centroid), "k-means++ seeds are input values: " + centroid);
    }
    assertFixedCentroidContract(values, c, "kmeans++");
  }

  @ParameterizedTest
  @EnumSource(InitMethod.class)
  void sameSeedGivesIdenticalArrays(InitMethod method) {
    for (int shape = 0; shape < SHAPES.length; shape++) {
      float[] values = tensor(5000, shape, 17 + shape);
      for (boolean refine : new boolean[] {false, true}) {
        for (int k : new int[] {2, 16, 256}) {
          Clustering a = Clusterer1D.cluster(values, k, method, refine, 123);
          Clustering b = Clusterer1D.cluster(values.clone(), k, method, refine, 123);
          String context = method.cliName() + " refine=" + refine + " k=" + k;
          assertTrue(Arrays.equals(a.centroids(), b.centroids()), context);
          assertTrue(Arrays.equals(a.indices(), b.indices()), context);
          assertEquals(a, b, context);
        }
      }
    }
  }

  @Test
  void seedMattersOnlyForRandomAndKmeansPlusPlus() {
    float[] values = tensor(5000, 0, 1);
    for (InitMethod method : InitMethod.values()) {
      Clustering a = Clusterer1D.cluster(values, 16, method, false, 1);
      Clustering b = Clusterer1D.cluster(values, 16, method, false, 2);
      if (method == InitMethod.RANDOM || method == InitMethod.KMEANS_PP) {
        assertFalse(Arrays.equals(a.centroids(), b.centroids()), method.cliName());
      } else {
        assertEquals(a, b, method.cliName());
      }
    }
  }

  @Test
  void optimalIgnoresRefine() {
    float[] values = tensor(3000, 2, 8);
    Clustering a = Clusterer1D.cluster(values, 8, InitMethod.OPTIMAL, true, 0);
    Clustering b = Clusterer1D.cluster(values, 8, InitMethod.OPTIMAL, false, 0);
    assertEquals(a, b);
    assertEquals(0, a.iterations());
  }

  @ParameterizedTest
  @EnumSource(InitMethod.class)
  void kAtLeastDistinctKeepsTheValues(InitMethod method) {
    float[] values = {3, -1, 3, 0.5f, -1, 2.25f, -0.0f, 0.0f};
    for (boolean refine : new boolean[] {false, true}) {
      for (int k : new int[] {5, 6, 100}) {
        Clustering c = Clusterer1D.cluster(values, k, method, refine, 9);
        assertTrue(c.keptOriginalValues(), method + " k=" + k);
        assertArrayEquals(new float[] {-1, 0, 0.5f, 2.25f, 3}, c.centroids());
        float[] reconstructed = c.reconstruct();
        for (int i = 0; i < values.length; i++) {
          assertEquals(values[i] + 0.0f, reconstructed[i] + 0.0f);
        }
        assertEquals(0.0, c.sse());
        assertEquals(0, c.emptyClusters());
      }
    }
  }

  @Test
  void inputIsNotModified() {
    float[] values = tensor(1000, 1, 2);
    float[] copy = values.clone();
    for (InitMethod method : InitMethod.values()) {
      Clusterer1D.cluster(values, 8, method, false, 1);
      Clusterer1D.cluster(values, 8, method, true, 1);
    }
    assertArrayEquals(copy, values);
  }

  @Test
  void cliNamesRoundTrip() {
    assertEquals(
        Arrays.asList("linear", "random", "density", "kmeans++", "optimal", "knee"),
        Arrays.stream(InitMethod.values()).map(InitMethod::cliName).toList());
    for (InitMethod method : InitMethod.values()) {
      assertSame(method, InitMethod.fromCliName(method.cliName()));
      assertEquals(method != InitMethod.OPTIMAL && method != InitMethod.KNEE, method.refinable(), method.cliName());
    }
    assertSame(InitMethod.KNEE, InitMethod.DEFAULT);
  }

  @Test
  void fromCliNameRejectsUnknownNamesListingTheValidOnes() {
    for (String bad : new String[] {"kmeans", "Linear", "KMEANS_PP", "", " optimal", "optimal "}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> InitMethod.fromCliName(bad));
      assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
      assertTrue(
          e.getMessage().contains("linear, random, density, kmeans++, optimal"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> InitMethod.fromCliName(null));
  }

  @Test
  void badArguments() {
    float[] ok = {1, 2, 3};
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Clusterer1D.cluster(ok, 1, InitMethod.OPTIMAL, true, 0));
    assertTrue(e.getMessage().contains("k=1"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Clusterer1D.cluster(new float[] {1, Float.NaN}, 2, InitMethod.LINEAR, true, 0));
    assertTrue(e.getMessage().contains("values[1]"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> Clusterer1D.cluster(new float[0], 2, InitMethod.DENSITY, true, 0));
    assertThrows(NullPointerException.class, () -> Clusterer1D.cluster(ok, 2, null, true, 0));
    assertThrows(
        NullPointerException.class, () -> Clusterer1D.cluster(null, 2, InitMethod.RANDOM, true, 0));
  }

  @Test
  void fiveComponentConstructorCountsEmptyClusters() {
    Clustering c = new Clustering(new float[] {1, 2, 3}, new int[] {0, 2, 2}, 0, 0, false);
    assertEquals(1, c.emptyClusters());
    assertNotEquals(c, new Clustering(new float[] {1, 2, 3}, new int[] {0, 2, 2}, 0, 0, false, 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Clustering(new float[] {1, 2}, new int[] {0}, 0, 0, false, 3));
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Without refinement: centroids as initialised (ascending), each value at its nearest centroid
   * (ties to the lower), no iterations, sse and emptyClusters consistent with the indices.
   */
  private static void assertFixedCentroidContract(float[] values, Clustering c, String context) {
    float[] centroids = c.centroids();
    assertEquals(0, c.iterations(), context);
    assertFalse(c.keptOriginalValues(), context);
    for (int j = 1; j < centroids.length; j++) {
      assertTrue(centroids[j - 1] <= centroids[j], context + " not ascending");
    }
    boolean[] used = new boolean[centroids.length];
    for (int i = 0; i < values.length; i++) {
      int own = c.indices()[i];
      used[own] = true;
      double ownDistance = Math.abs(values[i] - (double) centroids[own]);
      for (int j = 0; j < centroids.length; j++) {
        double d = Math.abs(values[i] - (double) centroids[j]);
        if (d < ownDistance || (d == ownDistance && j < own)) {
          fail(context + ": values[" + i + "]=" + values[i] + " belongs to centroid " + j);
        }
      }
    }
    int empty = 0;
    for (boolean u : used) {
      empty += u ? 0 : 1;
    }
    assertEquals(empty, c.emptyClusters(), context);
    double sse = 0;
    float[] reconstructed = c.reconstruct();
    for (int i = 0; i < values.length; i++) {
      sse += square(values[i] - (double) reconstructed[i]);
    }
    assertEquals(sse, c.sse(), 1e-9 * (1 + sse), context);
  }

  /** 0 normal, 1 uniform, 2 bimodal, 3 normal quantized to few levels (duplicates). */
  private static float[] tensor(int n, int shape, long seed) {
    Random random = new Random(seed);
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] =
          switch (shape) {
            case 0 -> (float) (random.nextGaussian() * 0.05);
            case 1 -> random.nextFloat() * 0.2f - 0.1f;
            case 2 ->
                (float)
                    (random.nextBoolean()
                        ? -0.3 + 0.02 * random.nextGaussian()
                        : 0.1 + 0.05 * random.nextGaussian());
            default -> Math.round(random.nextGaussian() * 60) / 256f;
          };
    }
    return values;
  }

  private static int distinct(float[] values) {
    return KMeans1D.Distinct.of(values).size();
  }

  private static boolean contains(float[] values, float x) {
    for (float v : values) {
      if (v == x) {
        return true;
      }
    }
    return false;
  }

  private static float min(float[] values) {
    float m = Float.POSITIVE_INFINITY;
    for (float v : values) {
      m = Math.min(m, v);
    }
    return m;
  }

  private static float max(float[] values) {
    float m = Float.NEGATIVE_INFINITY;
    for (float v : values) {
      m = Math.max(m, v);
    }
    return m;
  }

  private static double square(double x) {
    return x * x;
  }
}

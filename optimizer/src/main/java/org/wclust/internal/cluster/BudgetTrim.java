package org.wclust.internal.cluster;

import com.google.common.collect.ImmutableList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;

/**
 * Brings a fine-tuned clustered model back within a size budget that fine-tuning overshot, without
 * training again: centroids stay as trained, and each weight may move to a neighbouring centroid of its
 * own codebook when that saves more index bits than it costs squared error — the entropy-constrained
 * assignment {@code argmin_c (x − c)² + λ · log2(N / n_c)} of the trained (latent) weights, λ searched
 * so that the budget's measure lands just within it. After fine-tuning nothing re-assigns the weights
 * to their nearest centroid any more, so this assignment is what the exported model holds; the weights
 * it moves sat near a border between two centroids, so each costs little.
 *
 * <p>Without importances, λ is per layer, {@code μ × share × (the layer's mean squared distance to its
 * centroids)}, with the knee's share ({@link ClusterRewriter#layerSettings}), so large tensors give up
 * bits first. With importances (the diagonal Fisher F of each weight, floored), each squared error is
 * weighted by its weight's F, so the cost is the loss increase predicted to second order,
 * {@code F_i (x − c)² + λ · bits}, and λ is one for the whole model, {@code μ × Σ F_i (x_i − c_i)² / (params
 * of the largest tensor)}: bits go where they raise the loss least, whichever layer, and weights that
 * no example's gradient reaches go first. Measured (benchmark CNN, seed 5, k = 8, a per-layer budget
 * 4.7 % under what fine-tuning left, the Dense kernel at k = 4): the unweighted trim cost 0.97 points
 * of test accuracy, the Fisher-weighted one (256 training examples) 0.06. Pinned
 * centroids (the zero of {@code --preserve-sparsity}) neither lose nor gain members.
 */
public final class BudgetTrim {
  private static final int BISECTIONS = 20;
  private static final double CLOSE_ENOUGH = 0.002;
  private static final int PASSES = 3;
  /** Sorted neighbours on each side of the nearest centroid that a weight may move to. */
  private static final int REACH = 2;

  private BudgetTrim() {}

  /** The trimmed model, the budget's measure of the model handed in ({@code before}) and of the trimmed one. */
  public record Result(ClusteredModel model, double before, double reached, double multiplier) {}

  /** The trim without importances: every squared error counts alike within a layer. */
  public static Result trim(ClusteredModel model, List<float[]> original,
      ToDoubleFunction<List<ClusteredLayer>> measure, double budget) {
    return trim(model, original, null, measure, budget);
  }

  /**
   * @param model the fine-tuned clustered model (its variables hold the trained latent weights)
   * @param original the targets' original values, in the order of {@code model.layers()}, for the SSE
   * @param importance per weight name, each weight's importance (e.g. its floored diagonal Fisher,
   *     in the tensor's element order), or null to weight every squared error alike
   * @param measure the budget's measure of a model's layers (bits per weight or predicted zipped bytes)
   * @param budget the measure's limit; a model already within it is returned as it is
   */
  public static Result trim(ClusteredModel model, List<float[]> original, Map<String, float[]> importance,
      ToDoubleFunction<List<ClusteredLayer>> measure, double budget) {
    double now = measure.applyAsDouble(model.layers());
    if (now <= budget) {
      return new Result(model, now, now, 0);
    }
    List<LayerTrim> layers = new ArrayList<>();
    long largest = ClusterRewriter.LARGE_TENSOR;
    for (ClusteredLayer l : model.layers()) {
      largest = Math.max(largest, l.weight().params());
    }
    for (ClusteredLayer l : model.layers()) {
      float[] latent = model.model().variables().get(l.weight().handleNode()).value().toFloats();
      float[] weights = importance == null ? null : importance.get(l.weight().name());
      layers.add(new LayerTrim(l, latent, l.weight().params() / (double) largest, weights));
    }
    if (importance != null) {
      // Importances are losses per squared error in every layer alike: one λ scale for all of them.
      double weightedSse = layers.stream().mapToDouble(l -> l.weightedSse).sum();
      for (LayerTrim l : layers) {
        l.lambdaScale = weightedSse / largest;
      }
    }
    FallingSearch.Point<List<ClusteredLayer>> trimmed = FallingSearch.smallestWithin(0, 1, 4, 1e6, BISECTIONS,
        CLOSE_ENOUGH, budget, mu -> {
          List<ClusteredLayer> at = at(layers, mu);
          return new FallingSearch.Point<>(mu, measure.applyAsDouble(at), at);
        });
    return new Result(withLayers(model, trimmed.at(), original), now, trimmed.value(), trimmed.multiplier());
  }

  private static List<ClusteredLayer> at(List<LayerTrim> layers, double mu) {
    return layers.stream().map(l -> l.assign(mu)).toList();
  }

  /** The model with each layer's indices (variables and clustering) replaced, SSE against the original. */
  static ClusteredModel withLayers(ClusteredModel model, List<ClusteredLayer> layers, List<float[]> original) {
    Map<String, ModelVariable> variables = new LinkedHashMap<>(model.model().variables());
    ImmutableList.Builder<ClusteredLayer> out = ImmutableList.builder();
    for (int t = 0; t < layers.size(); t++) {
      ClusteredLayer l = layers.get(t);
      TensorClustering c = l.clustering();
      ModelVariable indices = variables.get(l.indicesHandle());
      variables.put(l.indicesHandle(),
          indices.withValue(HostTensor.sharingInts(indices.value().shape(), c.indices())));
      float[] before = original.get(t);
      double sse = 0;
      for (int i = 0; i < before.length; i++) {
        double d = before[i] - c.codebook()[c.indices()[i]];
        sse += d * d;
      }
      out.add(withClustering(l, new TensorClustering(c.codebook(), c.indices(), c.groups(), sse,
          c.maxDistinctPerGroup(), c.keptOriginalValues(), c.emptyClusters())));
    }
    FlatModel m = FlatModel.of(model.model().graph(), model.model().signature(), variables);
    return new ClusteredModel(m, out.build());
  }

  static ClusteredLayer withClustering(ClusteredLayer l, TensorClustering c) {
    return new ClusteredLayer(l.weight(), l.settings(), c, l.centroidsHandle(), l.indicesHandle(),
        l.gradientScaleHandle(), l.trainableEntries(), l.sparsityMasked(), l.layoutSource(), l.weightTensor(),
        l.gatheredTensor());
  }

  /** One layer's latent weights and codebooks, ready to be assigned at any multiplier. */
  private static final class LayerTrim {
    final ClusteredLayer layer;
    final float[] latent;
    /** Per weight, what its squared error is multiplied by (null: 1). */
    final float[] importance;
    /** The layer's importance-weighted squared distance of its latent weights to their centroids. */
    final double weightedSse;
    /** λ = μ × this. */
    double lambdaScale;
    /** Per group, its movable entries sorted by centroid value. */
    final int[][] sortedEntries;
    final int[] groupOf;

    LayerTrim(ClusteredLayer layer, float[] latent, double share, float[] importance) {
      this.layer = layer;
      this.latent = latent;
      this.importance = importance;
      TensorClustering c = layer.clustering();
      int[] indices = c.indices();
      CodebookLayout layout = CodebookLayout.of(indices, layer.settings().granularity(), layer.weight().channels());
      groupOf = new int[indices.length];
      for (int e = 0; e < indices.length; e++) {
        groupOf[e] = layout.identity() ? 0 : layout.position()[e] / Math.max(1, layout.members());
      }
      sortedEntries = new int[layout.groups()][];
      for (int g = 0; g < layout.groups(); g++) {
        sortedEntries[g] = Arrays.stream(Arrays.copyOfRange(layout.entryTable(), g * layout.entries(),
                (g + 1) * layout.entries()))
            .distinct()
            .filter(this::movable)
            .boxed()
            .sorted((a, b) -> Float.compare(c.codebook()[a], c.codebook()[b]))
            .mapToInt(Integer::intValue)
            .toArray();
      }
      double sum = 0;
      double weighted = 0;
      for (int i = 0; i < indices.length; i++) {
        double d = latent[i] - c.codebook()[indices[i]];
        sum += d * d;
        weighted += weight(i) * d * d;
      }
      weightedSse = weighted;
      lambdaScale = share * sum / Math.max(1, indices.length);
    }

    double weight(int i) {
      return importance == null ? 1 : importance[i];
    }

    boolean movable(int entry) {
      float[] trainable = layer.trainableEntries();
      return trainable == null || entry >= trainable.length || trainable[entry] != 0;
    }

    ClusteredLayer assign(double mu) {
      TensorClustering c = layer.clustering();
      float[] codebook = c.codebook();
      int[] indices = c.indices().clone();
      double lambda = mu * lambdaScale;
      for (int pass = 0; pass < PASSES && lambda > 0; pass++) {
        long[] counts = new long[codebook.length];
        long[] groupSize = new long[sortedEntries.length];
        for (int i = 0; i < indices.length; i++) {
          counts[indices[i]]++;
          groupSize[groupOf[i]]++;
        }
        double[] bits = new double[codebook.length];
        for (int i = 0; i < indices.length; i++) {
          int e = indices[i];
          if (bits[e] == 0) {
            bits[e] = log2(groupSize[groupOf[i]] / (double) Math.max(counts[e], 1)) + 1e-12;
          }
        }
        boolean changed = false;
        for (int i = 0; i < indices.length; i++) {
          if (!movable(indices[i])) {
            continue;
          }
          int[] entries = sortedEntries[groupOf[i]];
          int nearest = nearest(entries, codebook, latent[i]);
          int best = indices[i];
          double w = weight(i);
          double bestCost = cost(latent[i], codebook[best], w, lambda, bits[best]);
          for (int j = Math.max(0, nearest - REACH); j <= Math.min(entries.length - 1, nearest + REACH); j++) {
            int e = entries[j];
            if (counts[e] == 0) {
              continue; // an entry this pass emptied stays empty: it has no code length to pay
            }
            double v = cost(latent[i], codebook[e], w, lambda, bits[e]);
            if (v < bestCost) {
              bestCost = v;
              best = e;
            }
          }
          changed |= best != indices[i];
          indices[i] = best;
        }
        if (!changed) {
          break;
        }
      }
      return withClustering(layer, new TensorClustering(codebook, indices, c.groups(), c.sse(),
          c.maxDistinctPerGroup(), c.keptOriginalValues(), c.emptyClusters()));
    }

    private static double cost(float x, float c, double weight, double lambda, double bits) {
      double d = x - c;
      return weight * d * d + lambda * bits;
    }

    /** The position in {@code entries} (sorted by centroid) of the centroid nearest to {@code x}. */
    private static int nearest(int[] entries, float[] codebook, float x) {
      int lo = 0;
      int hi = entries.length - 1;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (codebook[entries[mid]] < x) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      if (lo > 0 && Math.abs(codebook[entries[lo - 1]] - x) <= Math.abs(codebook[entries[lo]] - x)) {
        return lo - 1;
      }
      return lo;
    }
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}

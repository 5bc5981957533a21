package org.wclust.internal.cluster;

import com.google.common.collect.ImmutableList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.internal.bridge.GraphDefs;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.graph.ResourceGathers;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.graph.WeightTensor;

/**
 * Clusters the planned weights of a flat model and rewrites their reads into trainable
 * centroid-gather subgraphs ({@link ClusteredWeight#forward}): a centroids variable (float[K]), an
 * int32 indices variable (re-assigned during fine-tuning), a gradient-scale variable and, with
 * preserve-sparsity, a constant zero mask. The subgraphs are built with {@link Ops} in a scratch
 * graph and merged into the flat GraphDef; every consumer of the original weight's reads is rewired
 * to the clustered weight. The original variable stays in the model and feeds the straight-through
 * term, whose forward value is exactly zero, so the forward pass computes {@code centroids[indices]}.
 */
public final class ClusterRewriter {
  static final String SCOPE = "wclust_clustered";

  private ClusterRewriter() {}

  /**
   * @param plan the number of clusters per weight name
   * @param settings everything else about how each weight is clustered
   */
  public static ClusteredModel cluster(FlatModel model, Map<String, Integer> plan, ClusterSettings settings) {
    return cluster(model, plan, settings, false);
  }

  /**
   * @param int8Aware snap the centroids onto each output channel's int8 grid (see {@link Int8Snapper})
   */
  public static ClusteredModel cluster(FlatModel model, Map<String, Integer> plan, ClusterSettings settings,
      boolean int8Aware) {
    return cluster(model, plan, settings, int8Aware, LayerHints.NONE);
  }

  /**
   * @param hints per-weight importance and granularity (BatchNorm-safe folding, calibration data)
   */
  public static ClusteredModel cluster(FlatModel model, Map<String, Integer> plan, ClusterSettings settings,
      boolean int8Aware, LayerHints hints) {
    List<WeightTensor> targets = WeightDiscovery.discoverForClustering(model).stream()
        .filter(w -> plan.containsKey(w.name())).toList();
    List<ClusterSettings> shared = layerSettings(targets, plan, settings);
    List<ClusterSettings> settingsPerTarget = java.util.stream.IntStream.range(0, targets.size())
        .mapToObj(t -> hints.apply(targets.get(t).name(), shared.get(t))).toList();
    // Tensors are independent: cluster them on all cores; each result depends only on its inputs.
    List<TensorClustering> clusterings = java.util.stream.IntStream.range(0, targets.size()).parallel()
        .mapToObj(t -> {
          WeightTensor w = targets.get(t);
          float[] values = model.variables().get(w.handleNode()).value().toFloats();
          float[] importance = hints.importance().get(w.name());
          TensorClustering c = importance == null
              ? WeightClusterer.cluster(values, w.channels(), settingsPerTarget.get(t),
                  hints.partitions().get(w.name()))
              : WeightClusterer.cluster(values, importance, w.channels(), settingsPerTarget.get(t));
          if (settings.sizeWeight() > 0) {
            c = sizeAware(values, c, settings.sizeWeight());
          }
          return int8Aware ? Int8Snapper.snap(c, w.channels()) : c;
        })
        .toList();
    return rewrite(model, targets, clusterings, settingsPerTarget, int8Aware);
  }

  /**
   * Below this many weights (800 KB as float32) a tensor counts as small in {@link #layerSettings}.
   */
  static final long LARGE_TENSOR = 200_000;

  /**
   * Each target's settings: its k from the plan and, for {@link InitMethod#KNEE}, its share of the
   * rate weight. The weight is spent where the bytes are: a layer gets {@code rateWeight × params /
   * max(params of the largest target, }{@value #LARGE_TENSOR}{@code )}, so the largest tensor of a
   * model sits at the knee, and a small tensor (a first conv, a classifier head, every layer of a
   * small model — few bytes to save, and dense layers narrow enough for accuracy to feel every
   * error) stays near minimum squared error. Below {@value #KNEE_LOW_K} and above {@value #KNEE_FULL_K}
   * clusters the share is also scaled by {@link #kneeScale}.
   */
  static List<ClusterSettings> layerSettings(List<WeightTensor> targets, Map<String, Integer> plan,
      ClusterSettings settings) {
    long largest = Math.max(LARGE_TENSOR, targets.stream().mapToLong(WeightTensor::params).max().orElse(1));
    return targets.stream()
        .map(w -> settings.withClusters(plan.get(w.name()))
            .withRateWeight(settings.rateWeight() * kneeScale(plan.get(w.name())) * w.params() / (double) largest))
        .toList();
  }

  /** From this many clusters up to {@value #KNEE_FULL_K} the rate weight applies as given; see {@link #kneeScale}. */
  static final int KNEE_LOW_K = 8;

  /** Up to this many clusters the rate weight applies as given; see {@link #kneeScale}. */
  static final int KNEE_FULL_K = 16;

  /**
   * {@code (k / 8)²} below 8 clusters, 1 from 8 to 16, {@code k / 16} above: the largest weights that kept
   * the accuracy before fine-tuning within half a point of minimum squared error on the Fashion-MNIST
   * benchmark's three seeds (README, "How the knee's weight depends on k"). The rate weight is a multiple of
   * the optimal squared error at k, which shrinks about fourfold per doubling of k, but what a weight's
   * error costs does not scale the same way: at k = 8 a weight of 24 instead of 16 cost 2.6 points; below 8
   * the full weight empties the outer clusters of the largest kernel (k = 2: 10-33 % accuracy against
   * 71-73 % for minimum squared error), and a quarter of it at k = 4 (a sixteenth at k = 2) stays within
   * the half point; above 16 the error is so small that twice the weight at k = 32 (four times at 64)
   * costs at most a quarter point and zips about 5 % smaller.
   */
  static double kneeScale(int k) {
    if (k < KNEE_LOW_K) {
      double r = k / (double) KNEE_LOW_K;
      return r * r;
    }
    return k <= KNEE_FULL_K ? 1.0 : k / (double) KNEE_FULL_K;
  }

  /**
   * Rewrites {@code model} with the clusterings of {@code like}, weight by weight name, without
   * clustering again: for a twin of the graph {@code like} was made from (e.g. a Keras model's
   * training-mode graph), whose variables hold the same values.
   */
  public static ClusteredModel withClusteringsOf(FlatModel model, ClusteredModel like, boolean int8Aware) {
    Map<String, ClusteredLayer> byName = new HashMap<>();
    like.layers().forEach(l -> byName.put(l.weight().name(), l));
    List<WeightTensor> targets = WeightDiscovery.discoverForClustering(model).stream()
        .filter(w -> byName.containsKey(w.name())).toList();
    if (targets.size() != byName.size()) {
      throw new IllegalArgumentException("the graph has " + targets.size() + " of the " + byName.size()
          + " clustered weights");
    }
    return rewrite(model, targets, targets.stream().map(w -> byName.get(w.name()).clustering()).toList(),
        targets.stream().map(w -> byName.get(w.name()).settings()).toList(), int8Aware);
  }

  private static ClusteredModel rewrite(FlatModel model, List<WeightTensor> targets,
      List<TensorClustering> clusterings, List<ClusterSettings> settingsPerTarget, boolean int8Aware) {
    // A weight read by ResourceGather must flow through a ReadVariableOp to be rewired.
    model = ResourceGathers.asGatherV2(model);
    Map<String, ModelVariable> variables = new LinkedHashMap<>(model.variables());
    Map<String, String> rewire = new HashMap<>();
    Set<String> standIns = new HashSet<>();
    ImmutableList.Builder<ClusteredLayer> layers = ImmutableList.builder();
    Map<String, List<NodeDef>> readsByHandle = WeightDiscovery.reads(model);
    GraphDef subgraphs;
    try (Graph scratch = new Graph()) {
      Ops root = Ops.create(scratch).withSubScope(SCOPE);
      for (int t = 0; t < targets.size(); t++) {
        WeightTensor weight = targets.get(t);
        TensorClustering clustering = clusterings.get(t);
        ClusterSettings layerSettings = settingsPerTarget.get(t);
        HostTensor value = model.variables().get(weight.handleNode()).value();
        float[] codebook = clustering.codebook();
        Shape shape = Shape.of(value.shape());
        Ops tf = subScope(root, weight.name());
        String scope = SCOPE + "/" + scopeName(weight.name());

        VarHandleOp centroids = variable(tf, "centroids", TFloat32.class, Shape.of(codebook.length), scope);
        VarHandleOp indices = variable(tf, "indices", TInt32.class, shape, scope);
        VarHandleOp scale = variable(tf, "gradient_scale", TFloat32.class, Shape.of(codebook.length), scope);
        float[] trainable = trainableEntries(codebook, layerSettings.preserveSparsity());
        float[] mask = layerSettings.preserveSparsity() ? sparsityMask(value.toFloats()) : null;
        // The original weight enters through a stand-in placeholder, rewired below to the model's own
        // read of the variable (which lives in the model graph, not in this scratch graph).
        Operand<TFloat32> original = tf.withName("original").placeholder(TFloat32.class);
        standIns.add(original.op().name());
        ClusteredWeight.Parts parts = ClusteredWeight.forwardParts(tf,
            tf.withName("read_centroids").readVariableOp(centroids, TFloat32.class),
            tf.withName("read_gradient_scale").readVariableOp(scale, TFloat32.class),
            tf.withName("read_indices").readVariableOp(indices, TInt32.class),
            original,
            mask == null ? null : tf.withName("sparsity_mask").constant(shape, DataBuffers.of(mask, true, false)),
            shape);
        Operand<TFloat32> out = parts.weight();

        long[] k = {codebook.length};
        put(variables, centroids, weight.name() + "/centroids", HostTensor.ofFloats(k, codebook));
        // The variable shares the clustering's indices: one copy of them (100 MB on ResNet50), not two.
        put(variables, indices, weight.name() + "/indices",
            HostTensor.sharingInts(value.shape(), clustering.indices()));
        put(variables, scale, weight.name() + "/gradient_scale", HostTensor.ofFloats(k, trainable));
        String outTensor = TensorRef.of(out.op().name(), 0).toString();
        List<NodeDef> reads = readsByHandle.get(weight.handleNode());
        reads.forEach(read -> rewire.put(TensorRef.of(read.getName(), 0).toString(), outTensor));
        rewire.put(TensorRef.of(original.op().name(), 0).toString(),
            TensorRef.of(reads.get(0).getName(), 0).toString());
        Granularity layoutGranularity = int8Aware ? Granularity.CHANNEL : layerSettings.granularity();
        layers.add(new ClusteredLayer(weight, layerSettings, clustering, centroids.op().name(),
            indices.op().name(), scale.op().name(), trainable, mask != null,
            ClusteredLayer.layoutOf(clustering.indices(), layoutGranularity, weight), outTensor,
            TensorRef.of(parts.gathered().op().name(), 0).toString()));
      }
      subgraphs = scratch.toGraphDef();
    }
    GraphDef.Builder merged = model.graph().toBuilder();
    subgraphs.getNodeList().stream().filter(n -> !standIns.contains(n.getName())).forEach(merged::addNode);
    GraphDef rewired = GraphDefs.rewireInputs(merged.build(), rewire);
    return new ClusteredModel(FlatModel.of(rewired, model.signature(), variables), layers.build());
  }

  private static <T extends org.tensorflow.types.family.TType> VarHandleOp variable(Ops tf, String name,
      Class<T> type, Shape shape, String scope) {
    // An explicit shared_name: handles without one alias each other once the graph is imported.
    return tf.withName(name).varHandleOp(type, shape, VarHandleOp.sharedName(scope + "/" + name));
  }

  private static void put(Map<String, ModelVariable> variables, VarHandleOp handle, String name, HostTensor value) {
    String node = handle.op().name();
    variables.put(node, new ModelVariable(node, name, value));
  }

  /** 1 for each centroid fine-tuning may move; 0 for the centroid pinned at zero by preserve-sparsity. */
  private static float[] trainableEntries(float[] codebook, boolean preserveSparsity) {
    float[] trainable = new float[codebook.length];
    for (int i = 0; i < codebook.length; i++) {
      trainable[i] = preserveSparsity && codebook[i] == 0f ? 0f : 1f;
    }
    return trainable;
  }

  /** 1 where the weight is non-zero, 0 where it is exactly zero and must stay so; null if none is. */
  private static float[] sparsityMask(float[] values) {
    float[] mask = new float[values.length];
    boolean anyZero = false;
    for (int i = 0; i < values.length; i++) {
      mask[i] = values[i] == 0f ? 0f : 1f;
      anyZero |= values[i] == 0f;
    }
    return anyZero ? mask : null;
  }

  /** Entropy-constrained refinement of a single-codebook clustering (see {@link EntropyConstrained}). */
  private static TensorClustering sizeAware(float[] values, TensorClustering c, double sizeWeight) {
    Clustering refined = EntropyConstrained.refine(values,
        new Clustering(c.codebook(), c.indices(), c.sse(), 0, c.keptOriginalValues()), sizeWeight);
    return new TensorClustering(refined.centroids(), refined.indices(), 1, refined.sse(),
        refined.distinctValues(), refined.keptOriginalValues(), 0);
  }

  private static Ops subScope(Ops root, String weightName) {
    Ops tf = root;
    for (String part : scopeName(weightName).split("/")) {
      tf = tf.withSubScope(part);
    }
    return tf;
  }

  /** A weight name made valid as TF scope names: {@code [A-Za-z0-9.][A-Za-z0-9_.\-]*} per level. */
  static String scopeName(String weightName) {
    StringBuilder out = new StringBuilder();
    for (String part : weightName.split("/")) {
      String clean = part.replaceAll("[^A-Za-z0-9_.\\-]", "_");
      if (clean.isEmpty() || !Character.isLetterOrDigit(clean.charAt(0)) && clean.charAt(0) != '.') {
        clean = "w" + clean;
      }
      out.append(out.length() == 0 ? "" : "/").append(clean);
    }
    return out.toString();
  }
}

package org.wclust.cluster;

import com.google.common.collect.ImmutableList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.bridge.GraphDefs;
import org.wclust.bridge.HostTensor;
import org.wclust.bridge.TensorRef;
import org.wclust.graph.FlatModel;
import org.wclust.graph.ModelVariable;
import org.wclust.graph.WeightDiscovery;
import org.wclust.graph.WeightTensor;

/**
 * Clusters the planned weights of a flat model and rewrites their reads into centroid-gather
 * subgraphs: a centroids variable (float[k]) and an int32 indices constant feeding
 * {@link CentroidGather}. The subgraphs are built with {@link Ops} in a scratch graph and merged into
 * the flat GraphDef; every consumer of the original weight's reads is rewired to the gather. The
 * original variable stays in the model (fine-tuning updates it straight-through), unread by the
 * forward pass.
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
    List<WeightTensor> targets = WeightDiscovery.discover(model).stream()
        .filter(w -> plan.containsKey(w.name())).toList();
    // Tensors are independent: cluster them on all cores; each result depends only on its inputs.
    List<TensorClustering> clusterings = targets.parallelStream()
        .map(w -> {
          float[] values = model.variables().get(w.handleNode()).value().toFloats();
          TensorClustering c = WeightClusterer.cluster(values, w.channels(), settings.withClusters(plan.get(w.name())));
          if (settings.sizeWeight() > 0) {
            c = sizeAware(values, c, settings.sizeWeight());
          }
          return int8Aware ? Int8Snapper.snap(c, w.channels()) : c;
        })
        .toList();
    Map<String, ModelVariable> variables = new LinkedHashMap<>(model.variables());
    Map<String, String> rewire = new HashMap<>();
    ImmutableList.Builder<ClusteredLayer> layers = ImmutableList.builder();
    GraphDef subgraphs;
    try (Graph scratch = new Graph()) {
      Ops root = Ops.create(scratch).withSubScope(SCOPE);
      for (int t = 0; t < targets.size(); t++) {
        WeightTensor weight = targets.get(t);
        TensorClustering clustering = clusterings.get(t);
        HostTensor value = model.variables().get(weight.handleNode()).value();
        Ops tf = subScope(root, weight.name());
        String centroidsName = scopeName(weight.name()) + "/centroids";
        VarHandleOp handle = tf.withName("centroids").varHandleOp(TFloat32.class,
            Shape.of(clustering.codebook().length), VarHandleOp.sharedName(SCOPE + "/" + centroidsName));
        Operand<TFloat32> centroids = tf.withName("read_centroids").readVariableOp(handle, TFloat32.class);
        Shape shape = Shape.of(value.shape());
        Operand<TInt32> indices = tf.withName("indices")
            .constant(shape, DataBuffers.of(clustering.indices(), true, false));
        Operand<TFloat32> out = CentroidGather.apply(tf, centroids, indices, shape);

        String handleNode = handle.op().name();
        variables.put(handleNode, new ModelVariable(handleNode, weight.name() + "/centroids",
            HostTensor.ofFloats(new long[] {clustering.codebook().length}, clustering.codebook())));
        String outTensor = TensorRef.of(out.op().name(), 0).toString();
        WeightDiscovery.reads(model, weight.handleNode())
            .forEach(read -> rewire.put(read.getName(), outTensor));
        layers.add(new ClusteredLayer(weight, settings.withClusters(plan.get(weight.name())), clustering,
            handleNode, outTensor));
      }
      subgraphs = scratch.toGraphDef();
    }
    GraphDef merged = model.graph().toBuilder().addAllNode(subgraphs.getNodeList()).build();
    GraphDef rewired = GraphDefs.rewireInputs(merged, rewire);
    return new ClusteredModel(FlatModel.of(rewired, model.signature(), variables), layers.build());
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

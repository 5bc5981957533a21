package org.wclust.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import com.google.common.collect.ImmutableList;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;
import org.wclust.internal.bridge.GraphDefs;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.ServingSignature;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.graph.WeightTensor;
import org.wclust.internal.load.ModelLoadException;
import org.wclust.internal.load.ModelLoader;

/**
 * A model ready to be clustered step by step, the TF Java form of tfmot's {@code cluster_weights} →
 * {@code fit} → {@code strip_clustering}: {@link #cluster} gives a {@link ClusteredModel} whose
 * centroid-gather graph you train (with your own loop or {@link ClusteredModel#fineTune}), then
 * {@link ClusteredModel#strip} and export it.
 *
 * <pre>{@code
 * try (ClusterableModel model = ClusterableModel.load(Path.of("model.keras"));   // SavedModel, .keras, .h5, model.json
 *     ClusteredModel clustered = model.cluster(ClusterConfig.builder().clusters(8).build())) {
 *   clustered.fineTune(Datasets.npz(Path.of("train.npz")), FineTuning.builder().epochs(1).build());
 *   clustered.strip().exportSavedModel(Path.of("out"));   // constants only, the source signature
 * }
 * }</pre>
 */
public final class ClusterableModel implements AutoCloseable {
  private final Path source;
  private final FlatModel model;
  private final long loadStarted;
  private final StageClock clock;
  private final List<ClusteredModel> clustered = new ArrayList<>();

  private ClusterableModel(Path source, FlatModel model, long loadStarted, StageClock clock) {
    this.source = source;
    this.model = model;
    this.loadStarted = loadStarted;
    this.clock = clock;
  }

  /** Loads a SavedModel directory, {@code .keras} / {@code .h5} file or TensorFlow.js {@code model.json} ({@code serving_default}). */
  public static ClusterableModel load(Path path) throws IOException {
    return load(path, ModelLoader.DEFAULT_SIGNATURE);
  }

  /** As {@link #load(Path)}, with the serving signature {@code signature}. */
  public static ClusterableModel load(Path path, String signature) throws IOException {
    long started = System.nanoTime();
    StageClock clock = new StageClock();
    try {
      FlatModel model = ModelLoader.load(path, signature);
      clock.lap("load");
      return new ClusterableModel(path, model, started, clock);
    } catch (ModelLoadException e) {
      throw Wclust.unreadable(e);
    }
  }

  /**
   * A model you built with TF Java {@code Ops} in {@code graph} and trained in {@code session}: the part of
   * the graph that computes {@code signature}'s outputs from its inputs, with every resource variable
   * ({@code VarHandleOp}) at its current value in {@code session}. Adds one read per variable to
   * {@code graph}; the graph and session stay yours (this model holds copies).
   *
   * <pre>{@code
   * Signature sig = Signature.builder().input("x", x).output("y", y).build();
   * ClusterableModel model = ClusterableModel.of(graph, sig, session);
   * }</pre>
   *
   * @throws IllegalArgumentException for legacy {@code VariableV2} variables (build with {@code varHandleOp})
   */
  public static ClusterableModel of(Graph graph, Signature signature, Session session) {
    long started = System.nanoTime();
    StageClock clock = new StageClock();
    ServingSignature serving = servingSignature(signature);
    GraphDef pruned = GraphDefs.prune(graph.toGraphDef(),
        serving.outputs().stream().map(TensorSpec::tensorName).toList());
    GraphDef.Builder flat = pruned.toBuilder().clearNode();
    List<NodeDef> handles = new ArrayList<>();
    for (NodeDef node : pruned.getNodeList()) {
      if (node.getOp().equals("VariableV2") || node.getOp().equals("Variable")) {
        throw new IllegalArgumentException("variable " + node.getName() + " is a legacy ref variable ("
            + node.getOp() + "); build the model with resource variables (tf.varHandleOp / readVariableOp)");
      }
      if (node.getOp().equals("VarHandleOp")) {
        handles.add(node);
        // Handles without a shared_name would alias each other once the graph is imported again.
        AttrValue shared = node.getAttrMap().get("shared_name");
        if (shared == null || shared.getS().isEmpty()) {
          node = node.toBuilder().putAttr("shared_name", AttrValue.newBuilder()
              .setS(com.google.protobuf.ByteString.copyFromUtf8(node.getName())).build()).build();
        }
      }
      flat.addNode(node);
    }
    Map<String, ModelVariable> variables = new LinkedHashMap<>();
    if (!handles.isEmpty()) {
      Session.Runner runner = session.runner();
      List<GraphOperation> reads = new ArrayList<>();
      for (NodeDef handle : handles) {
        reads.add(graph.opBuilder("ReadVariableOp", handle.getName() + "/wclust_read", graph.baseScope())
            .addInput(graph.operationOrThrow(handle.getName()).output(0))
            .setAttr("dtype", handle.getAttrOrThrow("dtype").getType())
            .build());
      }
      reads.forEach(r -> runner.fetch(r.output(0)));
      try (Result values = runner.run()) {
        for (int i = 0; i < handles.size(); i++) {
          String name = handles.get(i).getName();
          variables.put(name, new ModelVariable(name, name, HostTensor.copyOf(values.get(i))));
        }
      }
    }
    FlatModel model = FlatModel.of(flat.build(), serving, variables);
    clock.lap("load");
    return new ClusterableModel(null, model, started, clock);
  }

  private static ServingSignature servingSignature(Signature signature) {
    return new ServingSignature(signature.key(), specs(signature.getInputs()), specs(signature.getOutputs()));
  }

  private static ImmutableList<TensorSpec> specs(Map<String, Signature.TensorDescription> map) {
    return map.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> {
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      var s = e.getValue().shape;
      if (s.isUnknown()) {
        shape.setUnknownRank(true);
      } else {
        for (long d : s.asArray()) {
          shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
        }
      }
      return new TensorSpec(e.getKey(), e.getValue().name, e.getValue().dataType, shape.build());
    }).collect(ImmutableList.toImmutableList());
  }

  /** Every weight tensor of the model with its distinct values and whether it is clusterable. */
  public List<WeightInfo> weights() {
    return WeightDiscovery.discover(model).stream().map(WeightInfo::of).toList();
  }

  /** The Keras layer classes read from {@code .keras} / {@code .h5} files. */
  public static List<String> supportedKerasLayers() {
    return List.copyOf(org.wclust.internal.load.keras.layers.LayerRegistry.supported());
  }

  /** The names of the weights {@link #cluster} can cluster (conv and dense kernels), e.g. {@code dense/kernel}. */
  public List<String> clusterableWeights() {
    return WeightDiscovery.discoverForClustering(model).stream().filter(WeightTensor::clusterable)
        .map(WeightTensor::name).toList();
  }

  /**
   * Folds BatchNorm (when the config asks), clusters the planned weights, and (when the config has
   * training data) fine-tunes, as {@link Wclust#cluster} does; the config's signature is the one this
   * model was loaded with. The result's graph is ready to train.
   */
  public ClusteredModel cluster(ClusterConfig config) throws IOException {
    ClusterPipeline pipeline = new ClusterPipeline(source, model, config.options(), stage -> {},
        org.wclust.internal.train.FineTuner.Listener.NONE, clock, loadStarted);
    pipeline.fold().plan().cluster().evaluateAndFineTune();
    ClusteredModel result = new ClusteredModel(pipeline);
    clustered.add(result);
    return result;
  }

  /** Closes the clustered models made from this one (their graphs and sessions). */
  @Override
  public void close() {
    clustered.forEach(ClusteredModel::close);
  }
}

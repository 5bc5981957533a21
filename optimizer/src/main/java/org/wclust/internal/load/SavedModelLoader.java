package org.wclust.internal.load;

import com.google.common.collect.ImmutableList;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedConcreteFunction;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObject;
import org.tensorflow.proto.SavedObjectGraphOuterClass.SavedObjectGraph;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TrackableObjectGraphOuterClass.TrackableObjectGraph;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.ServingSignature;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;

/**
 * Loads a SavedModel directory into a {@link FlatModel}: the chosen signature's call tree inlined into
 * one graph, and every variable it reads restored from the checkpoint. Works for Keras 3
 * {@code model.export()}, {@code tf.saved_model.save} and TF1-style SavedModels (TF Java's exporter).
 *
 * <p>TF2 SavedModels name variables in the checkpoint by object path; the link from a graph's
 * VarHandleOp to its checkpoint key goes through the signature call's captured inputs, the concrete
 * function's {@code bound_inputs} (object ids), and the checkpoint's object graph (same ids). TF1
 * SavedModels key variables by node name.
 */
public final class SavedModelLoader {
  private static final String SERVE_TAG = "serve";

  private SavedModelLoader() {}

  public static boolean looksLikeSavedModel(Path dir) {
    return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve("saved_model.pb"));
  }

  public static FlatModel load(Path dir, String signatureKey) throws ModelLoadException {
    OpRegistry.prefetch(); // TensorFlow's runtime loads while saved_model.pb is parsed
    MetaGraphDef meta = readMetaGraph(dir);
    SignatureDef sigDef = meta.getSignatureDefMap().get(signatureKey);
    if (sigDef == null) {
      throw new ModelLoadException("signature '" + signatureKey + "' not found in " + dir
          + "; available: " + String.join(", ", meta.getSignatureDefMap().keySet()));
    }
    ServingSignature signature = ServingSignature.fromProto(signatureKey, sigDef);
    List<String> outputs = signature.outputs().stream().map(TensorSpec::tensorName).toList();
    FunctionInliner.Result inlined;
    try {
      inlined = FunctionInliner.inline(meta.getGraphDef(), outputs);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException("cannot flatten the graph of " + dir + ": " + e.getMessage(), e);
    }
    ImmutableList.Builder<TensorSpec> flatOutputs = ImmutableList.builder();
    for (int i = 0; i < outputs.size(); i++) {
      flatOutputs.add(signature.outputs().get(i)
          .withTensorName(TensorRef.parse(inlined.outputs().get(i)).withIndex()));
    }
    ServingSignature flatSignature =
        new ServingSignature(signatureKey, signature.inputs(), flatOutputs.build());
    return withVariables(dir, meta, inlined.graph(), flatSignature);
  }

  private static MetaGraphDef readMetaGraph(Path dir) throws ModelLoadException {
    if (!Files.exists(dir)) {
      throw new ModelLoadException("no such file or directory: " + dir);
    }
    if (!looksLikeSavedModel(dir)) {
      throw new ModelLoadException("not a SavedModel: " + dir + " has no saved_model.pb");
    }
    SavedModel model;
    try {
      model = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    } catch (InvalidProtocolBufferException e) {
      throw new ModelLoadException("truncated or corrupt SavedModel: cannot parse " + dir.resolve("saved_model.pb"), e);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read " + dir.resolve("saved_model.pb") + ": " + ReadErrors.describe(e), e);
    }
    if (model.getMetaGraphsCount() == 0) {
      throw new ModelLoadException("corrupt SavedModel: " + dir + " holds no meta graph");
    }
    return model.getMetaGraphsList().stream()
        .filter(m -> m.getMetaInfoDef().getTagsList().contains(SERVE_TAG))
        .findFirst()
        .orElse(model.getMetaGraphs(0));
  }

  /** Restores the values of the flat graph's variables and normalises them to resource variables. */
  private static FlatModel withVariables(Path dir, MetaGraphDef meta, GraphDef flat,
      ServingSignature signature) throws ModelLoadException {
    CheckpointReader checkpoint = new CheckpointReader(dir.resolve("variables").resolve("variables"));
    Map<String, VariableSource> sources = meta.getObjectGraphDef().getNodesCount() > 0
        ? tf2Sources(meta, checkpoint)
        : Map.of();
    GraphDef.Builder graph = flat.toBuilder().clearNode();
    Map<String, String> keyToHandle = new LinkedHashMap<>();
    Map<String, DataType> keys = new LinkedHashMap<>();
    Map<String, String> names = new HashMap<>();
    for (NodeDef node : flat.getNodeList()) {
      switch (node.getOp()) {
        case "VarHandleOp" -> {
          VariableSource source = sources.getOrDefault(node.getName(),
              new VariableSource(node.getName(), node.getName()));
          keyToHandle.put(source.checkpointKey(), node.getName());
          keys.put(source.checkpointKey(), node.getAttrOrThrow("dtype").getType());
          names.put(node.getName(), layerName(source.name()));
          graph.addNode(withSharedName(node));
        }
        case "VariableV2", "Variable" -> {
          // A TF1 ref variable becomes a resource variable whose read keeps the old node name,
          // so its consumers are unchanged.
          String handle = node.getName() + "/wclust_handle";
          keyToHandle.put(node.getName(), handle);
          keys.put(node.getName(), node.getAttrOrThrow("dtype").getType());
          names.put(handle, layerName(node.getName()));
          graph.addNode(NodeDef.newBuilder().setName(handle).setOp("VarHandleOp")
              .putAttr("dtype", node.getAttrOrThrow("dtype"))
              .putAttr("shape", node.getAttrOrThrow("shape"))
              .putAttr("shared_name", AttrValue.newBuilder()
                  .setS(com.google.protobuf.ByteString.copyFromUtf8(handle)).build()));
          graph.addNode(NodeDef.newBuilder().setName(node.getName()).setOp("ReadVariableOp")
              .addInput(handle).putAttr("dtype", node.getAttrOrThrow("dtype")));
        }
        default -> graph.addNode(node);
      }
    }
    Map<String, HostTensor> values = readValues(dir, checkpoint, keys, initialValues(meta.getGraphDef()));
    Map<String, ModelVariable> variables = new LinkedHashMap<>();
    keyToHandle.forEach((key, handle) ->
        variables.put(handle, new ModelVariable(handle, names.get(handle), values.get(key))));
    return VariableNames.uniquify(FlatModel.of(graph.build(), signature, variables));
  }

  /**
   * Reads the variables from the checkpoint. TF Java's exporter saves no resource variables (only
   * VariableV2); their value then lives in the graph, as the constant their initialiser assigns.
   */
  private static Map<String, HostTensor> readValues(Path dir, CheckpointReader checkpoint,
      Map<String, DataType> keys, Map<String, HostTensor> initialValues) throws ModelLoadException {
    boolean hasCheckpoint = Files.exists(dir.resolve("variables").resolve("variables.index"));
    if (hasCheckpoint) {
      try {
        return checkpoint.read(keys);
      } catch (IllegalArgumentException e) {
        if (!initialValues.keySet().containsAll(keys.keySet())) {
          throw new ModelLoadException(e.getMessage(), e);
        }
      }
    }
    Map<String, HostTensor> values = new LinkedHashMap<>();
    for (Map.Entry<String, DataType> key : keys.entrySet()) {
      HostTensor value = initialValues.get(key.getKey());
      if (value == null && hasCheckpoint) {
        try {
          value = checkpoint.read(Map.of(key.getKey(), key.getValue())).get(key.getKey());
        } catch (IllegalArgumentException e) {
          throw new ModelLoadException(e.getMessage(), e);
        }
      }
      if (value == null) {
        throw new ModelLoadException("variable " + key.getKey()
            + " is neither in the checkpoint nor initialised from a constant in the graph");
      }
      values.put(key.getKey(), value);
    }
    return values;
  }

  /** Values that the graph's initialisers assign from constants: {@code AssignVariableOp(handle, Const)}. */
  private static Map<String, HostTensor> initialValues(GraphDef graph) {
    Map<String, NodeDef> nodes = new HashMap<>();
    graph.getNodeList().forEach(n -> nodes.put(n.getName(), n));
    Map<String, HostTensor> values = new HashMap<>();
    for (NodeDef node : graph.getNodeList()) {
      if (!node.getOp().equals("AssignVariableOp") && !node.getOp().equals("Assign")) {
        continue;
      }
      NodeDef source = nodes.get(TensorRef.parse(node.getInput(1)).node());
      while (source != null && source.getOp().equals("Identity")) {
        source = nodes.get(TensorRef.parse(source.getInput(0)).node());
      }
      if (source != null && source.getOp().equals("Const")) {
        try {
          values.put(TensorRef.parse(node.getInput(0)).node(),
              HostTensor.fromProto(source.getAttrOrThrow("value").getTensor()));
        } catch (IllegalArgumentException unreadable) {
          // a constant of a type HostTensor cannot read: leave it to the checkpoint
        }
      }
    }
    return values;
  }

  /**
   * A VarHandleOp without {@code shared_name} (TF Java writes them so) would share one resource with
   * every other such handle once imported; naming it after its node keeps the variables apart.
   */
  private static NodeDef withSharedName(NodeDef handle) {
    AttrValue shared = handle.getAttrMap().get("shared_name");
    if (shared != null && !shared.getS().isEmpty()) {
      return handle;
    }
    return handle.toBuilder().putAttr("shared_name", AttrValue.newBuilder()
        .setS(com.google.protobuf.ByteString.copyFromUtf8(handle.getName())).build()).build();
  }

  private record VariableSource(String checkpointKey, String name) {}

  /** For each captured VarHandleOp of the top-level calls: its checkpoint key and variable name. */
  private static Map<String, VariableSource> tf2Sources(MetaGraphDef meta, CheckpointReader checkpoint)
      throws ModelLoadException {
    SavedObjectGraph objects = meta.getObjectGraphDef();
    TrackableObjectGraph trackables;
    try {
      trackables = TrackableObjectGraph.parseFrom(checkpoint.readBytes(CheckpointReader.OBJECT_GRAPH_KEY));
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new ModelLoadException("cannot read the variables of SavedModel " + checkpoint.prefix().getParent().getParent()
          + ": variables/variables.index or variables.data-* is missing, truncated or corrupt ("
          + CheckpointReader.firstLine(e.getMessage()) + ")", e);
    }
    Map<String, VariableSource> sources = new HashMap<>();
    for (NodeDef node : meta.getGraphDef().getNodeList()) {
      if (!node.getOp().endsWith("PartitionedCall")) {
        continue;
      }
      SavedConcreteFunction fn =
          objects.getConcreteFunctionsMap().get(node.getAttrOrThrow("f").getFunc().getName());
      if (fn == null) {
        continue;
      }
      List<String> inputs = new ArrayList<>(node.getInputList().stream()
          .filter(i -> !i.startsWith("^")).toList());
      List<Integer> bound = fn.getBoundInputsList();
      List<String> captures = inputs.subList(inputs.size() - bound.size(), inputs.size());
      for (int i = 0; i < bound.size(); i++) {
        int id = bound.get(i);
        SavedObject object = objects.getNodes(id);
        if (object.getKindCase() != SavedObject.KindCase.VARIABLE || id >= trackables.getNodesCount()) {
          continue;
        }
        String capture = TensorRef.parse(captures.get(i)).node();
        trackables.getNodes(id).getAttributesList().stream()
            .filter(a -> a.getName().equals("VARIABLE_VALUE"))
            .findFirst()
            .ifPresent(a -> sources.put(capture,
                new VariableSource(a.getCheckpointKey(), object.getVariable().getName())));
      }
    }
    return sources;
  }

  /** {@code sequential/conv2d_1/kernel} → {@code conv2d_1/kernel}: the model's own name adds nothing. */
  static String layerName(String variableName) {
    String[] parts = variableName.split("/");
    if (parts.length <= 2) {
      return variableName;
    }
    return String.join("/", java.util.Arrays.copyOfRange(parts, parts.length - 2, parts.length));
  }
}

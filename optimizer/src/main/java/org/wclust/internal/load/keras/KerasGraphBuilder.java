package org.wclust.internal.load.keras;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.ServingSignature;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.load.ModelLoadException;
import org.wclust.internal.load.keras.KerasConfig.Call;
import org.wclust.internal.load.keras.KerasConfig.Layer;
import org.wclust.internal.load.keras.KerasConfig.Model;
import org.wclust.internal.load.keras.KerasConfig.TensorId;
import org.wclust.internal.load.keras.KerasFile.LayerRef;
import org.wclust.internal.load.keras.layers.LayerContext;
import org.wclust.internal.load.keras.layers.LayerRegistry;

/**
 * Rebuilds a Keras model as a TF Java graph with {@link Ops}: one placeholder per model input (named
 * and keyed by the Keras input layer), each layer call built by its {@link LayerRegistry} entry, nested
 * models built inline, and the outputs as Identity nodes {@code output_0}, {@code output_1}, ... (the
 * keys Keras' {@code model.export()} uses). Weights become resource variables ({@code VarHandleOp}
 * with a {@code shared_name}, read by {@code ReadVariableOp}) named {@code <layer>/<weight>}, e.g.
 * {@code conv2d_1/kernel}, with their values in the {@link FlatModel}'s variables.
 *
 * <p>The same layer code builds the inference graph (BatchNorm with moving statistics, no dropout)
 * and the training graph (batch statistics with moving-average update ops, active dropout).
 */
public final class KerasGraphBuilder {
  /**
   * A built model; in training mode, the ops that update BatchNorm's moving statistics; and where
   * in the file each variable (by VarHandleOp node) came from.
   */
  public record KerasGraph(FlatModel model, ImmutableList<String> updateOps,
      ImmutableMap<String, KerasFile.WeightLocation> locations) {}

  /** Which graph to build. */
  public enum Mode {
    /** BatchNorm with its moving statistics, no dropout: what predict computes. */
    INFERENCE,
    /** BatchNorm with batch statistics and moving-average updates, active dropout: what fit trains. */
    TRAINING,
    /** Active dropout, BatchNorm in its inference form: for training a model whose BN is folded. */
    TRAINING_FROZEN_BATCH_NORM
  }

  private final KerasFile file;
  private final boolean training;
  private final boolean frozenBatchNorm;
  private long seeds;
  private final Map<String, ModelVariable> variables = new LinkedHashMap<>();
  private final Map<String, LayerContext.Weight> weightsByKey = new HashMap<>();
  private final Map<String, List<KerasFile.NamedValue>> fileWeights = new HashMap<>();
  private final Map<String, Integer> variableNames = new HashMap<>();
  private final List<String> updates = new ArrayList<>();
  private final Map<String, KerasFile.WeightLocation> locations = new LinkedHashMap<>();

  private KerasGraphBuilder(KerasFile file, Mode mode) {
    this.file = file;
    this.training = mode != Mode.INFERENCE;
    this.frozenBatchNorm = mode == Mode.TRAINING_FROZEN_BATCH_NORM;
  }

  /** Builds the inference-mode graph of {@code file}. */
  public static FlatModel inference(KerasFile file, String signatureName) throws ModelLoadException {
    return build(file, signatureName, false).model();
  }

  public static KerasGraph build(KerasFile file, String signatureName, boolean training) throws ModelLoadException {
    return build(file, signatureName, training ? Mode.TRAINING : Mode.INFERENCE);
  }

  public static KerasGraph build(KerasFile file, String signatureName, Mode mode) throws ModelLoadException {
    return new KerasGraphBuilder(file, mode).build(signatureName);
  }

  private KerasGraph build(String signatureName) throws ModelLoadException {
    Model model = KerasConfig.parse(file.modelConfig());
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      List<Operand<?>> placeholders = new ArrayList<>();
      ImmutableList.Builder<TensorSpec> inputs = ImmutableList.builder();
      for (TensorId id : model.inputs()) {
        JsonObject config = model.sequential() ? model.inputSpec() : inputLayer(model, id.layer()).config();
        Operand<?> placeholder = placeholder(tf, id.layer(), config);
        placeholders.add(placeholder);
        inputs.add(spec(id.layer(), placeholder));
      }
      List<Operand<?>> outputs;
      try {
        outputs = buildModel(model, List.of(), placeholders, tf);
      } catch (IllegalArgumentException | IllegalStateException | UnsupportedOperationException
          | org.tensorflow.exceptions.TensorFlowException e) {
        // TensorFlow rejects an op at graph construction (shape mismatch, bad attribute...)
        throw new ModelLoadException("cannot build the Keras model of " + file.path() + ": "
            + firstLine(e.getMessage()), e);
      }
      ImmutableList.Builder<TensorSpec> outs = ImmutableList.builder();
      for (int i = 0; i < outputs.size(); i++) {
        Operand<?> out = tf.withName("output_" + i).identity(cast(outputs.get(i)));
        outs.add(spec("output_" + i, out));
      }
      ServingSignature signature = new ServingSignature(signatureName, inputs.build(), outs.build());
      return new KerasGraph(FlatModel.of(graph.toGraphDef(), signature, variables), ImmutableList.copyOf(updates),
          ImmutableMap.copyOf(locations));
    }
  }

  @SuppressWarnings("unchecked")
  private static Operand<TType> cast(Operand<?> x) {
    return (Operand<TType>) x;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static Layer inputLayer(Model model, String name) throws ModelLoadException {
    Layer layer = model.layer(name);
    if (layer == null || !layer.isInput()) {
      throw new ModelLoadException("model input '" + name + "' is not an InputLayer");
    }
    return layer;
  }

  private static TensorSpec spec(String key, Operand<?> x) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    Shape s = x.shape();
    if (s.isUnknown()) {
      shape.setUnknownRank(true);
    } else {
      for (long d : s.asArray()) {
        shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
      }
    }
    DataType dtype = x.asOutput().dataType();
    return new TensorSpec(key, x.op().name() + ":0", dtype, shape.build());
  }

  /** A placeholder for an input layer: its batch shape ({@code batch_shape} or {@code batch_input_shape}) and dtype. */
  private static Operand<?> placeholder(Ops tf, String name, JsonObject config) throws ModelLoadException {
    JsonElement shapeJson = config.has("batch_shape") ? config.get("batch_shape") : config.get("batch_input_shape");
    if (shapeJson == null || !shapeJson.isJsonArray()) {
      throw new ModelLoadException("input '" + name + "' has no batch_shape");
    }
    JsonArray a = shapeJson.getAsJsonArray();
    long[] dims = new long[a.size()];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = a.get(i).isJsonNull() ? -1 : a.get(i).getAsLong();
    }
    String dtype = dtypeName(config.get("dtype"));
    Ops named = tf.withName(scopeName(name));
    Placeholder.Options shape = Placeholder.shape(Shape.of(dims));
    return switch (dtype) {
      case "float32" -> named.placeholder(TFloat32.class, shape);
      case "int32" -> named.placeholder(TInt32.class, shape);
      case "int64" -> named.placeholder(TInt64.class, shape);
      default -> throw new ModelLoadException("input '" + name + "' has dtype " + dtype
          + " (float32, int32 and int64 inputs are supported)");
    };
  }

  /** A dtype or dtype policy: {@code "float32"}, or {@code {"class_name": "DTypePolicy"|"Policy", "config": {"name": ...}}}. */
  static String dtypeName(JsonElement e) {
    if (e == null || e.isJsonNull()) {
      return "float32";
    }
    if (e.isJsonPrimitive()) {
      return e.getAsString();
    }
    JsonObject o = e.getAsJsonObject();
    if (o.has("config") && o.get("config").isJsonObject() && o.getAsJsonObject("config").has("name")) {
      return o.getAsJsonObject("config").get("name").getAsString();
    }
    return o.has("name") ? o.get("name").getAsString() : "float32";
  }

  /** Builds a model's layers on the given input tensors; returns its outputs. */
  private List<Operand<?>> buildModel(Model model, List<LayerRef> prefix, List<Operand<?>> inputs, Ops scope)
      throws ModelLoadException {
    if (inputs.size() != model.inputs().size()) {
      throw new ModelLoadException("model '" + model.name() + "' takes " + model.inputs().size()
          + " inputs, called with " + inputs.size());
    }
    // Keras 3 saves a model's layers (InputLayer included, except in a Sequential) under their
    // class name in snake case, numbered when repeated.
    Map<String, String> savePaths = new HashMap<>();
    List<Layer> saved = model.layers().stream().filter(l -> !(model.sequential() && l.isInput())).toList();
    List<String> paths = KerasFile.savePaths(saved.stream().map(Layer::className).toList());
    for (int i = 0; i < saved.size(); i++) {
      savePaths.put(saved.get(i).name(), paths.get(i));
    }
    Map<String, List<Operand<?>>> produced = new HashMap<>();
    for (int i = 0; i < inputs.size(); i++) {
      produced.put(key(model.inputs().get(i).layer(), 0), List.of(inputs.get(i)));
    }
    record Pending(Layer layer, int node) {}
    List<Pending> pending = new ArrayList<>();
    for (Layer layer : model.layers()) {
      if (!layer.isInput()) {
        for (int n = 0; n < layer.calls().size(); n++) {
          pending.add(new Pending(layer, n));
        }
      }
    }
    while (!pending.isEmpty()) {
      boolean progress = false;
      for (java.util.Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        Call call = p.layer().calls().get(p.node());
        List<Operand<?>> args = new ArrayList<>();
        for (TensorId id : call.inputs()) {
          List<Operand<?>> outs = produced.get(key(id.layer(), id.node()));
          if (outs == null) {
            break;
          }
          if (id.index() >= outs.size()) {
            throw new ModelLoadException("layer '" + p.layer().name() + "' takes output " + id.index()
                + " of '" + id.layer() + "', which has " + outs.size());
          }
          args.add(outs.get(id.index()));
        }
        if (args.size() < call.inputs().size()) {
          continue;
        }
        LayerRef ref = new LayerRef(p.layer().name(), savePaths.getOrDefault(p.layer().name(), p.layer().name()));
        List<LayerRef> path = new ArrayList<>(prefix);
        path.add(ref);
        Ops layerScope = scope.withSubScope(scopeName(p.layer().name()) + (p.node() > 0 ? "_call" + p.node() : ""));
        produced.put(key(p.layer().name(), p.node()), buildLayer(p.layer(), path, args, layerScope));
        it.remove();
        progress = true;
      }
      if (!progress) {
        Pending p = pending.get(0);
        throw new ModelLoadException("layer '" + p.layer().name() + "' of model '" + model.name()
            + "' consumes a tensor no layer produces: " + p.layer().calls().get(p.node()).inputs());
      }
    }
    List<Operand<?>> outputs = new ArrayList<>();
    for (TensorId id : model.outputs()) {
      List<Operand<?>> outs = produced.get(key(id.layer(), id.node()));
      if (outs == null || id.index() >= outs.size()) {
        throw new ModelLoadException("model '" + model.name() + "' output " + id + " is not produced by any layer");
      }
      outputs.add(outs.get(id.index()));
    }
    return outputs;
  }

  private List<Operand<?>> buildLayer(Layer layer, List<LayerRef> path, List<Operand<?>> args, Ops scope)
      throws ModelLoadException {
    if (layer.isModel()) {
      Model nested = KerasConfig.parse(layer.spec());
      return buildModel(nested, path, args, scope);
    }
    JsonElement module = layer.spec().get("module");
    if (module != null && module.isJsonPrimitive() && module.getAsString().matches("keras(\\.src)?\\.ops(\\..*)?")) {
      // Keras 3 records keras.ops calls in a functional model (x * 2, ops.add...) as operations
      // whose class names can equal layer names (Multiply, Add): they are not layers
      throw new ModelLoadException("unsupported Keras operation '" + layer.name() + "' of class "
          + layer.className() + " from " + module.getAsString() + " (keras.ops calls in a functional model "
          + "are not supported; run 'wclust inspect --keras-layers' for the supported layer classes)");
    }
    String dtype = dtypeName(layer.config().get("dtype"));
    if (!dtype.equals("float32")) {
      throw new ModelLoadException("layer '" + layer.name() + "' (" + layer.className() + "): dtype policy "
          + dtype + " is not supported (float32 is)");
    }
    var builder = LayerRegistry.get(layer.className()).orElseThrow(() -> new ModelLoadException(
        "unsupported Keras layer '" + layer.name() + "' of class " + layer.className()
            + " (run 'wclust inspect --keras-layers' for the supported classes)"));
    LayerWeights weights = new LayerWeights(path, scope);
    LayerContext ctx = new LayerContext(scope, layer.name(), layer.className(), layer.config(), training,
        frozenBatchNorm, weights);
    Operand<?> out = builder.build(ctx, args);
    int stored = weights.count();
    if (ctx.weightsUsed() != stored) {
      throw ctx.error("the file holds " + stored + " weights for it, the layer uses " + ctx.weightsUsed());
    }
    return List.of(out);
  }

  private static String key(String layer, int node) {
    return layer + "\u0000" + node;
  }

  /** A name valid as a TF scope level: {@code [A-Za-z0-9.][A-Za-z0-9_.\-]*}. */
  static String scopeName(String name) {
    String clean = name.replaceAll("[^A-Za-z0-9_.\\-]", "_");
    if (clean.isEmpty() || !Character.isLetterOrDigit(clean.charAt(0)) && clean.charAt(0) != '.') {
      clean = "l" + clean;
    }
    return clean;
  }

  /** The weights of one layer call: created once per layer (shared layers reuse them). */
  private final class LayerWeights implements LayerContext.Weights {
    private final List<LayerRef> path;
    private final Ops scope;

    LayerWeights(List<LayerRef> path, Ops scope) {
      this.path = path;
      this.scope = scope;
    }

    private String pathKey() {
      return String.join("/", path.stream().map(LayerRef::name).toList());
    }

    private List<KerasFile.NamedValue> values() throws ModelLoadException {
      List<KerasFile.NamedValue> v = fileWeights.get(pathKey());
      if (v == null) {
        v = file.weights(path);
        fileWeights.put(pathKey(), v);
      }
      return v;
    }

    @Override
    public int count() throws ModelLoadException {
      return values().size();
    }

    @Override
    public LayerContext.Weight weight(int index, String varName, long[] storedShape) throws ModelLoadException {
      String key = pathKey() + "\u0000" + index;
      LayerContext.Weight existing = weightsByKey.get(key);
      if (existing != null) {
        return existing;
      }
      List<KerasFile.NamedValue> values = values();
      String layerName = path.get(path.size() - 1).name();
      if (index >= values.size()) {
        throw new ModelLoadException("layer '" + layerName + "': the file holds " + values.size()
            + " weights for it, expected at least " + (index + 1) + " (" + varName + ")");
      }
      KerasFile.NamedValue stored = values.get(index);
      // a sub-layer's weight is named with its path (query/kernel); the file names it .../query/kernel
      // or, for an RNN cell's, .../lstm_cell/kernel: its last component must match
      String baseName = varName.substring(varName.lastIndexOf('/') + 1);
      if (!stored.name().isEmpty() && !stored.name().replaceFirst(":0$", "").endsWith(baseName)) {
        throw new ModelLoadException("layer '" + layerName + "': weight " + index + " is " + stored.name()
            + ", expected " + varName);
      }
      HostTensor value = stored.value();
      if (storedShape != null) {
        if (Shape.of(storedShape).size() != value.size()) {
          throw new ModelLoadException("layer '" + layerName + "': " + varName + " has shape "
              + java.util.Arrays.toString(value.shape()) + ", expected " + java.util.Arrays.toString(storedShape));
        }
        value = HostTensor.ofFloats(storedShape, value.toFloats());
      }
      Ops tf = scope;
      for (String level : varName.substring(0, varName.length() - baseName.length()).split("/")) {
        if (!level.isEmpty()) {
          tf = tf.withSubScope(level);
        }
      }
      // shared_name keeps the resources of variables apart once the graph is imported elsewhere
      VarHandleOp handle = tf.withName(baseName).varHandleOp(TFloat32.class, Shape.of(value.shape()),
          VarHandleOp.sharedName("keras/" + pathKey() + "/" + varName));
      Operand<TFloat32> read = tf.withName(baseName + "_read").readVariableOp(handle, TFloat32.class);
      String name = layerName + "/" + varName;
      int n = variableNames.merge(name, 1, Integer::sum);
      if (n > 1) {
        name = pathKey() + "/" + varName;
      }
      variables.put(handle.op().name(), new ModelVariable(handle.op().name(), name, value));
      locations.put(handle.op().name(), new KerasFile.WeightLocation(List.copyOf(path), index, stored.value().shape()));
      LayerContext.Weight weight = new LayerContext.Weight(handle, read);
      weightsByKey.put(key, weight);
      return weight;
    }

    @Override
    public void addUpdate(Op op) {
      updates.add(op.op().name());
    }

    @Override
    public long nextSeed() {
      return ++seeds;
    }
  }
}

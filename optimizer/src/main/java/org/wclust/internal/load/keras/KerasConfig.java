package org.wclust.internal.load.keras;

import com.google.common.collect.ImmutableList;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.wclust.internal.load.ModelLoadException;

/**
 * The structure of a Keras model config, for both Keras 3 and tf.keras 2.x files: the layers, which
 * tensors each call of a layer consumes, and the model's inputs and outputs. Sequential models are
 * turned into the same form (each layer called once on its predecessor's output).
 */
public final class KerasConfig {
  /** Model classes whose config lists layers; such a layer is built as a nested model. */
  public static final Set<String> MODEL_CLASSES = Set.of("Functional", "Sequential", "Model");

  private KerasConfig() {}

  /** A tensor produced by a layer: {@code (layer, call index, output index)}, Keras' keras_history. */
  public record TensorId(String layer, int node, int index) {
    @Override
    public String toString() {
      return layer + "[" + node + "][" + index + "]";
    }
  }

  /** One call of a layer: its input tensors, and whether they were passed as a list. */
  public record Call(ImmutableList<TensorId> inputs, boolean asList) {}

  /** A layer of a model: its name, class, own config, and calls (empty for input layers). */
  public record Layer(String name, String className, JsonObject config, JsonObject spec,
      ImmutableList<Call> calls) {
    public boolean isInput() {
      return className.equals("InputLayer");
    }

    public boolean isModel() {
      return MODEL_CLASSES.contains(className) || config.has("layers") && config.get("layers").isJsonArray();
    }
  }

  /**
   * A model: its layers in config order, the tensors it takes and returns, and for a Sequential
   * model without an InputLayer the config of its implicit input ({@code inputSpec}).
   */
  public record Model(String name, String className, ImmutableList<Layer> layers,
      ImmutableList<TensorId> inputs, ImmutableList<TensorId> outputs, boolean sequential,
      JsonObject inputSpec) {
    public Layer layer(String name) {
      return layers.stream().filter(l -> l.name().equals(name)).findFirst().orElse(null);
    }
  }

  /** The config of the layer at {@code path} (nested models by name), if there is one. */
  public static java.util.Optional<JsonObject> layerConfig(JsonObject modelSpec, List<KerasFile.LayerRef> path)
      throws ModelLoadException {
    Model model = parse(modelSpec);
    for (int i = 0; i < path.size(); i++) {
      Layer layer = model.layer(path.get(i).name());
      if (layer == null) {
        return java.util.Optional.empty();
      }
      if (i == path.size() - 1) {
        return java.util.Optional.of(layer.config());
      }
      model = parse(layer.spec());
    }
    return java.util.Optional.empty();
  }

  /** Parses {@code {"class_name": ..., "config": {...}}} (the whole file's config or a nested model). */
  public static Model parse(JsonObject spec) throws ModelLoadException {
    String className = string(spec, "class_name");
    JsonObject config = spec.getAsJsonObject("config");
    if (config == null || !config.has("layers")) {
      throw new ModelLoadException("unsupported Keras model class '" + className
          + "': only Sequential and functional models (and those nested as layers) are supported; "
          + "a subclassed model has no layer graph in its file");
    }
    String name = config.has("name") ? config.get("name").getAsString() : className.toLowerCase();
    return className.equals("Sequential") ? sequential(name, config) : functional(name, className, config);
  }

  private static Model sequential(String name, JsonObject config) throws ModelLoadException {
    ImmutableList.Builder<Layer> layers = ImmutableList.builder();
    JsonObject inputSpec = null;
    String previous = null;
    String inputName = null;
    for (JsonElement e : config.getAsJsonArray("layers")) {
      JsonObject spec = e.getAsJsonObject();
      String className = string(spec, "class_name");
      JsonObject layerConfig = spec.getAsJsonObject("config");
      String layerName = layerConfig.has("name") ? layerConfig.get("name").getAsString() : spec.get("name").getAsString();
      if (className.equals("InputLayer")) {
        inputSpec = layerConfig;
        inputName = layerName;
        previous = layerName;
        continue;
      }
      if (previous == null) {
        // tf.keras 2.x: the first layer carries batch_input_shape; else the Sequential build shape.
        JsonObject implicit = new JsonObject();
        if (layerConfig.has("batch_input_shape")) {
          implicit.add("batch_input_shape", layerConfig.get("batch_input_shape"));
        } else if (config.has("build_input_shape")) {
          implicit.add("batch_input_shape", config.get("build_input_shape"));
        } else {
          throw new ModelLoadException("the Sequential model '" + name + "' has no input shape "
              + "(it was never built); build it or give it a keras.Input before saving");
        }
        if (layerConfig.has("dtype") && layerConfig.get("dtype").isJsonPrimitive()) {
          implicit.add("dtype", layerConfig.get("dtype"));
        }
        inputSpec = implicit;
        inputName = layerName + "_input"; // as tf.keras 2.x and TensorFlow.js name it
        previous = inputName;
      }
      layers.add(new Layer(layerName, className, layerConfig, spec,
          ImmutableList.of(new Call(ImmutableList.of(new TensorId(previous, 0, 0)), false))));
      previous = layerName;
    }
    if (inputName == null) {
      throw new ModelLoadException("the Sequential model '" + name + "' has no layers");
    }
    inputSpec.addProperty("name", inputName);
    return new Model(name, "Sequential", layers.build(),
        ImmutableList.of(new TensorId(inputName, 0, 0)), ImmutableList.of(new TensorId(previous, 0, 0)),
        true, inputSpec);
  }

  private static Model functional(String name, String className, JsonObject config) throws ModelLoadException {
    ImmutableList.Builder<Layer> layers = ImmutableList.builder();
    for (JsonElement e : config.getAsJsonArray("layers")) {
      JsonObject spec = e.getAsJsonObject();
      String layerClass = string(spec, "class_name");
      JsonObject layerConfig = spec.getAsJsonObject("config");
      String layerName = spec.has("name") ? spec.get("name").getAsString() : layerConfig.get("name").getAsString();
      ImmutableList.Builder<Call> calls = ImmutableList.builder();
      JsonArray nodes = spec.has("inbound_nodes") ? spec.getAsJsonArray("inbound_nodes") : new JsonArray();
      for (JsonElement node : nodes) {
        calls.add(call(layerName, node));
      }
      layers.add(new Layer(layerName, layerClass, layerConfig, spec, calls.build()));
    }
    return new Model(name, className, layers.build(), tensorList(config.get("input_layers")),
        tensorList(config.get("output_layers")), false, null);
  }

  /** One inbound node: Keras 3 {@code {"args": [...], "kwargs": {...}}} or Keras 2 {@code [[name, node, index, kwargs], ...]}. */
  private static Call call(String layer, JsonElement node) throws ModelLoadException {
    if (node.isJsonObject()) {
      JsonArray args = node.getAsJsonObject().getAsJsonArray("args");
      if (args == null || args.isEmpty()) {
        throw new ModelLoadException("layer '" + layer + "' has a call without arguments");
      }
      checkKeywordArguments(layer, node.getAsJsonObject().getAsJsonObject("kwargs"));
      JsonElement first = args.get(0);
      ImmutableList.Builder<TensorId> inputs = ImmutableList.builder();
      if (first.isJsonArray()) {
        for (JsonElement t : first.getAsJsonArray()) {
          inputs.add(kerasTensor(layer, t));
        }
        return new Call(inputs.build(), true);
      }
      inputs.add(kerasTensor(layer, first));
      for (int i = 1; i < args.size(); i++) {
        if (isKerasTensor(args.get(i))) {
          inputs.add(kerasTensor(layer, args.get(i)));
        }
      }
      return new Call(inputs.build(), false);
    }
    JsonArray list = node.getAsJsonArray();
    ImmutableList.Builder<TensorId> inputs = ImmutableList.builder();
    for (JsonElement t : list) {
      JsonArray ref = t.getAsJsonArray();
      inputs.add(new TensorId(ref.get(0).getAsString(), ref.get(1).getAsInt(), ref.get(2).getAsInt()));
    }
    ImmutableList<TensorId> built = inputs.build();
    return new Call(built, built.size() > 1);
  }

  /**
   * The layer builders read positional tensor arguments only, so a keyword argument that could change
   * the call's result (a key or mask tensor, {@code use_causal_mask=True}, {@code training=True}) is
   * refused rather than dropped; null and false are what Keras records for the defaults.
   */
  private static void checkKeywordArguments(String layer, JsonObject kwargs) throws ModelLoadException {
    if (kwargs == null) {
      return;
    }
    for (Map.Entry<String, JsonElement> kwarg : kwargs.entrySet()) {
      JsonElement value = kwarg.getValue();
      boolean isDefault = value.isJsonNull()
          || (value.isJsonPrimitive() && value.getAsJsonPrimitive().isBoolean() && !value.getAsBoolean());
      if (!isDefault) {
        String shown = isKerasTensor(value) ? "a tensor" : value.toString();
        throw new ModelLoadException("layer '" + layer + "' is called with " + kwarg.getKey() + "=" + shown
            + ", which wclust does not support (pass tensors positionally; masks and training flags are not read)");
      }
    }
  }

  private static boolean isKerasTensor(JsonElement e) {
    return e.isJsonObject() && e.getAsJsonObject().has("class_name")
        && e.getAsJsonObject().get("class_name").getAsString().equals("__keras_tensor__");
  }

  private static TensorId kerasTensor(String layer, JsonElement e) throws ModelLoadException {
    if (!isKerasTensor(e)) {
      throw new ModelLoadException("layer '" + layer + "' is called on something that is not a tensor: " + e);
    }
    JsonArray history = e.getAsJsonObject().getAsJsonObject("config").getAsJsonArray("keras_history");
    return new TensorId(history.get(0).getAsString(), history.get(1).getAsInt(), history.get(2).getAsInt());
  }

  /** {@code ["name", 0, 0]} (Keras 3, single) or {@code [["name", 0, 0], ...]}. */
  private static ImmutableList<TensorId> tensorList(JsonElement e) throws ModelLoadException {
    if (e == null || !e.isJsonArray()) {
      throw new ModelLoadException("functional model config without input_layers/output_layers");
    }
    JsonArray array = e.getAsJsonArray();
    List<TensorId> out = new ArrayList<>();
    if (!array.isEmpty() && array.get(0).isJsonPrimitive()) {
      out.add(new TensorId(array.get(0).getAsString(), array.get(1).getAsInt(), array.get(2).getAsInt()));
    } else {
      for (JsonElement t : array) {
        JsonArray ref = t.getAsJsonArray();
        out.add(new TensorId(ref.get(0).getAsString(), ref.get(1).getAsInt(), ref.get(2).getAsInt()));
      }
    }
    return ImmutableList.copyOf(out);
  }

  private static String string(JsonObject o, String key) throws ModelLoadException {
    JsonElement e = o.get(key);
    if (e == null || !e.isJsonPrimitive()) {
      throw new ModelLoadException("Keras config entry without '" + key + "': "
          + o.toString().substring(0, Math.min(120, o.toString().length())));
    }
    return e.getAsString();
  }
}

package org.wclust.internal.load.keras;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.load.ModelLoadException;
import org.wclust.internal.load.ReadErrors;

/**
 * A Keras model file read without Python: the model config (JSON) and its weights (HDF5, read with
 * the pure-Java jHDF). Two layouts are read:
 *
 * <ul>
 *   <li>{@code .keras} (Keras 3): a zip with {@code config.json}, {@code metadata.json} and
 *       {@code model.weights.h5}, whose weights live under {@code layers/<path>/vars/0..n}, the
 *       path being the layer's attribute name (its class in snake case, numbered when repeated);
 *       nested models add {@code layers/<model>/layers/...}.
 *   <li>legacy {@code .h5} (tf.keras 2.x, and Keras 3 {@code model.save("x.h5")}): the config in the
 *       root attribute {@code model_config}, the weights in {@code model_weights/<layer>}, listed in
 *       order by that group's {@code weight_names} attribute (e.g. {@code dense/kernel:0}).
 * </ul>
 */
public final class KerasFile implements AutoCloseable {
  /** The two weight layouts. */
  public enum Format { KERAS_V3, LEGACY_H5, TFJS_LAYERS }

  /** One step of a layer's path inside the (possibly nested) model: its name and Keras 3 save path. */
  public record LayerRef(String name, String savePath) {}

  private final Path path;
  private final Format format;
  private final JsonObject modelConfig;
  private final HdfFile hdf;
  /** TensorFlow.js weights in manifest order (TFJS_LAYERS only). */
  private final List<NamedValue> tfjsWeights;

  private KerasFile(Path path, Format format, JsonObject modelConfig, HdfFile hdf) {
    this(path, format, modelConfig, hdf, List.of());
  }

  private KerasFile(Path path, Format format, JsonObject modelConfig, HdfFile hdf, List<NamedValue> tfjsWeights) {
    this.path = path;
    this.format = format;
    this.modelConfig = modelConfig;
    this.hdf = hdf;
    this.tfjsWeights = tfjsWeights;
  }

  /** A TensorFlow.js layers model: a {@code model.json}, or a directory holding one. */
  public static boolean isTfjsModel(Path path) {
    Path json = Files.isDirectory(path) ? path.resolve("model.json") : path;
    return json.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json") && Files.isRegularFile(json);
  }

  public static boolean isKerasFile(Path path) {
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".keras") || name.endsWith(".h5") || name.endsWith(".hdf5");
  }

  public static KerasFile open(Path path) throws ModelLoadException {
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    try {
      if (isTfjsModel(path)) {
        return openTfjs(Files.isDirectory(path) ? path.resolve("model.json") : path);
      }
      if (isZip(path)) {
        return openZip(path);
      }
      if (name.endsWith(".keras")) {
        throw new ModelLoadException("not a Keras 3 file: " + path + " is not a zip archive");
      }
      return openH5(path);
    } catch (IOException e) {
      throw new ModelLoadException("cannot read " + path + ": " + ReadErrors.describe(e)
          + (e instanceof FileSystemException fs && fs.getFile() != null
              && !fs.getFile().equals(path.toString()) ? " (" + fs.getFile() + ")" : ""), e);
    } catch (RuntimeException e) {
      if (e instanceof JsonParseException) {
        throw new ModelLoadException("truncated or corrupt model file " + path + ": the model config is not valid JSON", e);
      }
      throw new ModelLoadException("truncated or corrupt model file " + path + ": " + e.getMessage(), e);
    }
  }

  private static boolean isZip(Path path) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      byte[] magic = in.readNBytes(4);
      return magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
    }
  }

  private static KerasFile openZip(Path path) throws IOException, ModelLoadException {
    ZipFile opened;
    try {
      opened = new ZipFile(path.toFile());
    } catch (java.util.zip.ZipException e) {
      throw new ModelLoadException("truncated or corrupt Keras file " + path + ": not a complete zip archive ("
          + e.getMessage() + ")", e);
    }
    try (ZipFile zip = opened) {
      ZipEntry config = zip.getEntry("config.json");
      ZipEntry weights = zip.getEntry("model.weights.h5");
      if (config == null) {
        throw new ModelLoadException("not a Keras 3 file: " + path + " has no config.json");
      }
      JsonObject json = JsonParser.parseString(new String(checkedBytes(path, zip, config), StandardCharsets.UTF_8))
          .getAsJsonObject();
      HdfFile hdf = weights == null ? null : HdfFile.fromBytes(checkedBytes(path, zip, weights));
      return new KerasFile(path, Format.KERAS_V3, json, hdf);
    }
  }

  /**
   * An entry's bytes, checked against the CRC-32 the zip records: ZipFile does not check stored
   * (uncompressed) entries, which is how Keras writes them, so a damaged byte would pass unnoticed.
   */
  private static byte[] checkedBytes(Path path, ZipFile zip, ZipEntry entry) throws IOException, ModelLoadException {
    if (entry.getSize() > Integer.MAX_VALUE - 8) {
      throw new ModelLoadException("corrupt Keras file " + path + ": " + entry.getName() + " declares "
          + entry.getSize() + " bytes");
    }
    byte[] bytes;
    try (InputStream in = zip.getInputStream(entry)) {
      bytes = in.readAllBytes();
    }
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(bytes);
    if (entry.getCrc() != -1 && crc.getValue() != entry.getCrc()) {
      throw new ModelLoadException("corrupt Keras file " + path + ": " + entry.getName()
          + " fails its zip checksum (the file was damaged)");
    }
    return bytes;
  }

  private static KerasFile openH5(Path path) throws ModelLoadException {
    HdfFile hdf;
    try {
      hdf = new HdfFile(path);
    } catch (RuntimeException e) {
      throw new ModelLoadException("not an HDF5 file: " + path + " (" + e.getMessage() + ")", e);
    }
    Attribute config = hdf.getAttribute("model_config");
    if (config == null) {
      hdf.close();
      throw new ModelLoadException("no model in " + path
          + ": it has no 'model_config' attribute (a weights-only file, e.g. from save_weights?)");
    }
    JsonObject json = JsonParser.parseString(attributeString(config)).getAsJsonObject();
    return new KerasFile(path, Format.LEGACY_H5, json, hdf);
  }

  /**
   * TensorFlow.js layers format ({@code tf.LayersModel.save}, or tensorflowjs_converter from Keras):
   * {@code modelTopology} holds the Keras config (directly, or under {@code model_config}), and
   * {@code weightsManifest} lists the weights in the binary shards (float32, or quantized: {@link TfjsWeights}).
   */
  private static KerasFile openTfjs(Path json) throws IOException, ModelLoadException {
    JsonObject root = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
    if (!root.has("modelTopology") || !root.has("weightsManifest")) {
      throw new ModelLoadException("not a TensorFlow.js layers model: " + json
          + " has no modelTopology/weightsManifest");
    }
    if (root.has("format") && !root.get("format").getAsString().equals("layers-model")) {
      throw new ModelLoadException("unsupported TensorFlow.js format '" + root.get("format").getAsString()
          + "' in " + json + " (layers-model is supported, graph-model is not)");
    }
    JsonObject topology = root.getAsJsonObject("modelTopology");
    JsonObject config = topology.has("model_config") ? topology.getAsJsonObject("model_config") : topology;
    List<NamedValue> weights = TfjsWeights.read(json, root.getAsJsonArray("weightsManifest"));
    return new KerasFile(json, Format.TFJS_LAYERS, config, null, List.copyOf(weights));
  }

  public Path path() {
    return path;
  }

  public Format format() {
    return format;
  }

  /** The model config: {@code {"class_name": "Functional"|"Sequential"|..., "config": {...}}}. */
  public JsonObject modelConfig() {
    return modelConfig;
  }

  /**
   * The weights of a layer, in the order Keras creates them (e.g. kernel, bias), each with the name
   * the file gives it (legacy files only; Keras 3 files store them by index, names are empty).
   */
  public List<NamedValue> weights(List<LayerRef> layerPath) throws ModelLoadException {
    if (format == Format.TFJS_LAYERS) {
      // names are <layer>/<weight> (nested: <model>/<layer>/<weight>); a layer's weights keep their
      // manifest order (trainable ones first, so BatchNorm's come as gamma, beta, moving_mean, moving_variance)
      String inner = layerPath.get(layerPath.size() - 1).name();
      return tfjsWeights.stream().filter(w -> {
        String[] parts = w.name().split("/");
        return parts.length >= 2 && parts[parts.length - 2].equals(inner);
      }).toList();
    }
    if (hdf == null) {
      throw new ModelLoadException(path + " holds no weights (model.weights.h5 is missing)");
    }
    try {
      return format == Format.KERAS_V3 ? weightsV3(layerPath) : weightsLegacy(layerPath);
    } catch (RuntimeException e) {
      // jHDF reads lazily: a truncated or damaged file fails here, long after open() succeeded
      throw new ModelLoadException("truncated or corrupt Keras file " + path + ": cannot read the weights of layer "
          + String.join("/", layerPath.stream().map(LayerRef::name).toList()) + " (" + e.getMessage() + ")", e);
    }
  }

  /** Where a weight lives in the file: its layer's path, its index among the layer's weights, its shape there. */
  public record WeightLocation(List<LayerRef> layerPath, int index, long[] shape) {}

  /** A weight value with its name in the file (empty when the file stores weights by index). */
  public record NamedValue(String name, HostTensor value) {}

  /**
   * The HDF5 path of a weight in a Keras 3 weights file ({@code /layers/dense/vars/0}), for
   * writing it back.
   */
  public String datasetPath(WeightLocation location) throws ModelLoadException {
    if (format != Format.KERAS_V3 || hdf == null) {
      throw new ModelLoadException("only Keras 3 .keras files can be written back; " + path + " is a legacy .h5");
    }
    List<Dataset> datasets = new ArrayList<>();
    collectVars(layerGroup(location.layerPath()), datasets);
    if (location.index() >= datasets.size()) {
      throw missing(location.layerPath());
    }
    return datasets.get(location.index()).getPath();
  }

  private List<NamedValue> weightsV3(List<LayerRef> layerPath) throws ModelLoadException {
    List<Dataset> datasets = new ArrayList<>();
    collectVars(layerGroup(layerPath), datasets);
    List<NamedValue> out = new ArrayList<>();
    for (Dataset d : datasets) {
      out.add(new NamedValue("", read(d)));
    }
    return out;
  }

  /**
   * Sub-layers whose weights Keras lists in this order in {@code layer.weights} (the order of the
   * legacy .h5 files): an RNN's cell, Bidirectional's two directions, MultiHeadAttention's projections.
   */
  private static final List<String> SUBLAYER_ORDER = List.of("cell", "forward_layer", "backward_layer",
      "query_dense", "key_dense", "value_dense", "output_dense");

  /**
   * A layer's weights in a Keras 3 file: its own {@code vars/0..n}, then those of its sub-layers
   * (groups beside {@code vars}, e.g. {@code lstm/cell/vars/0}), in Keras' order, recursively.
   */
  private static void collectVars(Group group, List<Dataset> out) {
    if (group.getChild("vars") instanceof Group vars) {
      for (int i = 0; vars.getChild(Integer.toString(i)) instanceof Dataset d; i++) {
        out.add(d);
      }
    }
    List<String> children = new ArrayList<>(group.getChildren().keySet());
    children.remove("vars");
    children.sort(java.util.Comparator.comparingInt((String c) -> SUBLAYER_ORDER.contains(c)
        ? SUBLAYER_ORDER.indexOf(c) : SUBLAYER_ORDER.size()).thenComparing(c -> c));
    for (String child : children) {
      if (group.getChild(child) instanceof Group sub) {
        collectVars(sub, out);
      }
    }
  }

  /** The group of a layer in a Keras 3 weights file: matched by its vars' name attribute, else by save path. */
  private Group layerGroup(List<LayerRef> layerPath) throws ModelLoadException {
    Group group = hdf;
    for (LayerRef ref : layerPath) {
      Node layers = group.getChild("layers");
      if (!(layers instanceof Group layersGroup)) {
        throw missing(layerPath);
      }
      Group found = null;
      for (Node child : layersGroup) {
        if (child instanceof Group g && g.getChild("vars") instanceof Group vars) {
          Attribute name = vars.getAttribute("name");
          if (name != null && ref.name().equals(attributeString(name))) {
            found = g;
            break;
          }
        }
      }
      if (found == null && layersGroup.getChild(ref.savePath()) instanceof Group byPath) {
        found = byPath;
      }
      if (found == null) {
        throw missing(layerPath);
      }
      group = found;
    }
    return group;
  }

  private List<NamedValue> weightsLegacy(List<LayerRef> layerPath) throws ModelLoadException {
    Node root = hdf.getChild("model_weights");
    Group weights = root instanceof Group g ? g : hdf; // a file saved by save_weights has no model_weights
    if (!(weights.getChild(layerPath.get(0).name()) instanceof Group layer)) {
      return List.of(); // layers without weights may have no group
    }
    Attribute namesAttr = layer.getAttribute("weight_names");
    List<String> names = namesAttr == null ? List.of() : attributeStrings(namesAttr);
    String inner = layerPath.get(layerPath.size() - 1).name();
    List<NamedValue> out = new ArrayList<>();
    for (String name : names) {
      if (layerPath.size() > 1) {
        String[] parts = name.split("/");
        if (parts.length < 2 || !parts[parts.length - 2].equals(inner)) {
          continue;
        }
      }
      Node node = layer.getByPath(name);
      if (!(node instanceof Dataset d)) {
        throw new ModelLoadException("corrupt Keras file " + path + ": weight " + name
            + " of layer " + layerPath.get(0).name() + " is missing");
      }
      out.add(new NamedValue(name, read(d)));
    }
    return out;
  }

  private ModelLoadException missing(List<LayerRef> layerPath) {
    return new ModelLoadException("corrupt Keras file " + path + ": no weights for layer "
        + String.join("/", layerPath.stream().map(LayerRef::name).toList()));
  }

  private HostTensor read(Dataset d) throws ModelLoadException {
    long[] shape = Arrays.stream(d.getDimensions()).mapToLong(i -> i).toArray();
    Object data = d.getDataFlat();
    if (data instanceof float[] f) {
      return HostTensor.ofFloats(shape, f);
    }
    if (data instanceof double[] dd) {
      float[] f = new float[dd.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) dd[i];
      }
      return HostTensor.ofFloats(shape, f);
    }
    throw new ModelLoadException("unsupported weight dtype in " + path + ": " + d.getPath() + " is "
        + d.getJavaType().getSimpleName() + " (float32 weights are supported)");
  }

  static String attributeString(Attribute attribute) {
    Object data = attribute.getData();
    if (data instanceof String s) {
      return s;
    }
    if (data instanceof String[] a && a.length == 1) {
      return a[0];
    }
    if (data instanceof byte[] b) {
      return new String(b, StandardCharsets.UTF_8);
    }
    throw new IllegalArgumentException("attribute " + attribute.getName() + " is not a string");
  }

  static List<String> attributeStrings(Attribute attribute) {
    Object data = attribute.getData();
    if (data instanceof String s) {
      return List.of(s);
    }
    if (data instanceof String[] a) {
      return List.of(a);
    }
    return List.of(); // an empty list is stored as an empty float64 array
  }

  /** Keras' {@code naming.to_snake_case}: the attribute name a layer of this class is saved under. */
  public static String snakeCase(String className) {
    String name = className.replaceAll("\\W+", "");
    name = name.replaceAll("(.)([A-Z][a-z]+)", "$1_$2");
    return name.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }

  /** Keras 3 save paths for a list of layer class names: snake case, repeated ones numbered. */
  public static List<String> savePaths(List<String> classNames) {
    Map<String, Integer> used = new java.util.HashMap<>();
    List<String> out = new ArrayList<>();
    for (String className : classNames) {
      String name = snakeCase(className);
      Integer n = used.get(name);
      if (n == null) {
        used.put(name, 0);
        out.add(name);
      } else {
        used.put(name, n + 1);
        out.add(name + "_" + (n + 1));
      }
    }
    return out;
  }

  /** The weights file (HDF5), for {@link KerasWriter}; null when the file holds no weights. */
  HdfFile hdf() {
    return hdf;
  }

  @Override
  public void close() {
    if (hdf != null) {
      hdf.close();
    }
  }
}

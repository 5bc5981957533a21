package org.wclust.internal.load;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.internal.types.registry.TensorTypeRegistry;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;
import org.wclust.internal.bridge.HostTensor;

/**
 * Reads tensors from a TensorFlow checkpoint ({@code variables/variables.*}) by key, with a RestoreV2
 * op in a scratch graph. The SavedModel loader of TF Java does not restore the variables of every
 * SavedModel (DESIGN.md), so wclust reads them itself.
 */
public final class CheckpointReader {
  /** The key under which TF2 checkpoints store their TrackableObjectGraph. */
  public static final String OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH";

  private final Path prefix;

  /** @param prefix the checkpoint prefix, e.g. {@code model/variables/variables} */
  public CheckpointReader(Path prefix) {
    this.prefix = prefix;
  }

  public Path prefix() {
    return prefix;
  }

  /** Reads the fixed-size tensors stored under {@code keys}, each with its expected dtype. */
  public Map<String, HostTensor> read(Map<String, DataType> keys) {
    Map<String, HostTensor> values = new LinkedHashMap<>();
    if (keys.isEmpty()) {
      return values;
    }
    List<String> names = new ArrayList<>(keys.keySet());
    try (Graph g = new Graph(); Session s = new Session(g)) {
      List<Operand<?>> outputs = restore(g, names, names.stream().map(keys::get).toList());
      Session.Runner runner = s.runner();
      outputs.forEach(runner::fetch);
      try (Result result = runner.run()) {
        for (int i = 0; i < names.size(); i++) {
          values.put(names.get(i), HostTensor.copyOf(result.get(i)));
        }
      }
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("cannot read variables from checkpoint " + prefix + ": "
          + firstLine(e.getMessage()), e);
    }
    return values;
  }

  /** Reads one scalar string tensor as bytes (e.g. the serialized object graph). */
  public byte[] readBytes(String key) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Operand<?> out = restore(g, List.of(key), List.of(DataType.DT_STRING)).get(0);
      try (Result result = s.runner().fetch(out).run()) {
        Tensor t = result.get(0);
        return ((TString) t).asBytes().getObject();
      }
    }
  }

  private List<Operand<?>> restore(Graph g, List<String> names, List<DataType> dtypes) {
    Ops tf = Ops.create(g);
    List<Class<? extends TType>> types = new ArrayList<>();
    dtypes.forEach(d -> types.add(TensorTypeRegistry.find(d).type()));
    var op = tf.train.restore(
        tf.constant(prefix.toString()),
        tf.constant(NdArrays.vectorOfObjects(names.toArray(new String[0]))),
        tf.constant(NdArrays.vectorOfObjects(names.stream().map(n -> "").toArray(String[]::new))),
        types);
    return new ArrayList<>(op.tensors());
  }

  static String firstLine(String message) {
    if (message == null) {
      return "unknown error";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

}

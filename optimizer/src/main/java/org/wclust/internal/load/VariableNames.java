package org.wclust.internal.load;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.graph.WeightDiscovery;

/**
 * Makes variable names unique. Subclassed Keras models name their variables by the model alone
 * ({@code subclassed/kernel} three times); the name scope of the op that reads the variable
 * ({@code .../conv2d_6_1/convolution/ReadVariableOp}) still tells the layer, so it names those.
 */
final class VariableNames {
  private VariableNames() {}

  static FlatModel uniquify(FlatModel model) {
    Map<String, Integer> counts = new HashMap<>();
    model.variables().values().forEach(v -> counts.merge(v.name(), 1, Integer::sum));
    if (counts.values().stream().allMatch(c -> c == 1)) {
      return model;
    }
    Map<String, ModelVariable> renamed = new LinkedHashMap<>();
    Map<String, Integer> used = new HashMap<>();
    for (ModelVariable v : model.variables().values()) {
      String name = v.name();
      if (counts.get(name) > 1) {
        name = fromReadScope(model, v).orElse(name);
      }
      int n = used.merge(name, 1, Integer::sum);
      renamed.put(v.handleNode(), new ModelVariable(v.handleNode(), n == 1 ? name : name + "_" + n, v.value()));
    }
    return FlatModel.of(model.graph(), model.signature(), renamed);
  }

  private static java.util.Optional<String> fromReadScope(FlatModel model, ModelVariable v) {
    List<NodeDef> reads = WeightDiscovery.reads(model, v.handleNode());
    if (reads.isEmpty()) {
      return java.util.Optional.empty();
    }
    String[] parts = reads.get(0).getName().split("/");
    if (parts.length < 3) {
      return java.util.Optional.empty();
    }
    String layer = parts[parts.length - 3].replaceFirst("_1$", "");
    String[] own = v.name().split("/");
    return java.util.Optional.of(layer + "/" + own[own.length - 1]);
  }
}

package org.wclust.internal.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.types.TFloat32;
import org.wclust.internal.bridge.GraphDefs;
import org.wclust.internal.bridge.TensorRef;

/**
 * What keeps every float sum of a training step in one order, so that fine-tuning with a fixed seed
 * writes the same weights on every run.
 *
 * <p>TensorFlow's gradient builder sums the gradients that a tensor's consumers send back with one
 * AddN, and the CPU AddN kernel starts its sum from whichever input buffer it can reuse for its output,
 * which depends on which other ops still hold those buffers when it runs. With three or more inputs the
 * order of the float additions, and so the last bits of the sum, changed from run to run: fine-tuning a
 * model with a three-way fan-out (a residual block) wrote different weights for the same seed. A sum of
 * two is the same in either order, so {@link #binaryFanOut} hands every float tensor that feeds three or
 * more op inputs on through a chain of Identity nodes (free in the forward pass) before the graph is
 * differentiated, and {@link #sessionConfig} turns off Grappler's arithmetic optimizer, which would merge
 * the resulting sums of two (and chains of adds) back into one AddN. Used wherever wclust differentiates a
 * model: fine-tuning, and the calibration gradients (Fisher sensitivities, which decided codebooks
 * differently from run to run on such a model).
 */
public final class DeterministicSums {
  private static final String SCOPE = "wclust_fan_out";

  private static final Set<DataType> FLOATS =
      Set.of(DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_HALF, DataType.DT_BFLOAT16);

  private DeterministicSums() {}

  /** A session configuration that keeps the graph's adds as they are built (no arithmetic optimizer). */
  public static ConfigProto sessionConfig() {
    ConfigProto.Builder config = ConfigProto.newBuilder();
    config.getGraphOptionsBuilder().getRewriteOptionsBuilder().setArithmeticOptimization(RewriterConfig.Toggle.OFF);
    return config.build();
  }

  /**
   * A session of {@code model} to differentiate: its graph with {@link #binaryFanOut}, run with
   * {@link #sessionConfig}.
   */
  public static ModelSession session(FlatModel model) {
    return new ModelSession(model, binaryFanOut(model.graph()), graph -> new Session(graph, sessionConfig()));
  }

  /** {@code parts} added one after the other, in their order (never as one AddN). */
  public static Operand<TFloat32> sum(Ops tf, List<Operand<TFloat32>> parts) {
    Operand<TFloat32> sum = parts.get(0);
    for (Operand<TFloat32> part : parts.subList(1, parts.size())) {
      sum = tf.math.add(sum, part);
    }
    return sum;
  }

  /** {@code graph} with every float tensor feeding at most two op inputs (the same graph when none feeds more). */
  public static GraphDef binaryFanOut(GraphDef graph) {
    // Per tensor, its consumers as (node position, input position), in graph order.
    Map<String, List<int[]>> consumers = new LinkedHashMap<>();
    for (int n = 0; n < graph.getNodeCount(); n++) {
      NodeDef node = graph.getNode(n);
      for (int i = 0; i < node.getInputCount(); i++) {
        String input = node.getInput(i);
        if (!input.startsWith("^")) {
          consumers.computeIfAbsent(TensorRef.parse(input).toString(), t -> new ArrayList<>()).add(new int[] {n, i});
        }
      }
    }
    consumers.values().removeIf(list -> list.size() < 3);
    if (consumers.isEmpty()) {
      return graph;
    }
    Map<String, NodeDef> producers = GraphDefs.byName(graph);
    GraphDef.Builder out = graph.toBuilder();
    try (Graph typed = new Graph()) {
      typed.importGraphDef(graph);
      for (Map.Entry<String, List<int[]>> e : consumers.entrySet()) {
        TensorRef tensor = TensorRef.parse(e.getKey());
        GraphOperation op = typed.operationOrThrow(tensor.node());
        DataType type = op.output(tensor.index()).dataType();
        if (!FLOATS.contains(type)) {
          continue;
        }
        List<int[]> uses = e.getValue();
        // The tensor feeds its first consumer and Identity 1, Identity j feeds consumer j and Identity
        // j + 1, and the last Identity feeds the last two consumers.
        String source = e.getKey();
        for (int j = 0; j < uses.size() - 2; j++) {
          if (j > 0) {
            out.getNodeBuilder(uses.get(j)[0]).setInput(uses.get(j)[1], source);
          }
          String identity = SCOPE + "/" + tensor.node() + "_" + tensor.index() + "/" + (j + 1);
          // on the producer's device (a replica's worker), so that placing the graph keeps it there
          out.addNode(NodeDef.newBuilder().setName(identity).setOp("Identity").addInput(source)
              .setDevice(producers.get(tensor.node()).getDevice())
              .putAttr("T", AttrValue.newBuilder().setType(type).build()));
          source = identity;
        }
        for (int[] use : uses.subList(uses.size() - 2, uses.size())) {
          out.getNodeBuilder(use[0]).setInput(use[1], source);
        }
      }
    }
    return out.build();
  }
}

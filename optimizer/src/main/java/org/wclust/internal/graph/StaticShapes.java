package org.wclust.internal.graph;

import java.util.Arrays;
import java.util.Map;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.HostTensor;

/**
 * The static shape of a weight after a reshape ({@code Reshape}, {@code ExpandDims}, {@code Squeeze}),
 * computed from the constant operands in the graph (or function body), as the op that finally consumes
 * the weight sees it.
 */
final class StaticShapes {
  private StaticShapes() {}

  /**
   * The output shape of the reshape {@code node} for an input of shape {@code in}, or null when it is
   * not known statically (an unknown input shape, or a shape operand that is not an int32 constant).
   */
  static long[] reshaped(NodeDef node, long[] in, Map<String, NodeDef> nodes) {
    if (in == null) {
      return null;
    }
    switch (node.getOp()) {
      case "Reshape": {
        int[] target = constantInts(node.getInput(1), nodes);
        return target == null ? null : resolveWildcard(target, Arrays.stream(in).reduce(1, (a, b) -> a * b));
      }
      case "ExpandDims": {
        int[] axis = constantInts(node.getInput(1), nodes);
        if (axis == null || axis.length != 1) {
          return null;
        }
        int at = axis[0] < 0 ? axis[0] + in.length + 1 : axis[0];
        long[] out = new long[in.length + 1];
        System.arraycopy(in, 0, out, 0, at);
        out[at] = 1;
        System.arraycopy(in, at, out, at + 1, in.length - at);
        return out;
      }
      case "Squeeze": {
        var dims = node.getAttrMap().containsKey("squeeze_dims")
            ? node.getAttrOrThrow("squeeze_dims").getList().getIList() : java.util.List.<Long>of();
        return java.util.stream.IntStream.range(0, in.length)
            .filter(d -> in[d] != 1 || !dims.isEmpty() && !dims.contains((long) d) && !dims.contains((long) d - in.length))
            .mapToLong(d -> in[d]).toArray();
      }
      default:
        return null;
    }
  }

  /** The values of an int32 Const (through Identity), or null when {@code ref} is not one. */
  static int[] constantInts(String ref, Map<String, NodeDef> nodes) {
    NodeDef node = nodes.get(nodeName(ref));
    while (node != null && node.getOp().equals("Identity")) {
      node = nodes.get(nodeName(node.getInput(0)));
    }
    if (node == null || !node.getOp().equals("Const")
        || node.getAttrOrThrow("value").getTensor().getDtype() != DataType.DT_INT32) {
      return null;
    }
    return HostTensor.fromProto(node.getAttrOrThrow("value").getTensor()).toInts();
  }

  /** The node a data reference names, in a graph ({@code node:k}) or a function body ({@code node:out:k}). */
  private static String nodeName(String ref) {
    return ref.split(":")[0];
  }

  private static long[] resolveWildcard(int[] target, long elements) {
    long known = 1;
    int wildcard = -1;
    for (int d = 0; d < target.length; d++) {
      if (target[d] < 0) {
        wildcard = d;
      } else {
        known *= target[d];
      }
    }
    long[] out = Arrays.stream(target).asLongStream().toArray();
    if (wildcard >= 0) {
      out[wildcard] = known == 0 ? 0 : elements / known;
    }
    return out;
  }
}

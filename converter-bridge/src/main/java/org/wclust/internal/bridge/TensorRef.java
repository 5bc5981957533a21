package org.wclust.internal.bridge;

/**
 * A reference to one output of a graph node, as written in GraphDef inputs and signatures:
 * {@code node} (output 0), {@code node:3}, or {@code ^node} (a control dependency).
 */
public record TensorRef(String node, int index, boolean control) {

  public static TensorRef parse(String ref) {
    if (ref.startsWith("^")) {
      return new TensorRef(ref.substring(1), -1, true);
    }
    int colon = ref.lastIndexOf(':');
    if (colon > 0) {
      String suffix = ref.substring(colon + 1);
      if (!suffix.isEmpty() && suffix.chars().allMatch(Character::isDigit)) {
        return new TensorRef(ref.substring(0, colon), Integer.parseInt(suffix), false);
      }
    }
    return new TensorRef(ref, 0, false);
  }

  public static TensorRef of(String node, int index) {
    return new TensorRef(node, index, false);
  }

  /** The canonical form used in GraphDef inputs: output 0 without a suffix. */
  @Override
  public String toString() {
    if (control) {
      return "^" + node;
    }
    return index == 0 ? node : node + ":" + index;
  }

  /** The form used in signatures and session feeds/fetches: always with the index. */
  public String withIndex() {
    return node + ":" + index;
  }
}

package org.wclust.internal.graph;

import java.util.function.Predicate;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;

/**
 * Finds dilated convolutions: TensorFlow's CPU convolution gradients do not support dilations, and the
 * oneDNN kernels of TF Java's natives crash the JVM on them, so no gradient may be taken through one.
 */
public final class DilatedConvolutions {
  private DilatedConvolutions() {}

  /** The first dilated Conv2D or DepthwiseConv2dNative among the nodes {@code considered}; null if none. */
  public static NodeDef first(FlatModel model, Predicate<String> considered) {
    for (NodeDef node : model.graph().getNodeList()) {
      boolean conv = node.getOp().startsWith("Conv2D") || node.getOp().startsWith("DepthwiseConv2dNative");
      if (!conv || !considered.test(node.getName())) {
        continue;
      }
      AttrValue dilations = node.getAttrMap().get("dilations");
      if (dilations != null && dilations.getList().getIList().stream().anyMatch(d -> d > 1)) {
        return node;
      }
    }
    return null;
  }
}

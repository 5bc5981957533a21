package org.wclust.internal.graph;

import com.google.common.collect.ImmutableMap;
import java.util.Map;
import org.tensorflow.proto.GraphDef;
import org.wclust.internal.bridge.ServingSignature;

/**
 * A model as wclust works on it: one flat GraphDef (no function calls) computing the signature's
 * outputs from its inputs, whose weights are resource variables (VarHandleOp read by ReadVariableOp)
 * with their values held here. Every input format is loaded into this form, and every rewrite
 * (clustering, stripping) maps one FlatModel to another.
 *
 * @param graph the flat graph
 * @param signature inputs and outputs, with tensor names in {@code graph}
 * @param variables the variables by their VarHandleOp node name
 */
public record FlatModel(GraphDef graph, ServingSignature signature,
    ImmutableMap<String, ModelVariable> variables) {

  public static FlatModel of(GraphDef graph, ServingSignature signature,
      Map<String, ModelVariable> variables) {
    return new FlatModel(graph, signature, ImmutableMap.copyOf(variables));
  }
}

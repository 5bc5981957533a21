package org.wclust.internal.graph;

import org.wclust.internal.bridge.HostTensor;

/**
 * A variable of a flat model: the VarHandleOp node that holds it in the flat graph, the name users
 * know it by (its layer path, e.g. {@code conv2d_1/kernel}) and its current value.
 */
public record ModelVariable(String handleNode, String name, HostTensor value) {

  public ModelVariable withValue(HostTensor newValue) {
    return new ModelVariable(handleNode, name, newValue);
  }
}

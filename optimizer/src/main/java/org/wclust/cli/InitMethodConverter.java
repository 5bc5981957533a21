package org.wclust.cli;

import org.wclust.cluster.InitMethod;
import picocli.CommandLine.ITypeConverter;

/** Parses {@code --init} by the method's command-line name ({@code kmeans++}, {@code optimal}, ...). */
final class InitMethodConverter implements ITypeConverter<InitMethod> {
  @Override
  public InitMethod convert(String value) {
    return InitMethod.fromCliName(value);
  }
}

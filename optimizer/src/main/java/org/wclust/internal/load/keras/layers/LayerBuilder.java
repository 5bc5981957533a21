package org.wclust.internal.load.keras.layers;

import java.util.List;
import org.tensorflow.Operand;
import org.wclust.internal.load.ModelLoadException;

/** Builds one call of a Keras layer into the graph: its output from its inputs. */
@FunctionalInterface
public interface LayerBuilder {
  Operand<?> build(LayerContext ctx, List<Operand<?>> inputs) throws ModelLoadException;
}

package org.wclust.api;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.types.TFloat32;

/**
 * A variable of a {@link ClusteredModel}'s graph that a training step updates: its resource
 * {@link #handle()} (for {@code assignSubVariableOp}, optimizers' resource updates) and its reads in the
 * forward graph (differentiate the loss with respect to these; a variable read twice gets the sum).
 *
 * <pre>{@code
 * for (TrainableVariable v : clustered.trainableVariables()) {
 *   Output<?>[] g = graph.addGradients(loss.asOutput(), new Output<?>[] {v.value()});
 *   updates.add(tf.assignSubVariableOp(v.handle(), tf.math.mul(rate, (Operand<TFloat32>) g[0])));
 * }
 * }</pre>
 */
public final class TrainableVariable {
  private final String name;
  private final Operand<?> handle;
  private final List<Output<TFloat32>> reads;

  TrainableVariable(String name, Operand<?> handle, List<Output<TFloat32>> reads) {
    this.name = name;
    this.handle = handle;
    this.reads = List.copyOf(reads);
  }

  /** The name users know the variable by, e.g. {@code dense/kernel} or {@code dense/kernel/centroids}. */
  public String name() {
    return name;
  }

  /** The resource handle ({@code VarHandleOp}) to update. */
  public Operand<?> handle() {
    return handle;
  }

  /** The (first) read of the variable in the forward graph. */
  public Output<TFloat32> value() {
    return reads.get(0);
  }

  /** Every read of the variable in the forward graph. */
  public List<Output<TFloat32>> reads() {
    return reads;
  }

  @Override
  public String toString() {
    return name;
  }
}

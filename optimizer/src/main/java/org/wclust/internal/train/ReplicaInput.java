package org.wclust.internal.train;

import java.util.List;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.internal.data.GraphInput;
import org.wclust.internal.distribute.GraphReplicas;

/**
 * One replica's input read on its own worker ({@link GraphInput}): the chief feeds where the examples
 * of the replica's slice of the batch are ({@code fed}, padded to {@code capacity} with copies of the
 * first) and their number ({@code count}); {@code values} is the slice read and decoded there, which
 * replaces the replica's input placeholder ({@link GraphReplicas#inputsFrom}); the {@code init} ops run
 * once before the first step.
 */
record ReplicaInput(List<String> fed, String count, String values, List<String> init, int capacity) {

  /** Adds the reading ops to {@code g}, every one on {@code device} (the replica's worker). */
  static ReplicaInput add(Graph g, int replica, DeviceSpec device, GraphInput input, int capacity) {
    Ops tf = Ops.create(g).withSubScope(GraphReplicas.scope(replica) + "_input").withDevice(device);
    GraphInput.Reading reading = input.add(tf, capacity);
    Placeholder<TInt32> count = tf.withName("count").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    // the first count of the capacity examples: the rest is padding
    Operand<TFloat32> values = tf.gather(reading.values(), tf.range(tf.constant(0), count, tf.constant(1)),
        tf.constant(0));
    return new ReplicaInput(reading.fed().stream().map(ReplicaInput::name).toList(), name(count), name(values),
        reading.init().stream().map(op -> op.op().name()).toList(), capacity);
  }

  private static String name(Operand<?> operand) {
    return operand.asOutput().op().name() + ":" + operand.asOutput().index();
  }
}

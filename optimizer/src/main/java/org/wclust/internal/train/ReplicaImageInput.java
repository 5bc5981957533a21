package org.wclust.internal.train;

import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;
import org.wclust.internal.data.ImageFileInput;
import org.wclust.internal.distribute.GraphReplicas;

/**
 * One replica's input read from image files on its own worker: the chief feeds the paths of the
 * replica's slice of the batch ({@code paths}, padded to {@code capacity} with copies of the first)
 * and their number ({@code count}); {@code pixels} is the decoded slice, which replaces the replica's
 * input placeholder ({@link GraphReplicas#inputsFrom}).
 */
record ReplicaImageInput(String paths, String count, String pixels, int capacity) {

  /** Adds the reading ops to {@code g}, every one on {@code device} (the replica's worker). */
  static ReplicaImageInput add(Graph g, int replica, DeviceSpec device, ImageFileInput files, int capacity) {
    Ops tf = Ops.create(g).withSubScope(GraphReplicas.scope(replica) + "_input").withDevice(device);
    Placeholder<TString> paths = tf.withName("paths").placeholder(TString.class,
        Placeholder.shape(Shape.of(capacity)));
    Placeholder<TInt32> count = tf.withName("count").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    Operand<TFloat32> pixels = files.pixels(tf, paths, capacity, count);
    return new ReplicaImageInput(name(paths), name(count), name(pixels), capacity);
  }

  private static String name(Operand<?> operand) {
    return operand.asOutput().op().name() + ":" + operand.asOutput().index();
  }
}

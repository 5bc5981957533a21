package org.wclust.internal.data;

import java.util.List;
import java.util.Optional;
import org.tensorflow.Operand;
import org.tensorflow.Tensor;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * A dataset's inputs read by ops inside a training graph instead of by this process: this process feeds
 * only where each example of a batch is (a file's path, or a file, byte offset and length), and the
 * ops, on the device the graph places them on, read and decode the examples there. With one replica
 * per worker of TensorFlow's distributed runtime, each worker reads its own slice of every batch from
 * the same paths on its machine. The values are those this process's own reading gives.
 *
 * <p>Qualify, as the one input of the data: folders of image files ({@link ImageFileInput}), and
 * ({@link RecordInput}) uncompressed TFRecord files of encoded images or of raw features and the rows of
 * uncompressed .npy arrays (alone or in an {@code np.savez} archive) of a type {@code DecodeRaw} reads.
 * Other data (GZIP-compressed TFRecords and {@code np.savez_compressed} archives, whose examples cannot
 * be reached by offset; int8, int16, uint32 and bool arrays; several named inputs) is read by the
 * process that trains.
 */
public interface GraphInput {
  /**
   * The ops of {@link #add}: placeholders to feed with {@link #feeds}, in their order, the values of
   * the {@code capacity} examples, float32 {@code [capacity, ...exampleShape]}, and ops to run once
   * before the first step (e.g. loading a file into the worker's memory).
   */
  record Reading(List<Placeholder<?>> fed, Operand<TFloat32> values, List<Op> init) {
    public Reading(List<Placeholder<?>> fed, Operand<TFloat32> values) {
      this(fed, values, List.of());
    }
  }

  /** Adds to {@code tf}'s graph (on its device) the ops that read a slice of {@code capacity} examples. */
  Reading add(Ops tf, int capacity);

  /**
   * The tensors to feed to {@link #add}'s placeholders, in their order, for {@code examples} (as many as
   * the capacity; the caller pads a shorter slice). The caller closes them.
   */
  List<Tensor> feeds(int[] examples);

  /** The graph-read inputs of {@code data}, when its one input qualifies (see above); else empty. */
  static Optional<GraphInput> of(Dataset data) {
    return data.namedInputs().isPresent() ? Optional.empty() : data.store().graphInput(data.exampleShape());
  }
}

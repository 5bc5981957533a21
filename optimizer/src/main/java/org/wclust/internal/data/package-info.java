/**
 * Training data for fine-tuning: NumPy {@code .npy}/{@code .npz} and TFRecord files of
 * {@code tf.train.Example} read into a {@link org.wclust.internal.data.Dataset} of float32 inputs and optional
 * integer class labels; image class folders and TFRecords of encoded images ({@link
 * org.wclust.internal.data.ImageData}) and large uncompressed {@code .npz} files are streamed: read, and for
 * images decoded by TensorFlow ops, batch by batch ({@link org.wclust.internal.data.ExampleStore}), prefetched
 * by {@link org.wclust.internal.data.Prefetcher} in the order of {@link org.wclust.internal.data.ShuffleOrder}.
 * For data-parallel training, data whose examples lie in files at known places (image files, uncompressed
 * TFRecords, uncompressed {@code .npz}/{@code .npy} rows) is also read by graph ops on the workers
 * ({@link org.wclust.internal.data.GraphInput}).
 * Malformed or unsupported input fails with an {@link java.lang.IllegalArgumentException} whose message
 * is one line naming the file (and array, feature or record) and the reason; {@link java.io.IOException}
 * is left for the file system.
 */
package org.wclust.internal.data;

/**
 * Training data for fine-tuning, loaded into memory: NumPy {@code .npy}/{@code .npz} and TFRecord
 * files of {@code tf.train.Example} read into a {@link org.wclust.data.Dataset} of float32 inputs and
 * optional integer class labels. Malformed or unsupported input fails with an
 * {@link java.lang.IllegalArgumentException} whose message is one line naming the file (and array,
 * feature or record) and the reason; {@link java.io.IOException} is left for the file system.
 */
package org.wclust.data;

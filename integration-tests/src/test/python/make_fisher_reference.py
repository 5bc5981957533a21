#!/usr/bin/env python3
"""A small classifier and its diagonal Fisher computed directly in TensorFlow, to check wclust's
--calibration importance against.

Usage: make_fisher_reference.py OUT_DIR

Writes OUT_DIR/model.keras (Conv2D(4, 3) -> ReLU -> Flatten -> Dense(6) -> Softmax, 8x8x1 input, seeded
random weights), OUT_DIR/inputs.npz (x float32 [40, 8, 8, 1], no labels) and OUT_DIR/fisher.npz: for
every kernel (keyed by its Keras path, e.g. "conv/kernel"), the mean over the 40 inputs of the squared
gradient, one input at a time, of -log softmax(logits)[c] with c the model's own top-1 class.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    import keras
    import tensorflow as tf
    from keras import layers

    out = os.path.abspath(argv[1])
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(77)
    inputs = keras.Input((8, 8, 1), name="image")
    h = layers.Conv2D(4, 3, name="conv")(inputs)
    h = layers.ReLU()(h)
    h = layers.Flatten()(h)
    logits = layers.Dense(6, name="dense")(h)
    model = keras.Model(inputs, layers.Softmax()(logits))
    logit_model = keras.Model(inputs, logits)
    x = np.random.default_rng(3).normal(size=(40, 8, 8, 1)).astype(np.float32)
    kernels = [model.get_layer("conv").kernel, model.get_layer("dense").kernel]
    sums = [np.zeros(k.shape, np.float64) for k in kernels]
    for i in range(len(x)):
        xi = x[i:i + 1]
        c = int(np.argmax(model(xi).numpy()[0]))
        with tf.GradientTape() as tape:
            loss = -tf.nn.log_softmax(logit_model(xi))[0, c]
        grads = tape.gradient(loss, kernels)
        for s, g in zip(sums, grads):
            s += np.square(g.numpy().astype(np.float64))
    model.save(os.path.join(out, "model.keras"))
    np.savez(os.path.join(out, "inputs.npz"), x=x)
    np.savez(os.path.join(out, "fisher.npz"), **{k.path: s / len(x) for k, s in zip(kernels, sums)})
    print("fisher reference:", {k.path: float(np.mean(s / len(x))) for k, s in zip(kernels, sums)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

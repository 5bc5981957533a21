#!/usr/bin/env python3
"""Make the checked-in legacy .h5 fixtures with tf_keras (Keras 2), the format tf.keras 2.x wrote.

The project's virtualenv has Keras 3 only. tf_keras needs no other dependency than tensorflow, so
it can be installed beside it without touching the virtualenv:

    .venv/bin/pip install --target /tmp/tfk --no-deps "tf_keras==2.21.*"
    PYTHONPATH=/tmp/tfk .venv/bin/python integration-tests/src/test/python/make_tf_keras_fixture.py \
        integration-tests/src/test/resources/keras

Writes OUTDIR/tf_keras_functional.h5 and OUTDIR/tf_keras_sequential.h5 with, beside each, a .json
of inputs and tf_keras predict outputs in the format of make_keras_fixtures.py. Their configs carry
what Keras 2 writes and Keras 3 does not: dtype as a string, batch_input_shape, `groups` on
DepthwiseConv2D, the list form of inbound_nodes, weight names with ':0'.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras import layers  # noqa: E402


def functional():
    inp = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(6, 3, padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(max_value=6.0)(x)
    y = layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = layers.Add()([x, y])
    x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(inp, layers.Dense(4)(x), name="tf_keras_functional")


def sequential():
    return keras.Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 3)),
        layers.Flatten(),
        layers.Dense(8, activation="tanh"),
        layers.Dense(3),
    ], name="tf_keras_sequential")


def tensor_json(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "data": a.reshape(-1).tolist()}


def main(argv):
    outdir = os.path.abspath(argv[1])
    os.makedirs(outdir, exist_ok=True)
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    for model in (functional(), sequential()):
        for layer in model.layers:
            if isinstance(layer, layers.BatchNormalization):
                n = layer.gamma.shape[0]
                layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(size=n) * 0.1,
                                   rng.normal(size=n) * 0.1, rng.uniform(0.5, 1.5, n)])
        x = (rng.normal(size=(2, 8, 8, 3)) * 2).astype("float32")
        name = model.input_names[0]
        record = {"inputs": {name: tensor_json(x)},
                  "outputs": {"output_0": tensor_json(model.predict(x, verbose=0))}}
        model.save(os.path.join(outdir, model.name + ".h5"))
        with open(os.path.join(outdir, model.name + ".json"), "w") as f:
            json.dump(record, f)
        print(model.name, "input", name, "tf_keras", keras.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

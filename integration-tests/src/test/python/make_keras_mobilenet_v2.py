#!/usr/bin/env python3
"""Saves keras.applications.MobileNetV2 (alpha 1.0, 224x224, 1000 classes, logits output) as a Keras 3
.keras file, with seeded random weights and randomised BatchNorm statistics (weights=None: nothing
is downloaded), and records Keras predict on two random images.

Usage: make_keras_mobilenet_v2.py OUTDIR
Writes OUTDIR/mobilenet_v2.keras and OUTDIR/mobilenet_v2.json ({"inputs": ..., "outputs": ...} in
the format of make_keras_fixtures.py).
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from make_fixtures import randomise_batch_norm  # noqa: E402  (same directory)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = os.path.abspath(argv[1])
    os.makedirs(outdir, exist_ok=True)
    keras.utils.set_random_seed(1234)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3), classifier_activation=None)
    randomise_batch_norm(model)
    x = np.random.default_rng(5).random((2, 224, 224, 3), dtype=np.float32)
    y = model.predict(x, verbose=0)
    model.save(os.path.join(outdir, "mobilenet_v2.keras"))
    name = model.layers[0].name
    with open(os.path.join(outdir, "mobilenet_v2.json"), "w") as f:
        json.dump({"inputs": {name: {"shape": list(x.shape), "dtype": "float32", "data": x.reshape(-1).tolist()}},
                   "outputs": {"output_0": {"shape": list(y.shape), "dtype": "float32",
                                            "data": y.reshape(-1).tolist()}}}, f)
    print(f"mobilenet_v2.keras: input {name}, logits max |y| {np.abs(y).max():.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Builds the MobileNetV2 fixture: keras.applications.MobileNetV2 (alpha 1.0, 224x224, 1000 classes),
weights=None (nothing is downloaded), seeded random weights and randomised BatchNorm statistics so
that folding BN changes the kernels, exported with model.export(), and 16 random input images to compare
outputs on (uniform in [0, 1), seed 5).

Usage: make_mobilenet_v2.py OUTDIR      (writes OUTDIR/mobilenet_v2 and OUTDIR/random16.npz, x [16, 224, 224, 3])
"""
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from make_fixtures import randomise_batch_norm  # noqa: E402  (same directory)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    keras.utils.set_random_seed(1234)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    randomise_batch_norm(model)
    path = os.path.join(os.path.abspath(argv[1]), "mobilenet_v2")
    shutil.rmtree(path, ignore_errors=True)
    model.export(path, verbose=False)
    images = np.random.default_rng(5).random((16, 224, 224, 3), dtype=np.float32)
    np.savez(os.path.join(os.path.abspath(argv[1]), "random16.npz"), x=images)
    print(f"mobilenet_v2: {model.count_params()} parameters -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Exports the Keras applications that scripts/bench-pipeline.sh clusters, as SavedModels made by
Keras 3 `model.export()`, with seeded random weights and randomised BatchNorm statistics (weights=None:
nothing is downloaded), and records Keras predict on two random images for the TFLite parity check.

Usage: make_pipeline_models.py OUTDIR NAME...   (NAME: MobileNetV2, ResNet50, ConvNeXtBase)
Writes OUTDIR/NAME/ (the SavedModel) and OUTDIR/NAME.json ({"inputs": ..., "outputs": ...} in the format
of integration-tests' make_keras_fixtures.py, the input keyed by the serving signature's input name).
An existing OUTDIR/NAME is kept (the models are big; delete it to rebuild).
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration-tests", "src",
                                "test", "python"))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from make_fixtures import randomise_batch_norm  # noqa: E402

MODELS = {"MobileNetV2": keras.applications.MobileNetV2, "ResNet50": keras.applications.ResNet50,
          "ConvNeXtBase": keras.applications.ConvNeXtBase}


def randomise_layer_norm(model, seed=4321):
    """Random LayerNormalization scales and offsets (ConvNeXt has no BatchNorm), so that none is an identity."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.LayerNormalization):
            n = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.beta.assign((rng.normal(size=n) * 0.1).astype("float32"))


def make(outdir, name):
    path = os.path.join(outdir, name)
    if os.path.isdir(path) and os.path.isfile(path + ".json"):
        print(f"{name}: kept {path}")
        return
    keras.utils.set_random_seed(1234)
    model = MODELS[name](weights=None, input_shape=(224, 224, 3), classifier_activation=None)
    randomise_batch_norm(model)
    randomise_layer_norm(model)
    x = np.random.default_rng(5).random((2, 224, 224, 3), dtype=np.float32)
    y = model.predict(x, verbose=0)
    model.export(path, verbose=False)
    signature = tf.saved_model.load(path).signatures["serving_default"]
    input_name = list(signature.structured_input_signature[1].keys())[0]
    with open(path + ".json", "w") as f:
        json.dump({"inputs": {input_name: {"shape": list(x.shape), "dtype": "float32", "data": x.reshape(-1).tolist()}},
                   "outputs": {"output_0": {"shape": list(y.shape), "dtype": "float32",
                                            "data": y.reshape(-1).tolist()}}}, f)
    print(f"{name}: {model.count_params():,} parameters, input {input_name}, max |y| {np.abs(y).max():.3f}")


def main(argv):
    if len(argv) < 3 or any(n not in MODELS for n in argv[2:]):
        print(__doc__, file=sys.stderr)
        return 2
    os.makedirs(argv[1], exist_ok=True)
    for name in argv[2:]:
        make(os.path.abspath(argv[1]), name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

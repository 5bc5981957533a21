#!/usr/bin/env python3
"""Loads a Keras file with Keras 3 and runs predict: the check that a file wclust wrote loads in Keras.

Usage: keras_predict.py MODEL.keras INPUT.json OUTPUT.json [MODEL.tflite]
INPUT.json:  {"inputs": {"<input name>": {"shape": [...], "data": [...]}}}  (in model.inputs order)
OUTPUT.json: {"outputs": {"output_<i>": {"shape", "data"}},
              "weights": {"<layer>/<variable>": distinct values}}   # kernels only
With MODEL.tflite, also converts the Keras model with TFLiteConverter.from_keras_model (which folds
BatchNormalization into the convolutions before it) and writes the .tflite there.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv):
    import numpy as np
    import keras

    model = keras.saving.load_model(argv[1])
    with open(argv[2]) as f:
        inputs = json.load(f)["inputs"]
    feeds = [np.asarray(inputs[t.name if t.name in inputs else list(inputs)[i]]["data"],
                        dtype=str(t.dtype)).reshape(inputs[list(inputs)[i]]["shape"])
             for i, t in enumerate(model.inputs)]
    outputs = model.predict(feeds if len(feeds) > 1 else feeds[0], verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    weights = {v.path: int(np.unique(v.numpy()).size) for v in model.weights if "kernel" in v.path}
    if len(argv) > 4:
        import tensorflow as tf
        with open(argv[4], "wb") as f:
            f.write(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    with open(argv[3], "w") as f:
        json.dump({"outputs": {f"output_{i}": {"shape": list(o.shape), "data": o.reshape(-1).tolist()}
                               for i, o in enumerate(outputs)},
                   "weights": weights}, f)


if __name__ == "__main__":
    main(sys.argv)

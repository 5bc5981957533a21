#!/usr/bin/env python3
"""Runs a SavedModel signature in Python TensorFlow: the reference that wclust's flat graph must match.

Usage: savedmodel_run.py SAVEDMODEL_DIR INPUT.json OUTPUT.json [--signature serving_default]
INPUT.json:  {"inputs":  {"<key>": {"shape": [...], "data": [flat floats]}}}
OUTPUT.json: {"outputs": {"<key>": {"shape": [...], "data": [flat floats]}}}
"""
import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--signature", default="serving_default")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    with open(args.input) as f:
        inputs = json.load(f)["inputs"]
    fn = tf.saved_model.load(args.model).signatures[args.signature]
    specs = fn.structured_input_signature[1]
    feeds = {k: tf.constant(np.asarray(v["data"]).reshape(v["shape"]), dtype=specs[k].dtype)
             for k, v in inputs.items()}
    outputs = fn(**feeds)
    result = {k: {"shape": list(v.shape), "data": [float(x) for x in v.numpy().reshape(-1)]}
              for k, v in outputs.items()}
    with open(args.output, "w") as f:
        json.dump({"outputs": result}, f)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Top-1 accuracy of a classifier on labelled data: the independent check of the accuracies wclust reports.

Usage: evaluate_accuracy.py MODEL DATA.npz [--scale S] [--signature serving_default] [--batch N]

MODEL is a SavedModel directory (its signature is called through tf.saved_model.load) or a .tflite
file (run by tf.lite.Interpreter, its input resized to the batch). DATA.npz holds x (inputs; any
numeric dtype, multiplied by S as float32, e.g. uint8 pixels with S = 1/255) and y (integer labels).
The model must have one input and one output (class scores: probabilities or logits; the prediction
is the argmax). A .tflite with an int8/uint8 input is fed through its input quantization.

Prints one line of JSON: {"accuracy": correct / examples, "examples": N, "correct": C, "seconds": T}.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def saved_model_predictor(path, signature_key):
    import tensorflow as tf
    loaded = tf.saved_model.load(path)
    if signature_key not in loaded.signatures:
        raise SystemExit(f"{path}: no signature {signature_key!r}, has {sorted(loaded.signatures)}")
    fn = loaded.signatures[signature_key]
    inputs = fn.structured_input_signature[1]
    outputs = fn.structured_outputs
    if len(inputs) != 1 or len(outputs) != 1:
        raise SystemExit(f"{path}: expected one input and one output, got {sorted(inputs)} -> {sorted(outputs)}")
    (input_key, spec), = inputs.items()
    (output_key,) = outputs

    def predict(batch):
        return fn(**{input_key: tf.constant(batch, dtype=spec.dtype)})[output_key].numpy()

    return predict


def tflite_predictor(path):
    import warnings
    import tensorflow as tf
    with warnings.catch_warnings():  # tf.lite.Interpreter's deprecation notice (LiteRT)
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=path, num_threads=os.cpu_count())
    inputs = interpreter.get_input_details()
    outputs = interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
        raise SystemExit(f"{path}: expected one input and one output, got {len(inputs)} -> {len(outputs)}")
    inp, out = inputs[0], outputs[0]
    state = {"batch": None}

    def predict(batch):
        if state["batch"] != len(batch):
            interpreter.resize_tensor_input(inp["index"], [len(batch), *inp["shape"][1:]], strict=False)
            interpreter.allocate_tensors()
            state["batch"] = len(batch)
        detail = interpreter.get_input_details()[0]
        if np.issubdtype(detail["dtype"], np.integer):  # a fully quantized input: x / scale + zero point
            scale, zero = detail["quantization"]
            info = np.iinfo(detail["dtype"])
            batch = np.clip(np.round(batch / scale + zero), info.min, info.max)
        interpreter.set_tensor(detail["index"], batch.astype(detail["dtype"]))
        interpreter.invoke()
        result = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        if np.issubdtype(result.dtype, np.integer):
            scale, zero = interpreter.get_output_details()[0]["quantization"]
            result = (result.astype(np.float32) - zero) * scale
        return result.copy()

    return predict


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="SavedModel directory or .tflite file")
    parser.add_argument("data", help=".npz with x (inputs) and y (integer labels)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply x by this (1/255 for uint8 pixels)")
    parser.add_argument("--signature", default="serving_default", help="SavedModel signature key")
    parser.add_argument("--batch", type=int, default=1000, help="examples per call")
    args = parser.parse_args(argv[1:])

    with np.load(args.data) as data:
        if "x" not in data.files or "y" not in data.files:
            raise SystemExit(f"{args.data}: needs arrays x and y, has {data.files}")
        x, y = data["x"], data["y"].astype(np.int64)
    if len(x) != len(y) or len(y) == 0:
        raise SystemExit(f"{args.data}: {len(x)} inputs, {len(y)} labels")

    if os.path.isdir(args.model):
        predict = saved_model_predictor(args.model, args.signature)
    elif args.model.endswith(".tflite"):
        predict = tflite_predictor(args.model)
    else:
        raise SystemExit(f"{args.model}: neither a SavedModel directory nor a .tflite file")

    start = time.monotonic()
    correct = 0
    for i in range(0, len(x), args.batch):
        batch = x[i:i + args.batch].astype(np.float32) * np.float32(args.scale)
        scores = predict(batch)
        if scores.shape[0] != len(batch):
            raise SystemExit(f"model returned {scores.shape[0]} rows for a batch of {len(batch)}")
        correct += int(np.sum(np.argmax(scores.reshape(len(batch), -1), axis=1) == y[i:i + args.batch]))
    seconds = time.monotonic() - start
    print(json.dumps({"accuracy": correct / len(y), "examples": int(len(y)), "correct": correct,
                      "seconds": round(seconds, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""TFLite helper for wclust, run by Java (PythonTensorFlow) as a subprocess.

Protocol: the result is one JSON object on stdout (nothing else is written there); on failure
one line "tflite_tool: <message>" is the last line on stderr and the exit code is 2.

Subcommands:
  convert SAVEDMODEL_DIR OUT.tflite [--signature KEY] [--allow-resource-variables]
      TFLiteConverter.from_saved_model(dir, signature_keys=[KEY]) (KEY defaults to
      serving_default). Prints {"tflite_bytes": N, "resource_variables": 0}. Fails when the
      converted model still reads resource variables (VAR_HANDLE ops): its weights were not
      frozen into constants and it would compute with uninitialised values, unless
      --allow-resource-variables is given.
  run MODEL.tflite INPUT.json OUTPUT.json
      INPUT.json:  {"inputs":  {"<name>": {"shape": [...], "data": [flat floats]}}}
      OUTPUT.json: {"outputs": {"<name>": {"shape": [...], "data": [flat floats]}}}
      Names are signature input/output names (serving_default, or the only signature). A model
      without signatures uses its input/output tensor names; inputs whose name matches no tensor
      are assigned to the model inputs in order. Floats are float32 values written exactly
      (shortest repr of the double); non-finite values appear as NaN/Infinity (lenient JSON).
      Prints {"outputs": N}.
  weights MODEL.tflite
      Prints {"weights": [{"op", "tensor", "shape", "dtype", "distinct",
      "distinct_per_channel_max", "constant"}]} for the weight operand (input 1) of every
      CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and TRANSPOSE_CONV op, in op order. A weight
      produced by DEQUANTIZE (fp16 / int8 storage) is followed to the constant it reads, so shape
      and dtype are those of the stored tensor. Channels are axis 0 (CONV_2D, FULLY_CONNECTED,
      TRANSPOSE_CONV: [out, ...]) or the last axis (DEPTHWISE_CONV_2D: [1, h, w, out]).
      "constant" is false when the weight is computed at run time (then it is not counted:
      distinct values are null).
"""
import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TF's C++ logging quiet

WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV")


class ToolError(Exception):
    """An error reported to the caller as one stderr line with exit code 2."""


def _tf():
    """Imports TensorFlow lazily, with its Python warnings and logging off stdout."""
    import logging
    import warnings
    warnings.filterwarnings("ignore")  # e.g. the tf.lite.Interpreter deprecation notice
    import tensorflow as tf
    tf.get_logger().setLevel(logging.ERROR)
    return tf


def _interpreter(path, inspect=False):
    """An allocated interpreter. For inspection, keep all tensors and skip the default XNNPACK
    delegate: once applied it appends DELEGATE nodes to _get_ops_details() that claim the
    outputs of the ops they replaced (e.g. DEQUANTIZE), hiding the original graph."""
    tf = _tf()
    if not os.path.isfile(path):
        raise ToolError(f"no such file: {path}")
    if inspect:
        it = tf.lite.Interpreter(
            model_path=path, experimental_preserve_all_tensors=True,
            experimental_op_resolver_type=(
                tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
    else:
        it = tf.lite.Interpreter(model_path=path)
    it.allocate_tensors()
    return it


_result_stream = sys.stdout  # replaced in main() by a private copy of the original stdout


def _emit(obj):
    _result_stream.write(json.dumps(obj) + "\n")
    _result_stream.flush()


# ---------------------------------------------------------------------------------------- convert

def cmd_convert(args):
    tf = _tf()
    if not os.path.isfile(os.path.join(args.saved_model, "saved_model.pb")):
        raise ToolError(f"not a SavedModel directory: {args.saved_model}")
    converter = tf.lite.TFLiteConverter.from_saved_model(
        args.saved_model, signature_keys=[args.signature])
    _configure_quantization(tf, converter, args)
    model = converter.convert()
    # Unfrozen variables (e.g. tf.saved_model.save of a Keras 3 model object) survive as
    # VAR_HANDLE/READ_VARIABLE ops whose values are never initialised in TFLite.
    it = tf.lite.Interpreter(model_content=model)
    var_ops = sum(op["op_name"] == "VAR_HANDLE" for op in it._get_ops_details())
    if var_ops and not args.allow_resource_variables:
        raise ToolError(f"converted model reads {var_ops} resource variables (VAR_HANDLE) instead "
                        "of constant weights; re-export the model with model.export() or "
                        "pass --allow-resource-variables")
    with open(args.out, "wb") as f:
        f.write(model)
    _emit({"tflite_bytes": len(model), "resource_variables": var_ops})


def _configure_quantization(tf, converter, args):
    """none: float; dynamic: int8 weights, float activations; int8: int8 weights and activations,
    calibrated on --data (an .npz with an array 'x', scaled by --data-scale), float input/output."""
    if args.quantize == "none":
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if args.quantize == "dynamic":
        return
    if not args.data:
        raise ToolError("--quantize int8 needs --data FILE.npz (representative inputs, array 'x')")
    import numpy as np
    with np.load(args.data) as npz:
        if "x" not in npz:
            raise ToolError(f"{args.data} has no array 'x'")
        x = npz["x"][: args.calibration_samples].astype(np.float32) * args.data_scale

    def representative():
        for i in range(len(x)):
            yield [x[i : i + 1]]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]


# -------------------------------------------------------------------------------------------- run

def _to_json_tensor(value):
    import numpy as np
    arr = np.asarray(value)
    return {"shape": list(arr.shape), "data": [float(x) for x in arr.reshape(-1)]}


def cmd_run(args):
    import numpy as np
    with open(args.input) as f:
        inputs = json.load(f).get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        raise ToolError("INPUT.json needs a non-empty 'inputs' object")
    it = _interpreter(args.model)

    signatures = it.get_signature_list()
    if signatures:
        key = "serving_default" if "serving_default" in signatures else None
        if key is None and len(signatures) != 1:
            raise ToolError(f"no serving_default among signatures {sorted(signatures)}")
        runner = it.get_signature_runner(key)
        details = runner.get_input_details()
        unknown = sorted(set(inputs) - set(details))
        missing = sorted(set(details) - set(inputs))
        if unknown or missing:
            raise ToolError(f"signature inputs are {sorted(details)}; unknown {unknown}, "
                            f"missing {missing}")
        feeds = {name: np.asarray(spec["data"], dtype=details[name]["dtype"])
                 .reshape(spec["shape"]) for name, spec in inputs.items()}
        outputs = runner(**feeds)  # resizes inputs and reallocates as needed
    else:
        # No signature: match by tensor name, otherwise feed model inputs in order.
        details = it.get_input_details()
        if len(inputs) != len(details):
            raise ToolError(f"model has {len(details)} inputs, INPUT.json has {len(inputs)}")
        by_name = {d["name"]: d for d in details}
        remaining = [d for d in details if d["name"] not in inputs]
        feeds = []
        for name, spec in inputs.items():
            d = by_name.get(name) or remaining.pop(0)
            feeds.append((d, np.asarray(spec["data"], dtype=d["dtype"]).reshape(spec["shape"])))
        for d, value in feeds:
            if list(d["shape"]) != list(value.shape):
                it.resize_tensor_input(d["index"], value.shape)
        it.allocate_tensors()
        for d, value in feeds:
            it.set_tensor(d["index"], value)
        it.invoke()
        outputs = {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}

    with open(args.output, "w") as f:
        json.dump({"outputs": {k: _to_json_tensor(v) for k, v in outputs.items()}}, f)
    _emit({"outputs": len(outputs)})


# ---------------------------------------------------------------------------------------- weights

def _distinct(values, axis):
    """Distinct count overall and the maximum per slice along `axis`."""
    import numpy as np
    channels = np.moveaxis(values, axis, 0).reshape(values.shape[axis], -1)
    per_channel = max((len(np.unique(c)) for c in channels), default=0)
    return int(len(np.unique(values))), int(per_channel)


def cmd_weights(args):
    it = _interpreter(args.model, inspect=True)
    ops = [op for op in it._get_ops_details() if op["op_name"] != "DELEGATE"]
    tensors = {t["index"]: t for t in it.get_tensor_details()}
    producer = {int(out): op for op in ops for out in op["outputs"]}

    weights = []
    for op in ops:
        if op["op_name"] not in WEIGHT_OPS or len(op["inputs"]) < 2:
            continue
        index = int(op["inputs"][1])
        # Follow DEQUANTIZE (fp16 or int8 stored weights) to the stored constant.
        while index in producer and producer[index]["op_name"] == "DEQUANTIZE":
            index = int(producer[index]["inputs"][0])
        t = tensors[index]
        constant = index not in producer
        entry = {
            "op": op["op_name"],
            "tensor": t["name"],
            "shape": [int(d) for d in t["shape"]],
            "dtype": t["dtype"].__name__,
            "constant": constant,
            "distinct": None,
            "distinct_per_channel_max": None,
        }
        if constant:
            values = it.get_tensor(index)
            axis = values.ndim - 1 if op["op_name"] == "DEPTHWISE_CONV_2D" else 0
            entry["distinct"], entry["distinct_per_channel_max"] = _distinct(values, axis)
        weights.append(entry)
    _emit({"weights": weights})


# ------------------------------------------------------------------------------------------- main

def _parser():
    p = argparse.ArgumentParser(prog="tflite_tool.py", description="TFLite helper for wclust")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="SavedModel -> .tflite")
    c.add_argument("saved_model")
    c.add_argument("out")
    c.add_argument("--signature", default="serving_default")
    c.add_argument("--allow-resource-variables", action="store_true")
    c.add_argument("--quantize", choices=["none", "dynamic", "int8"], default="none")
    c.add_argument("--data", help="representative inputs for int8: .npz with array 'x'")
    c.add_argument("--data-scale", type=float, default=1.0)
    c.add_argument("--calibration-samples", type=int, default=200)
    c.set_defaults(func=cmd_convert)
    r = sub.add_parser("run", help="run a .tflite model on JSON inputs")
    r.add_argument("model")
    r.add_argument("input")
    r.add_argument("output")
    r.set_defaults(func=cmd_run)
    w = sub.add_parser("weights", help="list conv/dense weight tensors")
    w.add_argument("model")
    w.set_defaults(func=cmd_weights)
    return p


def main(argv=None):
    global _result_stream
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse printed usage to stderr; keep the exit-code contract
        return 0 if e.code == 0 else 2
    # Point file descriptor 1 at stderr so that anything TF, the converter or native code
    # prints lands there; the JSON result goes to a private duplicate of the real stdout.
    sys.stdout.flush()
    _result_stream = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        args.func(args)
        return 0
    except Exception as e:  # noqa: BLE001 - every failure becomes the one-line error
        message = str(e) if isinstance(e, ToolError) else f"{type(e).__name__}: {e}"
        sys.stdout.flush()
        sys.stderr.flush()
        print("tflite_tool: " + " ".join(message.split()), file=sys.stderr, flush=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())

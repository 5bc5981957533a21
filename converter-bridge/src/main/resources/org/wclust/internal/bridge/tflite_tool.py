#!/usr/bin/env python3
"""TFLite helper for wclust, run by Java (PythonTensorFlow) as a subprocess.

Protocol: the result is one JSON object on stdout (nothing else is written there); on failure
one line "tflite_tool: <message>" is the last line on stderr and the exit code is 2.

  serve
      Runs many commands in one process (importing TensorFlow takes seconds; a conversion of a
      small model, one): reads one JSON array of a command's arguments per line of stdin and
      answers each with one line on stdout, {"result": <the command's JSON object>} or
      {"error": "tflite_tool: <message>"}, until stdin ends.

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
  compress MODEL.tflite OUT.tflite [--samples N] [--seed S] [--data X.npz [--data-scale F]]
           [--allow-uncompressed]
      Lookup-table compression for TensorFlow Lite Micro (PyPI tflite-micro; see
      tflm_compression.py beside this script): every conv/dense weight that gets smaller is stored
      as b-bit indices into value tables, decoded by TFLM_DECODE operators. Both models then run in
      TFLM's interpreter (a child process: a kernel that aborts is an error, not a crash) on N
      inputs (rows of the .npz array 'x' times F, or seeded random values); OUT is written only
      when every weight TFLM decodes equals the original and the outputs match (float: within
      1e-4 of the largest |output|, int8 weights: exactly). With no weight to compress it fails,
      or with --allow-uncompressed writes MODEL unchanged. Prints {"uncompressed_bytes",
      "compressed_bytes", "compressed_tensors", "tensors": [per weight: name, op, shape, dtype,
      bytes, distinct, mode (per_tensor | per_channel | none), axis, bits, tables, table_length,
      compressed_bytes, saved_bytes, note], "verification": {"interpreter", "inputs",
      "input_source", "outputs": [{"output", "max_abs_diff", "max_abs", "limit"}]},
      "tflite_micro_version", "seconds"}.
  verify-tflm MODEL.tflite COMPRESSED.tflite [--samples N] [--seed S] [--data X.npz ...]
      The verification step of compress, run by it in a child process. Prints {"outputs": [...]}.
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


_result = None  # the running command's result, set by _emit


def _emit(obj):
    global _result
    _result = obj


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
    calibrated on --data (an .npz with an array 'x', scaled by --data-scale), float input/output,
    weights quantized per output channel; int8-per-tensor: the same with one scale per weight
    tensor (so a tensor with k values keeps at most k int8 values, and one lookup table fits it)."""
    if args.quantize == "none":
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if args.quantize == "int8-per-tensor":
        converter._experimental_disable_per_channel = True
    if args.quantize == "dynamic":
        return
    if not args.data:
        raise ToolError(f"--quantize {args.quantize} needs --data FILE.npz (representative inputs, array 'x')")
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


# --------------------------------------------------------------------------------------- compress

def _compression():
    """tflm_compression.py (beside this script) with tflite-micro importable."""
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:  # once per process (serve runs many commands)
        sys.path.insert(0, here)
    import tflm_compression
    try:
        tflm_compression.require_tflm()
    except tflm_compression.CompressionError as e:
        raise ToolError(str(e)) from e
    return tflm_compression


def _read_model(path):
    if not os.path.isfile(path):
        raise ToolError(f"no such file: {path}")
    with open(path, "rb") as f:
        return f.read()


def _verification_inputs(lut, model, args):
    data = None
    if args.data:
        import numpy as np
        with np.load(args.data) as npz:
            if "x" not in npz:
                raise ToolError(f"{args.data} has no array 'x'")
            data = npz["x"][: args.samples].astype(np.float32) * args.data_scale
    try:
        return lut.make_inputs(model, args.samples, args.seed, data)
    except lut.CompressionError as e:
        raise ToolError(str(e)) from e


def cmd_compress(args):
    import time
    start = time.time()
    lut = _compression()
    model = _read_model(args.model)
    plans = lut.plan(model)
    chosen = [p for p in plans if p.mode]
    result = {"uncompressed_bytes": len(model), "compressed_tensors": len(chosen),
              "tensors": [p.to_json() for p in plans], "tflite_micro_version": _tflm_version()}
    if not chosen:
        why = (f"{len(plans)} conv/dense weight tensors, none smaller as lookup tables"
               if plans else "no float32/int8 conv/dense weight tensors")
        if not args.allow_uncompressed:
            raise ToolError(f"nothing to compress in {args.model}: {why}; pass "
                            "--allow-uncompressed to write the model unchanged")
        _write(args.out, model)
        result.update({"compressed_bytes": len(model), "note": why,
                       "seconds": time.time() - start})
        _emit(result)
        return
    try:
        compressed = lut.compress(model, plans)
    except lut.CompressionError as e:
        raise ToolError(str(e)) from e
    partial = args.out + ".unverified"
    _write(partial, compressed)
    try:
        verification = _verify_in_child(args, partial)
    finally:
        os.remove(partial)
    _write(args.out, compressed)
    result.update({"compressed_bytes": len(compressed), "verification": verification,
                   "seconds": time.time() - start})
    _emit(result)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _tflm_version():
    import tflite_micro
    return tflite_micro.__version__


def _verify_in_child(args, compressed_path):
    """Runs verify-tflm in a child process: TFLM's kernels abort() on some models (e.g. an int8
    softmax whose input scale is out of range), which must not take this process down."""
    import subprocess
    command = [sys.executable, os.path.abspath(__file__), "verify-tflm", args.model,
               compressed_path, "--samples", str(args.samples), "--seed", str(args.seed),
               "--data-scale", str(args.data_scale)]
    if args.data:
        command += ["--data", args.data]
    # stdin: not the serve loop's requests.
    child = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    lines = [l for l in child.stderr.splitlines() if l.strip()]
    if child.returncode == 0:
        return json.loads(child.stdout)
    if child.returncode > 0:
        last = lines[-1] if lines else f"exit status {child.returncode}"
        raise ToolError(last.split("tflite_tool: ", 1)[-1])
    stage = [l for l in lines if l.startswith("tflm: ")]
    where = stage[-1][len("tflm: "):] if stage else "starting"
    raise ToolError(f"TFLM's interpreter crashed (signal {-child.returncode}) while {where}: "
                    "its kernels do not run this model, so the compressed one cannot be verified; "
                    "nothing written")


def cmd_verify_tflm(args):
    lut = _compression()
    plain = _read_model(args.model)
    compressed = _read_model(args.compressed)
    inputs = _verification_inputs(lut, plain, args)
    try:
        outputs = lut.verify(plain, compressed, lut.plan(plain), inputs,
                             progress=lambda stage: print("tflm: " + stage, file=sys.stderr,
                                                          flush=True))
    except lut.CompressionError as e:
        raise ToolError(str(e)) from e
    _emit({"interpreter": "tflite_micro.runtime.Interpreter", "inputs": len(inputs),
           "input_source": f"{args.data} x {args.data_scale}" if args.data
           else f"random (seed {args.seed})", "outputs": outputs})


# ------------------------------------------------------------------------------------------- main

def _parser():
    p = argparse.ArgumentParser(prog="tflite_tool.py", description="TFLite helper for wclust")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="SavedModel -> .tflite")
    c.add_argument("saved_model")
    c.add_argument("out")
    c.add_argument("--signature", default="serving_default")
    c.add_argument("--allow-resource-variables", action="store_true")
    c.add_argument("--quantize", choices=["none", "dynamic", "int8", "int8-per-tensor"], default="none")
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
    for name, func, help_ in (("compress", cmd_compress, "LUT-compress for TFLM and verify"),
                              ("verify-tflm", cmd_verify_tflm, "run both models in TFLM")):
        k = sub.add_parser(name, help=help_)
        k.add_argument("model")
        k.add_argument("out" if name == "compress" else "compressed")
        k.add_argument("--samples", type=int, default=3)
        k.add_argument("--seed", type=int, default=0)
        k.add_argument("--data", help="verification inputs: .npz with array 'x'")
        k.add_argument("--data-scale", type=float, default=1.0)
        if name == "compress":
            k.add_argument("--allow-uncompressed", action="store_true")
        k.set_defaults(func=func)
    return p


def _run(argv):
    """Runs one command; returns its result object, or raises ToolError or another exception."""
    global _result
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse printed usage (or the help asked for) to stderr
        raise ToolError("bad arguments: " + " ".join(argv) if e.code else "help printed") from e
    _result = None
    args.func(args)
    return _result


def _error_line(e):
    message = str(e) if isinstance(e, ToolError) else f"{type(e).__name__}: {e}"
    return "tflite_tool: " + " ".join(message.split())


def _serve(results):
    """The serve loop: one command per line of stdin, one answer per line of results."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = {"result": _run(json.loads(line))}
        except Exception as e:  # noqa: BLE001 - every failure becomes the one-line error
            answer = {"error": _error_line(e)}
        sys.stdout.flush()
        sys.stderr.flush()
        results.write(json.dumps(answer) + "\n")
        results.flush()
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # Point file descriptor 1 at stderr so that anything TF, the converter or native code
    # prints lands there; results go to a private duplicate of the real stdout.
    sys.stdout.flush()
    results = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    if argv == ["serve"]:
        return _serve(results)
    try:
        result = _run(argv)
    except Exception as e:  # noqa: BLE001 - every failure becomes the one-line error
        if isinstance(e.__cause__, SystemExit) and not e.__cause__.code:
            return 0  # --help
        sys.stdout.flush()
        sys.stderr.flush()
        print(_error_line(e), file=sys.stderr, flush=True)
        return 2
    results.write(json.dumps(result) + "\n")
    results.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

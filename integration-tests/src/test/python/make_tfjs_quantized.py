#!/usr/bin/env python3
"""Writes a Keras model as TensorFlow.js layers models with quantized weights, and records what Keras
computes with the dequantized weights.

Usage: make_tfjs_quantized.py MODEL.keras OUTDIR DTYPE[,DTYPE...]      (DTYPE: uint8, uint16, float16)

For each DTYPE writes OUTDIR/DTYPE/model.json + OUTDIR/DTYPE/group1-shard1of1.bin in the TF.js
layers format (modelTopology = the Keras config, weightsManifest with one group, every weight
quantized with a "quantization" entry as tensorflowjs_converter --quantize_uint8/uint16/float16
writes it), and OUTDIR/DTYPE.json with {"inputs", "outputs", "weights"}: two seeded random inputs,
Keras predict of the model holding the dequantized weights, and per weight ("layer/name") its
dequantized values' sum, sum of squares and first 8 values (a compact fingerprint to compare).

Quantization follows tensorflowjs' quantization.py: uint8/uint16 are affine with the range
[min, max] of the weight, min nudged so that 0 is exactly representable, scale = (max - min) /
(2^bits - 1), q = round((w - min) / scale); TF.js dequantizes q * scale + min in double precision
and stores float32, which is what the Keras model is given here. float16 is IEEE half precision.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def quantize(w, dtype):
    """(stored bytes, manifest quantization entry, dequantized float32 values as TF.js computes them)."""
    if dtype == "float16":
        half = w.astype("<f2")
        return half.tobytes(), {"dtype": "float16", "original_dtype": "float32"}, half.astype(np.float32)
    qmax = np.iinfo(dtype).max
    lo, hi = float(w.min()), float(w.max())
    scale = (hi - lo) / qmax if hi > lo else 1.0
    nudged_min = float(np.round(lo / scale) * scale)
    nudged_max = nudged_min + scale * qmax
    q = np.round((np.clip(w.astype(np.float64), nudged_min, nudged_max) - nudged_min) / scale).astype(dtype)
    values = (q.astype(np.float64) * scale + nudged_min).astype(np.float32)
    entry = {"dtype": dtype, "scale": scale, "min": nudged_min, "original_dtype": "float32"}
    return q.astype("<" + np.dtype(dtype).str[1:]).tobytes(), entry, values


def tensor_json(a):
    return {"shape": list(a.shape), "dtype": "float32", "data": a.reshape(-1).tolist()}


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    source, outdir, dtypes = argv[1], os.path.abspath(argv[2]), argv[3].split(",")
    model = keras.models.load_model(source, compile=False)
    topology = json.loads(model.to_json())
    original = [[v.numpy() for v in layer.weights] for layer in model.layers]
    shape = [2 if d is None else d for d in model.inputs[0].shape]
    x = np.random.default_rng(16).random(shape, dtype=np.float32)
    input_name = model.layers[0].name
    for dtype in dtypes:
        specs, data, weights = [], bytearray(), {}
        for layer, values in zip(model.layers, original):
            dequantized = []
            for v, w in zip(layer.weights, values):
                stored, quantization, deq = quantize(w, dtype)
                name = f"{layer.name}/{v.name}"
                specs.append({"name": name, "shape": list(w.shape), "dtype": "float32",
                              "quantization": quantization})
                data += stored
                dequantized.append(deq)
                flat = deq.reshape(-1).astype(np.float64)
                weights[name] = {"sum": float(flat.sum()), "sum_sq": float((flat * flat).sum()),
                                 "head": flat[:8].tolist()}
            if dequantized:
                layer.set_weights(dequantized)
        os.makedirs(os.path.join(outdir, dtype), exist_ok=True)
        shard = "group1-shard1of1.bin"
        with open(os.path.join(outdir, dtype, shard), "wb") as f:
            f.write(data)
        with open(os.path.join(outdir, dtype, "model.json"), "w") as f:
            json.dump({"format": "layers-model", "generatedBy": "make_tfjs_quantized.py",
                       "modelTopology": topology,
                       "weightsManifest": [{"paths": [shard], "weights": specs}]}, f)
        y = model.predict(x, verbose=0)
        with open(os.path.join(outdir, dtype + ".json"), "w") as f:
            json.dump({"inputs": {input_name: tensor_json(x)}, "outputs": {"output_0": tensor_json(y)},
                       "weights": weights}, f)
        for layer, values in zip(model.layers, original):
            if values:
                layer.set_weights(values)
        print(f"{dtype}: {len(specs)} weights, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

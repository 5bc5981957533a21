#!/usr/bin/env python3
"""Independent check of a TFLM lookup-table compressed .tflite (a test helper; shares no code with
wclust's compressor).

Usage: check_tflm_compression.py PLAIN.tflite COMPRESSED.tflite CLUSTERED_SAVEDMODEL K OUT.json

Both files are parsed with TensorFlow's own flatbuffer schema. Every tensor pair of every
TFLM_DECODE operator is decoded here from the file: the 16-byte decode header (type 0 = LUT, bit
width in the low 3 bits of byte 5, table stride in byte 6), indices packed big-endian at that
width, one value table, or one per channel when the decoded tensor is quantized per channel (along
its quantized dimension). Checked:
  - each decoded tensor equals, bit for bit, the weight the same operator reads in PLAIN;
  - it holds the clustered weights: float32, its values are (as a multiset) those of a weight
    constant of CLUSTERED_SAVEDMODEL; int8, dequantized (q * its channel's scale) they are within
    1e-6 of max|w| (per-channel scales: the int8-aware path) or within half a step of the tensor's
    grid (one scale per tensor), and no channel has more than K values;
  - PLAIN and COMPRESSED run in tflite_micro.runtime.Interpreter on 3 seeded random inputs with equal
    outputs: within 1e-4 of the largest |output| for float weights, exactly for int8 weights.
Writes {"decoded": N, "decoded_ops": [...], "outputs": [{"max_abs_diff", "max_abs"}], ...} to
OUT.json; on a failed check prints it to stderr and exits 1.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.core.protobuf import saved_model_pb2  # noqa: E402
from tensorflow.lite.python import schema_py_generated as tfl  # noqa: E402

NUMPY = {tfl.TensorType.FLOAT32: np.float32, tfl.TensorType.INT8: np.int8,
         tfl.TensorType.UINT8: np.uint8, tfl.TensorType.INT32: np.int32}
NAMES = {v: k for k, v in vars(tfl.BuiltinOperator).items() if not k.startswith("_")}


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


class Model:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.m = tfl.Model.GetRootAs(self.data, 0)
        self.sg = self.m.Subgraphs(0)

    def op_name(self, op):
        code = self.m.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == tfl.BuiltinOperator.CUSTOM:
            return code.CustomCode().decode()
        return NAMES[builtin]

    def ops(self):
        return [self.sg.Operators(i) for i in range(self.sg.OperatorsLength())]

    def raw(self, index):
        data = self.m.Buffers(self.sg.Tensors(index).Buffer()).DataAsNumpy()
        return b"" if isinstance(data, int) else data.tobytes()

    def values(self, index):
        t = self.sg.Tensors(index)
        return np.frombuffer(self.raw(index), dtype=NUMPY[t.Type()]).reshape(t.ShapeAsNumpy())


def decode(model, encoded, ancillary, output):
    """The values of `output` as TFLM's LUT decoder defines them, from the two input tensors."""
    header = model.raw(ancillary)
    check(header[0] == 0 and header[1] == 1, f"decode header {list(header[:4])} is not LUT version 1")
    bits, stride = header[5] & 7, header[6]
    tables = np.frombuffer(header[16:], dtype=NUMPY[model.sg.Tensors(output).Type()])
    t = model.sg.Tensors(output)
    shape = tuple(int(d) for d in t.ShapeAsNumpy())
    count = int(np.prod(shape))
    packed = np.unpackbits(np.frombuffer(model.raw(encoded), dtype=np.uint8))  # big-endian bits
    check(packed.size >= count * bits, "fewer packed bits than elements")
    indices = packed[: count * bits].reshape(count, bits).astype(np.int64) @ (1 << np.arange(bits - 1, -1, -1))
    q = t.Quantization()
    channels = q.ScaleLength() if q is not None else 0
    if channels > 1:
        axis = q.QuantizedDimension()
        channel = np.indices(shape)[axis].reshape(-1)  # each element's channel, in storage order
    else:
        axis, channel = None, np.zeros(count, dtype=np.int64)
    check(np.all(indices < stride), "an index beyond its table")
    return tables[channel * stride + indices].reshape(shape), axis


def clustered_constants(saved_model):
    sm = saved_model_pb2.SavedModel()
    with open(os.path.join(saved_model, "saved_model.pb"), "rb") as f:
        sm.ParseFromString(f.read())
    consts = {}
    for node in sm.meta_graphs[0].graph_def.node:
        if node.op == "Const" and node.attr["value"].tensor.dtype == tf.float32.as_datatype_enum:
            value = tf.make_ndarray(node.attr["value"].tensor)
            if value.size > 1:
                consts.setdefault(value.size, []).append(np.sort(value.reshape(-1)))
    return consts


def run_tflm(data, inputs):
    from tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(bytes(data), arena_size=len(data) * 4 + 64 * 2 ** 20)
    outs = []
    for feed in inputs:
        it.set_input(feed, 0)
        it.invoke()
        outs.append(np.array(it.get_output(0)))
    return outs


def main(argv):
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    plain, packed = Model(argv[1]), Model(argv[2])
    consts = clustered_constants(argv[3])
    k = int(argv[4])
    summary = {"decoded": 0, "decoded_ops": []}
    try:
        plain_ops = plain.ops()
        kept = [op for op in packed.ops() if packed.op_name(op) != "TFLM_DECODE"]
        check(len(kept) == len(plain_ops), f"{len(kept)} operators besides DECODE, {len(plain_ops)} in PLAIN")
        decoded = {}
        for op in packed.ops():
            if packed.op_name(op) == "TFLM_DECODE":
                for j in range(op.OutputsLength()):
                    out = int(op.Outputs(j))
                    decoded[out] = decode(packed, int(op.Inputs(2 * j)), int(op.Inputs(2 * j + 1)), out)
        int8 = False
        for position, op in enumerate(kept):
            for slot in range(op.InputsLength()):
                index = int(op.Inputs(slot))
                if index not in decoded:
                    continue
                values, axis = decoded[index]
                reference = plain_ops[position]
                check(packed.op_name(op) == plain.op_name(reference), "operators out of order")
                want = plain.values(int(reference.Inputs(slot)))
                name = f"{packed.op_name(op)} #{position} input {slot}"
                check(values.dtype == want.dtype and values.shape == want.shape,
                      f"{name}: decoded {values.dtype}{list(values.shape)}, PLAIN has {want.dtype}{list(want.shape)}")
                check(np.array_equal(values, want), f"{name}: decoded values differ from PLAIN's weight")
                candidates = consts.get(values.size, [])
                if values.dtype == np.float32:
                    check(any(np.array_equal(np.sort(values.reshape(-1)), c) for c in candidates),
                          f"{name}: no clustered constant with these values")
                else:
                    int8 = True
                    q = plain.sg.Tensors(int(reference.Inputs(slot))).Quantization()
                    scale = q.ScaleAsNumpy().astype(np.float32)
                    shape = [1] * values.ndim
                    if axis is not None:
                        shape[axis] = -1
                    w = values.astype(np.float32) * scale.reshape(shape)
                    sorted_w = np.sort(w.reshape(-1))
                    tol = 1e-6 * float(np.max(np.abs(w)))
                    if axis is None:
                        # One scale per tensor, nothing snapped to it: each clustered value is
                        # rounded to the nearest step (order kept, so sorted values pair up).
                        tol += float(scale[0]) / 2
                    check(any(np.allclose(sorted_w, c, rtol=0, atol=tol) for c in candidates),
                          f"{name}: dequantized values are no clustered constant")
                    per_channel = np.moveaxis(values, axis if axis is not None else 0, 0)
                    most = max(len(np.unique(c)) for c in per_channel.reshape(per_channel.shape[0], -1))
                    check(most <= k, f"{name}: {most} int8 values in a channel, more than {k}")
                summary["decoded"] += 1
                summary["decoded_ops"].append(name)
        check(summary["decoded"] == len(decoded), "a decoded tensor feeds no operator")

        from tflite_micro import runtime
        details = runtime.Interpreter.from_bytes(plain.data).get_input_details(0)
        rng = np.random.default_rng(3)
        inputs = [rng.standard_normal(tuple(details["shape"])).astype(details["dtype"]) for _ in range(3)]
        expected, actual = run_tflm(plain.data, inputs), run_tflm(packed.data, inputs)
        diff = max(float(np.max(np.abs(e.astype(np.float64) - a))) for e, a in zip(expected, actual))
        scale = max(float(np.max(np.abs(e))) for e in expected)
        summary["outputs"] = [{"max_abs_diff": diff, "max_abs": scale}]
        limit = 0.0 if int8 else 1e-4 * scale
        check(diff <= limit, f"TFLM outputs differ by {diff} (largest |output| {scale}, allowed {limit})")
    except CheckFailed as e:
        print(f"check_tflm_compression: {e}", file=sys.stderr)
        return 1
    with open(argv[5], "w") as f:
        json.dump(summary, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

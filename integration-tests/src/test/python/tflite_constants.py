#!/usr/bin/env python3
"""List every constant tensor of a .tflite, in every subgraph, with the ops that read it.

Usage:
    python tflite_constants.py MODEL.tflite OUT.json

Writes {"constants": [{"subgraph", "tensor", "shape", "dtype", "size", "distinct",
"distinct_per_row_max", "ops"}]}: each tensor backed by a non-empty buffer (a stored weight), in the
main subgraph and in control-flow subgraphs (the bodies of WHILE loops, where the converter moves the
weights of recurrent layers); "distinct" is its number of distinct values, "distinct_per_row_max" the
most distinct values along one index of its first dimension (an output channel of a FULLY_CONNECTED
or conv weight, a row of a GATHER table), "ops" the builtin names of the operators that read it. Read
from the flatbuffer with TensorFlow's own schema, independently of wclust's code.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from tensorflow.lite.python import schema_py_generated as schema  # noqa: E402

DTYPES = {schema.TensorType.FLOAT32: np.float32, schema.TensorType.INT8: np.int8,
          schema.TensorType.INT32: np.int32, schema.TensorType.FLOAT16: np.float16,
          schema.TensorType.INT64: np.int64, schema.TensorType.UINT8: np.uint8}
BUILTIN_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(f.read(), 0))
    op_names = [BUILTIN_NAMES.get(max(c.builtinCode, c.deprecatedBuiltinCode), str(c.builtinCode))
                for c in model.operatorCodes]
    constants = []
    for g, subgraph in enumerate(model.subgraphs):
        readers = {}
        for op in subgraph.operators:
            for i in (op.inputs if op.inputs is not None else []):
                readers.setdefault(int(i), set()).add(op_names[op.opcodeIndex])
        for index, t in enumerate(subgraph.tensors):
            buffer = model.buffers[t.buffer]
            if buffer.data is None or len(buffer.data) == 0 or t.type not in DTYPES:
                continue
            shape = [int(d) for d in (t.shape if t.shape is not None else [])]
            values = np.frombuffer(bytes(bytearray(buffer.data)), dtype=DTYPES[t.type]).reshape(shape)
            rows = values.reshape(values.shape[0], -1) if values.ndim >= 2 else values.reshape(1, -1)
            constants.append({
                "subgraph": g,
                "tensor": t.name.decode() if isinstance(t.name, bytes) else str(t.name),
                "shape": shape,
                "dtype": np.dtype(DTYPES[t.type]).name,
                "size": int(values.size),
                "distinct": int(len(np.unique(values))),
                "distinct_per_row_max": int(max(len(np.unique(r)) for r in rows)) if values.size else 0,
                "ops": sorted(readers.get(index, [])),
            })
    with open(argv[2], "w") as f:
        json.dump({"constants": constants}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

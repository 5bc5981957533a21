#!/usr/bin/env python3
"""List every constant tensor of a .tflite with the ops that read it (for the clustering checks).

Usage:
    python tflite_constants.py MODEL.tflite OUT.json

Writes {"constants": [{"tensor", "shape", "dtype", "size", "distinct", "distinct_per_row_max", "ops"}]}:
each tensor that no op produces (a stored weight), "distinct" its number of distinct values,
"distinct_per_row_max" the most distinct values along one index of its first dimension (an output
channel of a FULLY_CONNECTED or conv weight, a row of a GATHER table), "ops" the builtin names of
the operators that read it. Read with the interpreter itself (no delegates), independently of
wclust's own code.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    it = tf.lite.Interpreter(
        model_path=argv[1], experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    ops = it._get_ops_details()
    produced = {int(o) for op in ops for o in op["outputs"]}
    inputs = {int(d["index"]) for d in it.get_input_details()}
    readers = {}
    for op in ops:
        for i in op["inputs"]:
            readers.setdefault(int(i), []).append(op["op_name"])
    constants = []
    for t in it.get_tensor_details():
        index = int(t["index"])
        if index in produced or index in inputs or index not in readers:
            continue
        try:
            values = it.get_tensor(index)
        except ValueError:
            continue
        constants.append({
            "tensor": t["name"],
            "shape": [int(d) for d in t["shape"]],
            "dtype": np.dtype(t["dtype"]).name,
            "size": int(values.size),
            "distinct": int(len(np.unique(values))),
            "distinct_per_row_max": int(max(len(np.unique(r)) for r in values.reshape(values.shape[0], -1)))
            if values.ndim >= 2 else int(len(np.unique(values))),
            "ops": sorted(set(readers[index])),
        })
    with open(argv[2], "w") as f:
        json.dump({"constants": constants}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

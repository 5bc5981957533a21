#!/usr/bin/env python3
"""Writes a copy of a TFLM lookup-table compressed .tflite whose first compressed tensor decodes to
other values: the first byte of the packed indices of the first TFLM_DECODE input is inverted.

Usage: corrupt_lut_indices.py COMPRESSED.tflite OUT.tflite      (prints the corrupted tensor's name)
"""
import sys

from tensorflow.lite.python import schema_py_generated as tfl


def main(argv):
    with open(argv[1], "rb") as f:
        data = bytearray(f.read())
    model = tfl.Model.GetRootAs(data, 0)
    sg = model.Subgraphs(0)
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        if model.OperatorCodes(op.OpcodeIndex()).CustomCode() == b"TFLM_DECODE":
            tensor = sg.Tensors(int(op.Inputs(0)))
            buffer = model.Buffers(tensor.Buffer())
            # The vector's first byte: its position in the file, from the flatbuffer table.
            start = buffer._tab.Vector(buffer._tab.Offset(4))
            data[start] ^= 0xFF
            with open(argv[2], "wb") as f:
                f.write(data)
            print(tensor.Name().decode())
            return 0
    print("no TFLM_DECODE operator", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Lookup-table (LUT) compression of a .tflite for TensorFlow Lite Micro, and its verification.

Imported by tflite_tool.py (subcommand "compress"); uses the PyPI package tflite-micro:
tflite_micro.compression packs the tensors and inserts the TFLM_DECODE operators that expand them
at run time, tflite_micro.runtime runs both models.

A weight is the operand 1 of a CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED or TRANSPOSE_CONV op
(found from the operators, never from names), stored as a FLOAT32 or INT8 constant. It is stored as
b-bit indices into value tables, with the smallest b (1..7, TFLM's limit) that holds its values:
one table for the tensor, or, for a tensor quantized per channel, one table per channel along its
quantized dimension (axis 0, or the last axis for DEPTHWISE_CONV_2D), the layout TFLM decodes. A
tensor stays as it is when its tables, with the bookkeeping of a DECODE operator, would not save
bytes, or when it has more than 128 values per table.
"""
import math
from dataclasses import dataclass

import numpy as np

WEIGHT_OPS = {3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 9: "FULLY_CONNECTED", 67: "TRANSPOSE_CONV"}
_CUSTOM = 32
_DECODE_OP = "TFLM_DECODE"
_FLOAT32, _INT8 = 0, 9
_DTYPES = {_FLOAT32: np.float32, _INT8: np.int8}
MAX_BITS = 7  # TFLM's LUT index width: 3 bits in the decode header, tables of at most 128 values
DECODE_HEADER_BYTES = 16  # the DECODE common metadata in front of the value tables
# What one DECODE adds besides the data: the operator, the ancillary and output tensors (named after
# the tensor, with suffixes) and their buffer entries, about 192 bytes plus twice the name, plus 12
# bytes per channel of a per-channel quantized tensor (its scales and zero points end up stored
# twice). Measured on converter output with tflite-micro 0.dev20261023182759.
DECODE_BOOKKEEPING_BYTES = 192
DECODE_BYTES_PER_QUANTIZED_CHANNEL = 12
FLOAT_TOLERANCE = 1e-4  # relative to the largest |output| of the uncompressed model

INSTALL = ("install it with: scripts/setup-python.sh "
           "(pip install tflite-micro==0.dev20261023182759 into .venv)")


class CompressionError(Exception):
    """A model that cannot be compressed, or whose compressed form does not compute the same."""


def require_tflm():
    """The tflite_micro package, or a CompressionError naming the install command."""
    try:
        import tflite_micro  # noqa: F401
    except ImportError as e:
        raise CompressionError(f"Python package 'tflite-micro' not found; {INSTALL}") from e
    return tflite_micro


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated
    return schema_py_generated


# ------------------------------------------------------------------------------------- planning

@dataclass
class TensorPlan:
    """How one weight tensor is stored: mode None keeps it as it is (note says why)."""
    subgraph: int
    tensor: int
    name: str
    op: str
    shape: list
    dtype: str
    bytes: int  # stored now
    distinct: int
    mode: str = None  # "per_tensor" | "per_channel"
    axis: int = None
    bits: int = None
    tables: int = None
    table_length: int = None  # entries per table (the longest table; shorter ones are padded)
    compressed_bytes: int = None  # indices + decode header + tables
    overhead_bytes: int = None  # estimated bookkeeping of the DECODE operator
    note: str = None

    def saved_bytes(self):
        """Estimated: the exact total is the difference of the two file sizes."""
        return 0 if self.mode is None else self.bytes - self.compressed_bytes - self.overhead_bytes

    def to_json(self):
        out = {"subgraph": self.subgraph, "tensor": self.tensor, "name": self.name, "op": self.op,
               "shape": self.shape, "dtype": self.dtype, "bytes": self.bytes,
               "distinct": self.distinct, "mode": self.mode or "none"}
        if self.mode:
            out.update({"axis": self.axis, "bits": self.bits, "tables": self.tables,
                        "table_length": self.table_length,
                        "compressed_bytes": self.compressed_bytes,
                        "decode_overhead_bytes": self.overhead_bytes,
                        "saved_bytes": self.saved_bytes()})
        if self.note:
            out["note"] = self.note
        return out


def _bits(values):
    return max(1, math.ceil(math.log2(values)))


def _size(count, tables, length, itemsize):
    """Bytes of the packed indices, the decode header and the value tables (padded to 2^bits)."""
    bits = _bits(length)
    return math.ceil(count * bits / 8) + DECODE_HEADER_BYTES + tables * length * itemsize


def _channel_axis(tensor):
    """The per-channel quantization axis, or None for a tensor with one scale (or none).

    TFLM's decoder takes the channels of a table from the tensor's quantization, not from the
    compressed data: a per-channel quantized tensor is decoded with one table per channel along its
    quantized dimension, any other tensor (float32 included) with one table. So that is the only
    layout that decodes correctly (checked with tflite-micro 0.dev20261023182759: a float tensor
    given per-channel tables, or a per-channel int8 tensor given one table, decodes wrong values).
    """
    q = tensor.Quantization()
    if q is not None and q.ScaleLength() > 1:
        return q.QuantizedDimension()
    return None


def plan_tensor(values, axis, base):
    """One table for `values` (axis None) or one per slice along `axis`, unless it does not pay;
    `base` holds the other fields."""
    itemsize = values.dtype.itemsize
    count = values.size
    limit = 2 ** MAX_BITS
    if axis is None:
        tables, length = 1, base.distinct
        mode, what = "per_tensor", f"{base.distinct} distinct values"
    elif axis not in (0, values.ndim - 1):
        base.note = f"quantized along axis {axis}: TFLM decodes tables along axis 0 or the last only"
        return base
    else:
        channels = np.moveaxis(values, axis, 0).reshape(values.shape[axis], -1)
        tables, length = channels.shape[0], max(len(np.unique(c)) for c in channels)
        mode, what = "per_channel", f"up to {length} distinct values per channel"
    if length > limit:
        base.note = f"{what}: TFLM tables hold at most {limit}"
        return base
    size = _size(count, tables, length, itemsize)
    overhead = DECODE_BOOKKEEPING_BYTES + 2 * len(base.name.encode()) + (
        0 if axis is None else DECODE_BYTES_PER_QUANTIZED_CHANNEL * tables)
    if size + overhead >= base.bytes:
        base.note = (f"tables would not pay: {base.bytes} bytes now, {size} bytes compressed plus "
                     f"~{overhead} bytes of DECODE bookkeeping")
        return base
    base.mode, base.axis, base.bits = mode, axis, _bits(length)
    base.tables, base.table_length, base.compressed_bytes = tables, length, size
    base.overhead_bytes = overhead
    return base


def plan(model_bytes):
    """A TensorPlan for every distinct weight tensor of every subgraph, in operator order."""
    tfl = _schema()
    model = tfl.Model.GetRootAs(model_bytes, 0)
    codes = []
    for i in range(model.OperatorCodesLength()):
        c = model.OperatorCodes(i)
        codes.append(max(c.BuiltinCode(), c.DeprecatedBuiltinCode()))
    plans = []
    for s in range(model.SubgraphsLength()):
        sg = model.Subgraphs(s)
        produced = set()
        for o in range(sg.OperatorsLength()):
            produced.update(int(t) for t in sg.Operators(o).OutputsAsNumpy())
        seen = set()
        for o in range(sg.OperatorsLength()):
            op = sg.Operators(o)
            name = WEIGHT_OPS.get(codes[op.OpcodeIndex()])
            if name is None or op.InputsLength() < 2:
                continue
            index = int(op.Inputs(1))
            if index < 0 or index in seen or index in produced:
                continue
            seen.add(index)
            t = sg.Tensors(index)
            data = model.Buffers(t.Buffer()).DataAsNumpy()
            if t.Type() not in _DTYPES or isinstance(data, int) or data.size == 0:
                continue  # not a float32/int8 constant (e.g. fp16 behind DEQUANTIZE, or computed)
            values = np.frombuffer(data.tobytes(), dtype=_DTYPES[t.Type()]).reshape(t.ShapeAsNumpy())
            base = TensorPlan(s, index, t.Name().decode(), name, [int(d) for d in values.shape],
                              np.dtype(_DTYPES[t.Type()]).name, int(values.nbytes),
                              int(len(np.unique(values))))
            plans.append(plan_tensor(values, _channel_axis(t), base))
    return plans


# ------------------------------------------------------------------------------------ compress

def compress(model_bytes, plans):
    """The model with every planned tensor LUT-compressed by tflite_micro.compression."""
    import warnings
    from tflite_micro import compression
    builder = compression.SpecBuilder()
    for p in plans:
        if p.mode == "per_tensor":
            builder.add_tensor(subgraph=p.subgraph, tensor=p.tensor).with_lut(
                index_bitwidth=p.bits, mode=compression.spec.PerTensor())
        elif p.mode == "per_channel":
            builder.add_tensor(subgraph=p.subgraph, tensor=p.tensor).with_lut(
                index_bitwidth=p.bits, mode=compression.spec.PerChannel(axis=p.axis))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compressed = bytes(compression.compress(model_bytes, builder.build()))
    # The compressor warns when a tensor grows or is left out (e.g. it shares its buffer with an
    # uncompressed tensor): the plan promised otherwise, so the result is not what was reported.
    for w in caught:
        if issubclass(w.category, UserWarning):
            raise CompressionError(f"tflite_micro.compression: {w.message}")
    return compressed


# -------------------------------------------------------------------------------------- verify

def _interpreter(model_bytes, preserve=False, arena=None):
    from tflite_micro import runtime
    config = (runtime.InterpreterConfig.kPreserveAllTensors if preserve
              else runtime.InterpreterConfig.kAllocationRecording)
    return runtime.Interpreter.from_bytes(bytes(model_bytes), arena_size=arena,
                                          intrepreter_config=config)


def _io_count(model_bytes):
    sg = _schema().Model.GetRootAs(model_bytes, 0).Subgraphs(0)
    return sg.InputsLength(), sg.OutputsLength()


def make_inputs(model_bytes, samples, seed, data=None):
    """`samples` input lists for subgraph 0: rows of `data` (float array, first axis = examples)
    when given, else seeded random values (standard normal floats; uniform integers)."""
    it = _interpreter(model_bytes)
    n_in, _ = _io_count(model_bytes)
    details = [it.get_input_details(i) for i in range(n_in)]
    rng = np.random.default_rng(seed)
    if data is not None:
        if n_in != 1:
            raise CompressionError(f"--data feeds one input; the model has {n_in}")
        shape, dtype = tuple(details[0]["shape"]), details[0]["dtype"]
        if data.shape[0] == 0 or data[0].size != int(np.prod(shape)):
            raise CompressionError(f"--data examples have shape {list(data.shape[1:])}; the model "
                                   f"input is {list(shape)}")
        return [[data[i].reshape(shape).astype(dtype)] for i in range(min(samples, data.shape[0]))]
    batches = []
    for _ in range(samples):
        feed = []
        for d in details:
            shape, dtype = tuple(d["shape"]), np.dtype(d["dtype"])
            if dtype.kind == "f":
                feed.append(rng.standard_normal(shape).astype(dtype))
            else:
                info = np.iinfo(dtype)
                feed.append(rng.integers(info.min, info.max, shape, endpoint=True).astype(dtype))
        batches.append(feed)
    return batches


def _run(it, feed, n_out):
    for i, x in enumerate(feed):
        it.set_input(x, i)
    it.invoke()
    return [np.array(it.get_output(i)) for i in range(n_out)]


def _decoded_tensors(compressed_bytes):
    """(subgraph, DECODE output tensor, encoded input tensor) for every tensor TFLM decodes."""
    tfl = _schema()
    model = tfl.Model.GetRootAs(compressed_bytes, 0)
    decode_codes = {i for i in range(model.OperatorCodesLength())
                    if model.OperatorCodes(i).CustomCode() == _DECODE_OP.encode()}
    out = []
    for s in range(model.SubgraphsLength()):
        sg = model.Subgraphs(s)
        for o in range(sg.OperatorsLength()):
            op = sg.Operators(o)
            if op.OpcodeIndex() in decode_codes:
                for j in range(op.OutputsLength()):
                    out.append((s, int(op.Outputs(j)), int(op.Inputs(2 * j))))
    return out


def verify(plain_bytes, compressed_bytes, plans, inputs, progress=lambda stage: None):
    """Runs both models in TFLM on `inputs`. Fails unless every tensor TFLM decodes equals the
    original weight exactly and every output matches (float weights: within FLOAT_TOLERANCE of the
    largest |output|; int8 weights: exactly). Returns the per-output differences."""
    quantized = any(p.dtype == "int8" for p in plans)
    by_tensor = {(p.subgraph, p.tensor): p for p in plans if p.mode}
    originals = _weights(plain_bytes, by_tensor)
    _, n_out = _io_count(plain_bytes)
    progress("loading the uncompressed model")
    plain = _interpreter(plain_bytes)
    # Keeping every tensor lets us read the DECODE outputs after a run: the decoded weights.
    arena = 4 * len(plain_bytes) + 64 * 2 ** 20
    progress("loading the compressed model")
    packed = _interpreter(compressed_bytes, preserve=True, arena=arena)
    worst = [0.0] * n_out
    scale = [0.0] * n_out
    for n, feed in enumerate(inputs):
        progress(f"running the uncompressed model on input {n}")
        expected = _run(plain, feed, n_out)
        progress(f"running the compressed model on input {n}")
        actual = _run(packed, feed, n_out)
        if n == 0:
            decoded = _decoded_tensors(compressed_bytes)
            if len(decoded) < len(by_tensor):
                raise CompressionError(f"TFLM decodes {len(decoded)} tensors, {len(by_tensor)} were "
                                       "compressed")
            for s, out_index, encoded in decoded:
                p = by_tensor[(s, encoded)]
                got = np.asarray(packed.GetTensor(out_index, s)["tensor_data"])
                want = originals[(s, encoded)]
                bad = want.size if got.shape != want.shape else int(np.count_nonzero(got != want))
                if bad:
                    raise CompressionError(f"TFLM decodes weight '{p.name}' ({p.op}, tensor "
                                           f"{p.tensor}) with {bad} of {got.size} values changed")
        for i in range(n_out):
            e = expected[i].astype(np.float64)
            a = actual[i].astype(np.float64)
            worst[i] = max(worst[i], float(np.max(np.abs(e - a), initial=0.0)))
            scale[i] = max(scale[i], float(np.max(np.abs(e), initial=0.0)))
    outputs = []
    for i in range(n_out):
        limit = 0.0 if quantized else FLOAT_TOLERANCE * scale[i]
        outputs.append({"output": i, "max_abs_diff": worst[i], "max_abs": scale[i],
                        "limit": limit})
    failed = [o for o in outputs if o["max_abs_diff"] > o["limit"]]
    if failed:
        w = max(failed, key=lambda o: o["max_abs_diff"] / max(o["max_abs"], 1e-30))
        raise CompressionError(
            f"the compressed model computes differently in TFLM: output {w['output']} differs by "
            f"{w['max_abs_diff']:.3g} (largest |output| {w['max_abs']:.3g}, allowed "
            f"{w['limit']:.3g}); not written")
    return outputs


def _weights(model_bytes, wanted):
    """The stored values of the (subgraph, tensor) pairs in `wanted`."""
    model = _schema().Model.GetRootAs(model_bytes, 0)
    out = {}
    for (s, index) in wanted:
        t = model.Subgraphs(s).Tensors(index)
        data = model.Buffers(t.Buffer()).DataAsNumpy()
        out[(s, index)] = np.frombuffer(data.tobytes(), dtype=_DTYPES[t.Type()]).reshape(
            t.ShapeAsNumpy())
    return out


#!/usr/bin/env python3
"""Write NumPy and TFRecord data files with real NumPy / TensorFlow, for the Java data readers.

Usage:
    python make_data_files.py OUTDIR

Writes into OUTDIR:
  npy/<dtype>.npy       np.save of a seeded (3, 4) array per dtype (uint8 ... float64, bool)
  npy/f4_v2.npy, npy/f4_v3.npy   the float32 array with format versions 2.0 and 3.0
  npy/big_endian.npy, npy/fortran.npy, npy/object.npy   arrays the readers must refuse
  plain.npz             np.savez: x uint8 (6, 28, 28), y int64 (6,)
  compressed.npz        np.savez_compressed: x float64 (5, 3), y uint8 (5,), mask bool (5,)
  floats.tfrecord       tf.train.Example: x float_list (6 values), y int64_list (1 value)
  ints.tfrecord         x int64_list (4 values), y int64_list
  bytes.tfrecord        image bytes_list (one value, raw uint8 4x4), label int64_list
  bytes.tfrecord.gz     the same, GZIP-compressed
  expected.json         {"arrays": {FILE[:NAME]: {"descr", "shape", "values"}},
                         "datasets": {FILE: {"scale", "example_shape", "inputs", "labels"}}}
                        where inputs are float32(x) * float32(scale), flattened, as NumPy computes them
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def describe(a):
    return {"descr": a.dtype.str, "shape": list(a.shape),
            "values": [float(v) for v in a.astype(np.float64).ravel()]}


def dataset(x, y, scale, example_shape):
    inputs = x.astype(np.float32) * np.float32(scale)
    return {"scale": scale, "example_shape": example_shape,
            "inputs": [float(v) for v in inputs.ravel()],
            "labels": None if y is None else [int(v) for v in y]}


def example(**features):
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def main(out):
    rng = np.random.default_rng(7)
    os.makedirs(os.path.join(out, "npy"), exist_ok=True)
    arrays = {}
    datasets = {}

    samples = {
        "uint8": rng.integers(0, 256, (3, 4)),
        "int8": rng.integers(-128, 128, (3, 4)),
        "int16": rng.integers(-32768, 32768, (3, 4)),
        "uint16": rng.integers(0, 65536, (3, 4)),
        "int32": rng.integers(-2**31, 2**31, (3, 4)),
        "int64": rng.integers(-2**40, 2**40, (3, 4)),
        "float16": rng.normal(size=(3, 4)) * 100,
        "float32": rng.normal(size=(3, 4)),
        "float64": rng.normal(size=(3, 4)) * 1e10,
        "bool": rng.integers(0, 2, (3, 4)),
    }
    for name, values in samples.items():
        a = values.astype(name)
        np.save(os.path.join(out, "npy", name + ".npy"), a)
        arrays["npy/" + name + ".npy"] = describe(a)

    f4 = samples["float32"].astype(np.float32)
    for version in [(2, 0), (3, 0)]:
        name = "npy/f4_v%d.npy" % version[0]
        with open(os.path.join(out, name), "wb") as f:
            np.lib.format.write_array(f, f4, version=version)
        arrays[name] = describe(f4)

    np.save(os.path.join(out, "npy", "big_endian.npy"), f4.astype(">f4"))
    np.save(os.path.join(out, "npy", "fortran.npy"), np.asfortranarray(f4))
    np.save(os.path.join(out, "npy", "object.npy"), np.array([1, "a", None], dtype=object),
            allow_pickle=True)

    images = rng.integers(0, 256, (6, 28, 28)).astype(np.uint8)
    labels = rng.integers(0, 10, 6).astype(np.int64)
    np.savez(os.path.join(out, "plain.npz"), x=images, y=labels)
    arrays["plain.npz:x"] = describe(images)
    arrays["plain.npz:y"] = describe(labels)
    datasets["plain.npz"] = dataset(images, labels, 1 / 255, [28, 28, 1])

    x = rng.normal(size=(5, 3))
    y = rng.integers(0, 3, 5).astype(np.uint8)
    mask = rng.integers(0, 2, 5).astype(bool)
    np.savez_compressed(os.path.join(out, "compressed.npz"), x=x, y=y, mask=mask)
    arrays["compressed.npz:x"] = describe(x)
    arrays["compressed.npz:y"] = describe(y)
    arrays["compressed.npz:mask"] = describe(mask)
    datasets["compressed.npz"] = dataset(x, y, 1.0, [3])

    fx = rng.normal(size=(4, 6)).astype(np.float32)
    fy = rng.integers(0, 10, 4)
    with tf.io.TFRecordWriter(os.path.join(out, "floats.tfrecord")) as w:
        for xi, yi in zip(fx, fy):
            w.write(example(x=tf.train.Feature(float_list=tf.train.FloatList(value=xi)),
                            y=tf.train.Feature(int64_list=tf.train.Int64List(value=[yi]))))
    datasets["floats.tfrecord"] = dataset(fx, fy, 1.0, [2, 3])

    ix = rng.integers(-1000, 1000, (3, 4))
    iy = rng.integers(0, 5, 3)
    with tf.io.TFRecordWriter(os.path.join(out, "ints.tfrecord")) as w:
        for xi, yi in zip(ix, iy):
            w.write(example(x=tf.train.Feature(int64_list=tf.train.Int64List(value=xi)),
                            y=tf.train.Feature(int64_list=tf.train.Int64List(value=[yi]))))
    datasets["ints.tfrecord"] = dataset(ix, iy, 0.5, [4])

    bx = rng.integers(0, 256, (5, 4, 4)).astype(np.uint8)
    by = rng.integers(0, 10, 5)
    for name, options in [("bytes.tfrecord", None), ("bytes.tfrecord.gz", "GZIP")]:
        with tf.io.TFRecordWriter(os.path.join(out, name), options=options) as w:
            for xi, yi in zip(bx, by):
                w.write(example(image=tf.train.Feature(bytes_list=tf.train.BytesList(value=[xi.tobytes()])),
                                label=tf.train.Feature(int64_list=tf.train.Int64List(value=[yi]))))
        datasets[name] = dataset(bx, by, 1 / 255, [4, 4, 1])

    # The records as TensorFlow itself parses them, to check the reader against tf.data too.
    parsed = tf.data.TFRecordDataset(os.path.join(out, "bytes.tfrecord.gz"), compression_type="GZIP")
    spec = {"image": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.int64)}
    tf_labels = [int(tf.io.parse_single_example(r, spec)["label"]) for r in parsed]
    assert tf_labels == [int(v) for v in by], (tf_labels, by)

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"arrays": arrays, "datasets": datasets}, f)


if __name__ == "__main__":
    main(sys.argv[1])

#!/usr/bin/env python3
"""Generated image data for the streaming benchmark (scripts/bench-streaming.sh).

Usage: make_stream_data.py FASHION_NPZ OUT_DIR --count N [--shards S] [--inputs npz,png,tfrecord]

Example i is Fashion-MNIST training image i % 60000 rolled right by (i // 60000) pixels (so that every
example differs), with that image's label. Writes the same N examples in each of the --inputs forms
(default all three):

  OUT_DIR/data.npz                  np.savez (stored, uncompressed): x uint8 [N, 28, 28, 1], y int64 [N]
  OUT_DIR/png/CLASS/IIIIIII.png     one grayscale PNG per example, class folders 0..9
  OUT_DIR/tfrecord/part-K.tfrecord  S shards of tf.train.Example{image: PNG bytes, label: int64}
  OUT_DIR/done-INPUT                written last for each form (a form already done is not written again)

The PNGs are encoded here with zlib (a minimal, valid PNG: IHDR, one IDAT, IEND), which is much faster
than one TensorFlow call per image; TensorFlow's DecodePng reads them in wclust.
"""
import argparse
import os
import struct
import sys
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def png_gray(pixels):
    """A grayscale 8-bit PNG of a [H, W] uint8 array."""
    h, w = pixels.shape

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))  # filter type 0 per row
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fashion_npz")
    p.add_argument("out_dir")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--shards", type=int, default=16)
    p.add_argument("--inputs", default="npz,png,tfrecord")
    a = p.parse_args()
    out = a.out_dir
    todo = [k for k in a.inputs.split(",") if not os.path.exists(os.path.join(out, "done-" + k))]
    unknown = set(todo) - {"npz", "png", "tfrecord"}
    if unknown:
        p.error(f"unknown --inputs {sorted(unknown)} (npz, png, tfrecord)")
    if not todo:
        return
    os.makedirs(out, exist_ok=True)

    with np.load(a.fashion_npz) as f:
        base_x = f["x"][..., 0]
        base_y = f["y"]
    n = a.count
    x = np.empty((n, 28, 28, 1), np.uint8)
    y = np.empty((n,), np.int64)
    if "png" in todo:
        for c in range(10):
            os.makedirs(os.path.join(out, "png", str(c)), exist_ok=True)
    writers = []
    if "tfrecord" in todo:
        import tensorflow as tf  # only for the TFRecord writer
        os.makedirs(os.path.join(out, "tfrecord"), exist_ok=True)
        writers = [tf.io.TFRecordWriter(os.path.join(out, "tfrecord", f"part-{k:03d}.tfrecord"))
                   for k in range(a.shards)]
    for i in range(n):
        j = i % len(base_y)
        img = np.roll(base_x[j], i // len(base_y), axis=1)
        x[i, ..., 0] = img
        y[i] = base_y[j]
        if "png" not in todo and not writers:
            continue
        png = png_gray(img)
        if "png" in todo:
            with open(os.path.join(out, "png", str(int(y[i])), f"{i:07d}.png"), "wb") as f:
                f.write(png)
        if writers:
            writers[i * a.shards // n].write(tf.train.Example(features=tf.train.Features(feature={
                "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[png])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(y[i])])),
            })).SerializeToString())
        if (i + 1) % 100000 == 0:
            print(f"generated {i + 1} of {n}", file=sys.stderr, flush=True)
    for w in writers:
        w.close()
    if "npz" in todo:
        np.savez(os.path.join(out, "data.npz"), x=x, y=y)
    for k in todo:
        with open(os.path.join(out, "done-" + k), "w") as f:
            f.write(f"{n}\n")


if __name__ == "__main__":
    sys.exit(main())

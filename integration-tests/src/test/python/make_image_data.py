#!/usr/bin/env python3
"""Image-file copies of Fashion-MNIST for wclust's image-data tests, written by TensorFlow.

Usage: make_image_data.py FASHION_DIR OUT_DIR [--count N]

Reads FASHION_DIR/train.npz (made by make_fashion_mnist.py: x uint8 [N, 28, 28, 1], y int64 [N]) and
writes, for its first N examples (default 6000):

  OUT_DIR/png/CLASS/IIIII.png     one PNG per image (tf.io.encode_png) in one folder per class label
                                  (folders "0".."9"), IIIII = the image's index in train.npz
  OUT_DIR/sorted.npz              the same images and labels in the order in which a reader lists the
                                  folder (class, then file name): the .npz twin of the PNG folder
  OUT_DIR/png.tfrecord            the same order, tf.train.Example{image: PNG bytes, label: int64}
  OUT_DIR/shards/part-K.tfrecord  the same records split into 3 shards
  OUT_DIR/unlabelled/IIIII.png    the first 500 images, loose (no class folders)
  OUT_DIR/bigger/CLASS/IIIII.png  the first 200 images enlarged 2x by repeating each pixel 2x2
  OUT_DIR/bigger.npz              those 200 at 28x28 (ResizeArea of the 2x copy gives them back exactly)
  OUT_DIR/rgb.tfrecord            the first 200 as 3-channel JPEG-free PNGs (grey repeated), label int64
  OUT_DIR/done                    written last; its presence means the rest is complete
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def example(png, label):
    return tf.train.Example(features=tf.train.Features(feature={
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[png])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
    })).SerializeToString()


def write_png(path, pixels):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = tf.io.encode_png(pixels).numpy()
    with open(path, "wb") as f:
        f.write(data)
    return data


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fashion_dir")
    p.add_argument("out_dir")
    p.add_argument("--count", type=int, default=6000)
    a = p.parse_args()
    out = a.out_dir
    if os.path.exists(os.path.join(out, "done")):
        return
    with np.load(os.path.join(a.fashion_dir, "train.npz")) as f:
        x = f["x"][: a.count]
        y = f["y"][: a.count]
    order = sorted(range(len(y)), key=lambda i: (str(int(y[i])), f"{i:05d}.png"))
    pngs = {}
    for i in range(len(y)):
        pngs[i] = write_png(os.path.join(out, "png", str(int(y[i])), f"{i:05d}.png"), x[i])
    np.savez(os.path.join(out, "sorted.npz"), x=x[order], y=y[order])
    with tf.io.TFRecordWriter(os.path.join(out, "png.tfrecord")) as w:
        for i in order:
            w.write(example(pngs[i], y[i]))
    os.makedirs(os.path.join(out, "shards"), exist_ok=True)
    for k, part in enumerate(np.array_split(np.array(order), 3)):
        with tf.io.TFRecordWriter(os.path.join(out, "shards", f"part-{k}.tfrecord")) as w:
            for i in part:
                w.write(example(pngs[int(i)], y[int(i)]))
    for i in range(500):
        write_png(os.path.join(out, "unlabelled", f"{i:05d}.png"), x[i])
    small = range(200)
    for i in small:
        write_png(os.path.join(out, "bigger", str(int(y[i])), f"{i:05d}.png"),
                  np.repeat(np.repeat(x[i], 2, axis=0), 2, axis=1))
    bigger_order = sorted(small, key=lambda i: (str(int(y[i])), f"{i:05d}.png"))
    np.savez(os.path.join(out, "bigger.npz"), x=x[bigger_order], y=y[bigger_order])
    with tf.io.TFRecordWriter(os.path.join(out, "rgb.tfrecord")) as w:
        for i in small:
            w.write(example(tf.io.encode_png(np.repeat(x[i], 3, axis=2)).numpy(), y[i]))
    with open(os.path.join(out, "done"), "w") as f:
        f.write("ok\n")


if __name__ == "__main__":
    sys.exit(main())

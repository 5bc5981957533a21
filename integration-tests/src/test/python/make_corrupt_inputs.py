#!/usr/bin/env python3
"""A tiny model in every format wclust reads, plus matching data files, for the corrupt-input suite.

Usage: make_corrupt_inputs.py OUTDIR

Writes into OUTDIR (each small, so that hundreds of corrupted copies run in a few minutes):
  tiny.keras, tiny.h5       a Keras 3 CNN (8x8x1 -> Conv2D 4 -> BatchNorm -> ReLU -> Dense 3), seeded
  tiny_savedmodel/          the same model, model.export() (saved_model.pb, variables/variables.*)
  data.npz                  x float32 (32, 8, 8, 1), y int64 (32,): fine-tuning data for the model
  x.npy                     the same x alone (unlabelled: used with --distill)
  data.tfrecord             the same examples as tf.train.Example (x float_list, y int64_list)
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from make_fixtures import randomise_batch_norm  # noqa: E402  (same directory)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = os.path.abspath(argv[1])
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(16)
    inp = keras.Input((8, 8, 1), name="image")
    x = layers.Conv2D(4, 3, padding="same")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Flatten()(x)
    model = keras.Model(inp, layers.Dense(3)(x), name="tiny")
    randomise_batch_norm(model)
    model.save(os.path.join(out, "tiny.keras"))
    model.save(os.path.join(out, "tiny.h5"))
    model.export(os.path.join(out, "tiny_savedmodel"), verbose=False)

    rng = np.random.default_rng(16)
    xs = rng.random((32, 8, 8, 1), dtype=np.float32)
    ys = rng.integers(0, 3, size=32).astype(np.int64)
    np.savez(os.path.join(out, "data.npz"), x=xs, y=ys)
    np.save(os.path.join(out, "x.npy"), xs)
    with tf.io.TFRecordWriter(os.path.join(out, "data.tfrecord")) as w:
        for xi, yi in zip(xs, ys):
            w.write(tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=xi.reshape(-1))),
                "y": tf.train.Feature(int64_list=tf.train.Int64List(value=[yi])),
            })).SerializeToString())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

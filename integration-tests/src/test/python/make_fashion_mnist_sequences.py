#!/usr/bin/env python3
"""A real sequence task for fine-tuning sequence models: Fashion-MNIST images read as sequences of
28 rows (28 steps of 28 pixels), and a small Keras 3 transformer and RNN trained on it.

Usage: make_fashion_mnist_sequences.py OUT_DIR [--data-dir DIR] [--epochs N] [--rnn-epochs N] [--force]

Reads Fashion-MNIST as make_fashion_mnist.py does (the Debian package's IDX files) and writes:

  OUT_DIR/train.npz           x uint8 [60000, 28, 28] (rows), y int64 [60000]
  OUT_DIR/test.npz            x uint8 [10000, 28, 28], y int64 [10000]
  OUT_DIR/transformer/        the trained transformer, model.export()
  OUT_DIR/rnn.keras           the trained RNN, a Keras file
  OUT_DIR/manifest.json       Keras test accuracy, input scale, epochs, seed, training time

Model: Dense(64) per row + learned position embeddings, one encoder block (MultiHeadAttention with
4 heads of 16, LayerNormalization, 64->128->64 feed-forward, LayerNormalization),
GlobalAveragePooling1D, Dense(10) logits. RNN: LSTM(32), GRU(32), Bidirectional(LSTM(16)) returning
sequences, SimpleRNN(32), Dense(10) logits. Inputs are pixels / 255 (wclust --scale 1/255). Adam,
batch 128, seeded with op determinism.

Does nothing when OUT_DIR/manifest.json exists (it is written last), unless --force.
"""
import argparse
import json
import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from make_fashion_mnist import DEFAULT_DATA_DIR, load_split  # noqa: E402

SEED = 20241117
EPOCHS = 3
RNN_EPOCHS = 2
SCALE = 1.0 / 255.0


def build_transformer(keras):
    from keras import layers

    class PositionEmbedding(layers.Layer):
        def build(self, input_shape):
            self.table = self.add_weight(shape=tuple(input_shape[1:]), initializer="zeros", name="embeddings")

        def call(self, x):
            return x + self.table

    inp = keras.Input((28, 28), name="rows")
    x = layers.Dense(64, name="row_projection")(inp)
    x = PositionEmbedding(name="position_embedding")(x)
    attention = layers.MultiHeadAttention(4, 16, name="attention")(x, x)
    x = layers.LayerNormalization(name="norm1")(layers.Add()([x, attention]))
    h = layers.Dense(128, activation="relu", name="ffn1")(x)
    h = layers.Dense(64, name="ffn2")(h)
    x = layers.LayerNormalization(name="norm2")(layers.Add()([x, h]))
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(inp, layers.Dense(10, name="head")(x), name="rows_transformer")


def build_rnn(keras):
    from keras import layers

    inp = keras.Input((28, 28), name="rows")
    x = layers.LSTM(32, return_sequences=True, name="lstm")(inp)
    x = layers.GRU(32, return_sequences=True, name="gru")(x)
    x = layers.Bidirectional(layers.LSTM(16, return_sequences=True), name="bidirectional")(x)
    x = layers.SimpleRNN(32, name="simple_rnn")(x)
    return keras.Model(inp, layers.Dense(10, name="head")(x), name="rows_rnn")


def train(keras, model, x_train, y_train, x_test, y_test, epochs):
    """Adam, batch 128; returns (test accuracy, training seconds)."""
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.time()
    model.fit(x_train * SCALE, y_train, batch_size=128, epochs=epochs, shuffle=True, verbose=2)
    seconds = time.time() - start
    _, accuracy = model.evaluate(x_test * SCALE, y_test, batch_size=1000, verbose=0)
    return float(accuracy), seconds


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--data-dir", default=os.environ.get("FASHION_MNIST_DIR", DEFAULT_DATA_DIR))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--rnn-epochs", type=int, default=RNN_EPOCHS)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv[1:])
    out = os.path.abspath(args.out_dir)
    if os.path.exists(os.path.join(out, "manifest.json")) and not args.force:
        return 0
    if not os.path.isdir(args.data_dir):
        print(f"fashion-mnist: {args.data_dir} not found; run scripts/setup-data.sh", file=sys.stderr)
        return 2
    os.makedirs(out, exist_ok=True)
    x_train, y_train = load_split(args.data_dir, "train", 60000)
    x_test, y_test = load_split(args.data_dir, "t10k", 10000)
    x_train, x_test = x_train.reshape(-1, 28, 28), x_test.reshape(-1, 28, 28)
    np.savez_compressed(os.path.join(out, "train.npz"), x=x_train, y=y_train)
    np.savez_compressed(os.path.join(out, "test.npz"), x=x_test, y=y_test)

    import keras
    import tensorflow as tf
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    model = build_transformer(keras)
    accuracy, seconds = train(keras, model, x_train, y_train, x_test, y_test, args.epochs)
    path = os.path.join(out, "transformer")
    shutil.rmtree(path, ignore_errors=True)
    model.export(path, verbose=False)
    print(f"transformer: test accuracy {accuracy:.4f} after {args.epochs} epochs ({seconds:.0f} s)")

    keras.utils.set_random_seed(SEED)
    rnn = build_rnn(keras)
    rnn_accuracy, rnn_seconds = train(keras, rnn, x_train, y_train, x_test, y_test, args.rnn_epochs)
    rnn.save(os.path.join(out, "rnn.keras"))
    print(f"rnn: test accuracy {rnn_accuracy:.4f} after {args.rnn_epochs} epochs ({rnn_seconds:.0f} s)")

    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"transformer_accuracy": accuracy, "input_scale": SCALE, "epochs": args.epochs,
                   "seed": SEED, "training_seconds": round(seconds, 1), "rnn_accuracy": rnn_accuracy,
                   "rnn_epochs": args.rnn_epochs, "rnn_training_seconds": round(rnn_seconds, 1)}, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

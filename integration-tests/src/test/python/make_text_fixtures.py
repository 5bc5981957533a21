#!/usr/bin/env python3
"""Build the sequence-model fixtures of issue #17 (embeddings, attention, transposed 1-D convs, RNNs) with
real Keras 3, random (seeded) weights, as SavedModels.

Usage:
    python make_text_fixtures.py OUTDIR

Writes one SavedModel directory per fixture under OUTDIR (and OUTDIR/transformer.keras and
OUTDIR/rnn_text.keras, the same models as Keras files), OUTDIR/tokens.npz (x: 96 random token
sequences, int32; y: random labels of 10 classes) and OUTDIR/manifest.json, a list of
{"name", "path", "input_shape", "input_dtype", "batch", "vocab", "tfmot_weights", "tfmot_params"}
objects ("batch" is null, or the static batch size of the signature).
"tfmot_weights" lists the weights tfmot's clustering registry would cluster in the Keras model
(Embedding embeddings, Dense/EinsumDense/MultiHeadAttention kernels, conv kernels), with their
shapes; "tfmot_params" is their total size.

Fixtures:
  transformer        Embedding 1000x64, MultiHeadAttention (4 heads), LayerNormalization,
                     64->128->64 feed-forward, Dense head; model.export()
  conv1d_transpose   Conv1D, Conv1DTranspose, Dense; model.export()
  bert_hub           a BERT-style encoder (token + position embeddings, 2 blocks) saved with
                     tf.saved_model.save as a hub-style SavedModel (input "input_ids")
  rnn_text           Embedding, LSTM, GRU, Bidirectional(LSTM), SimpleRNN, Dense (While loops);
                     model.export() with a static batch of 2
"""
import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

SEQ_LEN = 16
# fixtures also saved as .keras files (manifest entries "<name>.keras")
KERAS_FILES = ("transformer", "rnn_text")
VOCAB = 1000


def encoder_block(x, dim, heads, ffn, name):
    attn = layers.MultiHeadAttention(heads, dim // heads, name=f"{name}_attention")(x, x)
    x = layers.LayerNormalization(name=f"{name}_norm1")(layers.Add()([x, attn]))
    h = layers.Dense(ffn, activation="relu", name=f"{name}_ffn1")(x)
    h = layers.Dense(dim, name=f"{name}_ffn2")(h)
    return layers.LayerNormalization(name=f"{name}_norm2")(layers.Add()([x, h]))


def transformer():
    inp = keras.Input((SEQ_LEN,), dtype="int32", name="tokens")
    x = layers.Embedding(VOCAB, 64, name="embedding")(inp)
    x = encoder_block(x, 64, 4, 128, "block")
    x = layers.GlobalAveragePooling1D()(x)
    out = layers.Dense(10, name="head")(x)
    return keras.Model(inp, out, name="transformer")


class PositionEmbedding(layers.Layer):
    """Learned position embeddings added to the token embeddings (BERT). Gathered from the tf.Variable
    itself, as TF1 hub modules do: a ResourceGather in the graph."""

    def __init__(self, length, dim, **kwargs):
        super().__init__(**kwargs)
        self.table = self.add_weight(shape=(length, dim), initializer="random_normal", name="embeddings")

    def call(self, x):
        positions = tf.range(tf.shape(x)[1])
        return x + tf.gather(self.table.value, positions)[tf.newaxis]


class EinsumProjection(layers.Layer):
    """A projection written with tf.einsum, as hand-written hub encoders have it: an Einsum op whose
    second operand is the kernel (Keras' EinsumDense turns into Reshape + MatMul instead)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                      name="kernel")

    def call(self, x):
        return tf.einsum("btd,de->bte", x, self.kernel.value)


def bert():
    inp = keras.Input((SEQ_LEN,), dtype="int32", name="input_ids")
    x = layers.Embedding(VOCAB, 32, name="token_embedding")(inp)
    x = PositionEmbedding(SEQ_LEN, 32, name="position_embedding")(x)
    x = layers.LayerNormalization(name="embedding_norm")(x)
    for i in range(2):
        x = encoder_block(x, 32, 4, 64, f"encoder_{i}")
    x = EinsumProjection(32, name="projection")(x)
    pooled = layers.Dense(32, activation="tanh", name="pooler")(x[:, 0, :])
    return keras.Model(inp, pooled, name="bert")


def conv1d_transpose():
    inp = keras.Input((SEQ_LEN, 8), name="signal")
    x = layers.Conv1D(16, 3, padding="same", activation="relu", name="conv1d")(inp)
    x = layers.Conv1DTranspose(32, 3, strides=2, padding="same", activation="relu", name="conv1d_transpose")(x)
    x = layers.Conv1DTranspose(16, 5, padding="valid", name="conv1d_transpose_1")(x)
    x = layers.Flatten()(x)
    out = layers.Dense(10, name="head")(x)
    return keras.Model(inp, out, name="conv1d_transpose")


def rnn_text():
    inp = keras.Input((SEQ_LEN,), dtype="int32", name="tokens")
    x = layers.Embedding(VOCAB, 32, name="embedding")(inp)
    x = layers.LSTM(32, return_sequences=True, name="lstm")(x)
    x = layers.GRU(32, return_sequences=True, name="gru")(x)
    x = layers.Bidirectional(layers.LSTM(16, return_sequences=True), name="bidirectional")(x)
    x = layers.SimpleRNN(32, name="simple_rnn")(x)
    out = layers.Dense(10, name="head")(x)
    return keras.Model(inp, out, name="rnn_text")


def tfmot_weights(model):
    """The weights tfmot's clustering registry clusters, found by Keras layer class (custom layers
    such as PositionEmbedding and EinsumProjection are not in its registry)."""
    found = []
    seen = set()
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, (layers.LSTM, layers.GRU, layers.SimpleRNN)):
            wanted = [layer.cell.kernel, layer.cell.recurrent_kernel]
        elif isinstance(layer, layers.Embedding):
            wanted = [layer.embeddings]
        elif isinstance(layer, (layers.Dense, layers.EinsumDense)) or "Conv" in type(layer).__name__:
            wanted = [layer.kernel]
        else:
            continue
        found += [{"name": v.path, "shape": list(v.shape)} for v in wanted if id(v) not in seen]
        seen.update(id(v) for v in wanted)
    return found


def save_hub_style(model, path):
    """tf.saved_model.save with a serving_default signature over int32 input_ids (as TF Hub modules)."""
    @tf.function(input_signature=[tf.TensorSpec([None, SEQ_LEN], tf.int32, name="input_ids")])
    def serve(input_ids):
        return {"pooled_output": model(input_ids)}

    model._tf_variables_for_saving = [v.value for v in model.variables]
    tf.saved_model.save(model, path, signatures={"serving_default": serve})


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = os.path.abspath(argv[1])
    os.makedirs(outdir, exist_ok=True)
    keras.utils.set_random_seed(1234)
    fixtures = [
        ("transformer", transformer(), "export", [SEQ_LEN], "int32"),
        ("conv1d_transpose", conv1d_transpose(), "export", [SEQ_LEN, 8], "float32"),
        ("bert_hub", bert(), "tf_saved_model_save", [SEQ_LEN], "int32"),
        ("rnn_text", rnn_text(), "export_batch_2", [SEQ_LEN], "int32"),
    ]
    manifest = []
    for name, model, saver, shape, dtype in fixtures:
        path = os.path.join(outdir, name)
        shutil.rmtree(path, ignore_errors=True)
        batch = None
        if saver == "export":
            model.export(path, verbose=False)
        elif saver == "export_batch_2":
            # A static batch: the TFLite converter cannot lower the TensorList ops of Keras 3's RNN
            # loops with a dynamic batch size (it fails on the unclustered model too).
            batch = 2
            model.export(path, verbose=False, input_signature=[tf.TensorSpec([batch, *shape], dtype, name="tokens")])
        else:
            save_hub_style(model, path)
        weights = tfmot_weights(model)
        entry = {
            "name": name,
            "path": name,
            "input_shape": shape,
            "input_dtype": dtype,
            "batch": batch,
            "vocab": VOCAB,
            "tfmot_weights": weights,
            "tfmot_params": int(sum(np.prod(w["shape"]) for w in weights)),
            "keras_params": int(model.count_params()),
        }
        manifest.append(entry)
        if name in KERAS_FILES:
            # the same model as a Keras file, read by wclust's layer builder (any batch size)
            model.save(os.path.join(outdir, name + ".keras"))
            manifest.append({**entry, "name": name + ".keras", "path": name + ".keras", "batch": None})
        print(f"{name}: {saver} ok, {model.count_params()} params, {manifest[-1]['tfmot_params']} for tfmot")
    # token ids and class labels to fine-tune the token-input models on (a smoke test of int32 inputs)
    rng = np.random.default_rng(17)
    np.savez(os.path.join(outdir, "tokens.npz"), x=rng.integers(0, VOCAB, (96, SEQ_LEN)).astype("int32"),
             y=rng.integers(0, 10, 96).astype("int32"))
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

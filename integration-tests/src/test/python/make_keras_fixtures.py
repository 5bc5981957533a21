#!/usr/bin/env python3
"""Build Keras 3 models covering every layer wclust reads, save each as .keras and .h5, and record
what Keras computes for them.

Usage:
    python make_keras_fixtures.py OUTDIR

Writes, for each fixture NAME: OUTDIR/NAME.keras, OUTDIR/NAME.h5 and OUTDIR/NAME.json with
  {"inputs":  {"<input layer name>": {"shape", "dtype", "data"}},
   "outputs": {"output_<i>": {"shape", "dtype", "data"}}}      # model.predict, inference mode
and for the BatchNorm training fixture also
   "training_outputs": {...}                                   # model(x, training=True)
   "moving_after_training": {"<layer>/moving_mean": ..., ...}  # after that one training call
plus OUTDIR/manifest.json listing the fixtures and the layer classes each one uses, and
OUTDIR/unsupported.keras (a UnitNormalization, which wclust does not build) and
OUTDIR/unsupported_op.keras (a keras.ops multiplication in a functional model), and
OUTDIR/bn_train_data.npz (x, y: 64 random examples to fine-tune bn_train on).
Weights are random (seeded); BatchNorm statistics and PReLU slopes are randomised so that no layer
is an identity.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

ACTIVATIONS = ["linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "softmax", "swish",
               "silu", "gelu", "elu"]


def convs():
    inp = keras.Input((12, 12, 3), name="image")
    x = layers.Rescaling(0.5, offset=-0.1)(inp)
    a = layers.Conv2D(6, 3, strides=2, padding="same", activation="relu")(x)
    b = layers.Conv2D(6, 3, dilation_rate=2, padding="valid", activation="tanh")(x)
    b = layers.Cropping2D(((1, 1), (1, 1)))(b)
    c = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu6")(x)
    d = layers.SeparableConv2D(6, 3, strides=2, padding="same")(x)
    d = layers.BatchNormalization()(d)
    e = layers.DepthwiseConv2D(3, dilation_rate=2, padding="same")(x)
    m = layers.Add()([a, b, c, d])
    m = layers.ZeroPadding2D(((1, 0), (0, 1)))(m)
    m = layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="sigmoid")(m)
    t = layers.Conv2DTranspose(4, 2, strides=1, padding="valid")(m)
    t2 = layers.Conv2DTranspose(3, 3, strides=2, padding="valid", use_bias=False)(a)
    p1 = layers.MaxPooling2D(2)(m)
    p2 = layers.AveragePooling2D(3, strides=2, padding="same")(m)
    u = layers.UpSampling2D(2)(p1)
    s = layers.SpatialDropout2D(0.3)(p2)
    g1 = layers.GlobalAveragePooling2D(keepdims=True)(s)
    g2 = layers.GlobalMaxPooling2D()(u)
    h = layers.Concatenate()([layers.Flatten()(g1), g2, layers.GlobalAveragePooling2D()(t),
                              layers.GlobalAveragePooling2D()(e), layers.GlobalMaxPooling2D()(t2)])
    out = layers.Dense(5)(layers.Dropout(0.5)(h))  # logits: no softmax hiding differences
    return keras.Model(inp, out, name="convs")


def activations():
    inp = keras.Input((10,), name="features")
    x = layers.Dense(16)(inp)
    branches = [layers.Activation(a, name="act_" + a)(x) for a in ACTIVATIONS]
    branches += [
        layers.ReLU()(x),
        layers.ReLU(max_value=2.0)(x),
        layers.ReLU(max_value=6.0)(x),
        layers.ReLU(negative_slope=0.1)(x),
        layers.ReLU(threshold=0.5)(x),
        layers.ReLU(max_value=6.0, negative_slope=0.2, threshold=0.3)(x),
        layers.LeakyReLU(negative_slope=0.2)(x),
        layers.PReLU()(x),
        layers.Softmax()(x),
        layers.Dense(4, activation="gelu")(x),
    ]
    out = layers.Concatenate()(branches)
    return keras.Model(inp, out, name="activations")


def merge_multi_io():
    left = keras.Input((6,), name="left")
    right = keras.Input((6,), name="right")
    shared = layers.Dense(6, activation="relu", name="shared")
    l, r = shared(left), shared(right)  # one layer, two calls
    inner_seq = keras.Sequential([keras.Input((6,)), layers.Dense(6), layers.Dense(6, activation="tanh")],
                                 name="inner_seq")  # nested Sequential
    i = keras.Input((6,))
    inner_fn = keras.Model(i, layers.Dense(6)(i), name="inner_fn")
    ri, li = inner_seq(r), inner_fn(l)
    cat = layers.Concatenate()([
        layers.Add()([l, ri]),
        layers.Subtract()([l, ri]),
        layers.Multiply()([li, r]),
        layers.Average()([l, r, li]),
        layers.Maximum()([l, ri]),
    ])
    mx = layers.Maximum()([li, ri])
    return keras.Model([left, right], [layers.Dense(3, name="head_a")(cat), layers.Dense(2, name="head_b")(mx)],
                       name="merge_multi_io")


def sequence():
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    e = layers.Embedding(20, 6)(tokens)
    c = layers.Conv1D(8, 3, padding="same", activation="relu")(e)
    c2 = layers.Conv1D(8, 3, strides=2, padding="valid")(c)
    c3 = layers.Conv1D(4, 2, dilation_rate=2)(c)
    p = layers.MaxPooling1D(2)(c)
    q = layers.AveragePooling1D(3, strides=2, padding="same")(c)
    r = layers.Reshape((8, 6))(p)
    pm = layers.Permute((2, 1))(r)
    d = layers.Dense(5)(pm)
    out = layers.Concatenate()([
        layers.Flatten()(d),
        layers.GlobalAveragePooling1D()(q),
        layers.Flatten()(layers.GlobalAveragePooling1D(keepdims=True)(c3)),
        layers.GlobalAveragePooling1D()(c2),
    ])
    return keras.Model(tokens, out, name="sequence")


def bn_train():
    return keras.Sequential([
        keras.Input((6, 6, 2), name="image"),
        layers.Conv2D(4, 3, padding="same"),
        layers.BatchNormalization(momentum=0.9),
        layers.ReLU(),
        layers.Flatten(),
        layers.Dense(8),
        layers.BatchNormalization(epsilon=0.01),
        layers.Dense(3),
    ], name="bn_train")


def dilated():
    """Dilated convolutions only (no BatchNorm, no dropout): training mode computes what predict does."""
    inp = keras.Input((11, 10, 3), name="image")
    x = layers.Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu")(inp)
    x = layers.DepthwiseConv2D(3, dilation_rate=(2, 3), padding="valid")(x)
    x = layers.SeparableConv2D(4, 3, dilation_rate=2, padding="same")(x)
    t = layers.Reshape((7 * 4, 4))(x)
    t = layers.Conv1D(3, 3, dilation_rate=3, padding="same")(t)
    return keras.Model(inp, [layers.Flatten()(x), layers.Flatten()(t)], name="dilated")


def dropouts():
    inp = keras.Input((8, 8, 64), name="image")
    return keras.Model(inp, [layers.SpatialDropout2D(0.5)(inp), layers.Dropout(0.3)(inp)], name="dropouts")


def attention():
    """Transformer layers: Embedding, MultiHeadAttention (self-attention, and with a separate key),
    LayerNormalization, EinsumDense, Conv1DTranspose, GlobalAveragePooling1D."""
    tokens = keras.Input((7,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 8)(tokens)
    a = layers.MultiHeadAttention(2, 4)(x, x)
    x = layers.LayerNormalization()(layers.Add()([x, a]))
    kv = layers.Dense(8)(x)
    c = layers.MultiHeadAttention(4, 3, value_dim=5, use_bias=False)(x, kv, x)  # query, value, key
    c = layers.LayerNormalization(epsilon=1e-5, center=False)(c)
    e = layers.EinsumDense("abc,cd->abd", output_shape=(None, 6), bias_axes="d", activation="relu")(c)
    e2 = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")(x)
    e2 = layers.Reshape((7, 6))(e2)
    e3 = layers.EinsumDense("ab,bc->ac", output_shape=4)(layers.GlobalAveragePooling1D()(e))
    t = layers.Conv1DTranspose(3, 3, strides=2, padding="same", activation="tanh")(e)
    t2 = layers.Conv1DTranspose(2, 4, padding="valid", use_bias=False)(e2)
    out = layers.Concatenate()([layers.Flatten()(t), layers.Flatten()(t2), e3,
                                layers.GlobalAveragePooling1D()(layers.LayerNormalization(scale=False)(e2))])
    return keras.Model(tokens, out, name="attention")


def recurrent():
    """Recurrent layers: LSTM, GRU (reset_after both ways), SimpleRNN, with return_sequences and
    go_backwards, and Bidirectional (concat and sum)."""
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 5)(tokens)
    s = layers.LSTM(4, return_sequences=True)(x)
    g = layers.GRU(4, return_sequences=True, go_backwards=True)(s)
    g2 = layers.GRU(3, reset_after=False)(s)
    g3 = layers.GRU(3, reset_after=False, return_sequences=True, activation="relu", use_bias=False)(x)
    r = layers.SimpleRNN(3, return_sequences=True, go_backwards=True)(g)
    r2 = layers.SimpleRNN(2, activation="relu")(x)
    l2 = layers.LSTM(3, go_backwards=True, recurrent_activation="hard_sigmoid")(x)
    b = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(r)
    b2 = layers.Bidirectional(layers.GRU(2), merge_mode="sum")(g3)
    out = layers.Concatenate()([layers.Flatten()(b), b2, g2, r2, l2])
    return keras.Model(tokens, out, name="recurrent")


FIXTURES = [convs, activations, merge_multi_io, sequence, bn_train, dilated, dropouts, attention, recurrent]


def randomise(model, rng):
    """Random BatchNorm statistics/affine parameters and PReLU slopes, recursively."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            randomise(layer, rng)
        elif isinstance(layer, layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.beta.assign((rng.normal(size=n) * 0.1).astype("float32"))
            layer.moving_mean.assign((rng.normal(size=n) * 0.1).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
        elif isinstance(layer, layers.Embedding):
            layer.embeddings.assign(rng.normal(size=layer.embeddings.shape).astype("float32"))
        elif isinstance(layer, layers.LayerNormalization):
            for v in (layer.gamma, layer.beta):
                if v is not None:
                    v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32") if v is layer.gamma
                             else (rng.normal(size=v.shape) * 0.1).astype("float32"))
        elif isinstance(layer, (layers.MultiHeadAttention, layers.EinsumDense)):
            for v in layer.weights:
                if len(v.shape) < 3 and "bias" in v.path:
                    v.assign((rng.normal(size=v.shape) * 0.1).astype("float32"))
        elif isinstance(layer, layers.PReLU):
            layer.alpha.assign(rng.uniform(0.05, 0.5, layer.alpha.shape).astype("float32"))


def random_inputs(model, rng, batch=3):
    out = {}
    for t in model.inputs:
        shape = (batch,) + tuple(t.shape[1:])
        name = t.name if not hasattr(t, "_keras_history") else t._keras_history.operation.name
        if "int" in str(t.dtype):
            out[name] = rng.integers(0, 20, shape).astype("int32")
        else:
            out[name] = (rng.normal(size=shape) * 3).astype("float32")
    return out


def tensor_json(a):
    a = np.asarray(a)
    return {"shape": list(a.shape), "dtype": str(a.dtype), "data": a.reshape(-1).tolist()}


def outputs_json(outputs):
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {f"output_{i}": tensor_json(np.asarray(o)) for i, o in enumerate(outputs)}


def layer_classes(model):
    classes = set()
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            classes |= layer_classes(layer) | {type(layer).__name__}
        else:
            classes.add(type(layer).__name__)
    return classes


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = os.path.abspath(argv[1])
    os.makedirs(outdir, exist_ok=True)
    keras.utils.set_random_seed(1234)
    rng = np.random.default_rng(1234)
    manifest = []
    for make in FIXTURES:
        model = make()
        randomise(model, rng)
        name = model.name
        inputs = random_inputs(model, rng)
        feed = [inputs[k] for k in inputs] if len(inputs) > 1 else next(iter(inputs.values()))
        record = {"inputs": {k: tensor_json(v) for k, v in inputs.items()},
                  "outputs": outputs_json(model.predict(feed, verbose=0))}
        model.save(os.path.join(outdir, name + ".keras"))
        model.save(os.path.join(outdir, name + ".h5"))
        if name == "bn_train":
            # one training-mode call: batch statistics, and the moving statistics updated once
            record["training_outputs"] = outputs_json(model(feed, training=True))
            record["moving_after_training"] = {
                f"{l.name}/{v}": tensor_json(getattr(l, v).numpy())
                for l in model.layers if isinstance(l, layers.BatchNormalization)
                for v in ("moving_mean", "moving_variance")}
        with open(os.path.join(outdir, name + ".json"), "w") as f:
            json.dump(record, f)
        manifest.append({"name": name, "layers": sorted(layer_classes(model) | {"InputLayer"}),
                         "inputs": list(inputs), "outputs": len(record["outputs"])})
        print(f"{name}: {len(model.layers)} layers, outputs {list(record['outputs'])}")
    # training data for fine-tuning bn_train (3 classes)
    data_rng = np.random.default_rng(99)
    np.savez(os.path.join(outdir, "bn_train_data.npz"),
             x=data_rng.normal(size=(64, 6, 6, 2)).astype("float32"), y=data_rng.integers(0, 3, 64).astype("int32"))
    # a layer wclust does not build: loading must fail naming it
    inp = keras.Input((4,), name="features")
    unsupported = keras.Model(inp, layers.Dense(2)(layers.UnitNormalization()(inp)), name="unsupported")
    unsupported.save(os.path.join(outdir, "unsupported.keras"))
    # keras.ops called in a functional model: Keras 3 records an operation named like a layer
    inp = keras.Input((4,), name="features")
    dense = layers.Dense(3)(inp)
    keras.Model(inp, dense * 2.0, name="unsupported_op").save(os.path.join(outdir, "unsupported_op.keras"))
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

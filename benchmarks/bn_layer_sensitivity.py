#!/usr/bin/env python3
"""Where post-training clustering loses accuracy on the BatchNorm-heavy fixture, by layer type.

Usage: bn_layer_sensitivity.py FIXTURE_DIR [-k K] [--rows ROW,...]

FIXTURE_DIR is what integration-tests/src/test/python/make_bn_mobilenet.py writes (MobileNetV2 0.35 on
Fashion-MNIST: model/, test.npz, calibration.npz). The Keras network is rebuilt by that script's
build_model and given the SavedModel's weights. Every kernel followed by BatchNorm is clustered as
wclust's default clusters it, folded: the kernel times its BatchNorm factor s = gamma / sqrt(var + eps)
is clustered and divided by s again (the same network as the folded one). The clustering here is
plain 1-D k-means (quantile start, Lloyd to convergence), not wclust's knee, so its numbers measure
the layer types against each other, not wclust's sizes. Rows:

  all-tensor        every kernel, one codebook per folded tensor
  only-TYPE         only the kernels of one type (stem, depthwise, expand, project, last, dense)
  depthwise-channel every kernel, one codebook per channel for the depthwise kernels
  ROW+bias          ROW, then each BatchNorm's moving mean (the classifier's bias) corrected one layer
                    after another, in order, so that each output channel's mean on the 500 calibration
                    images equals the original network's (bias correction; changes the biases)

Prints a Markdown table: row, k, test accuracy (10,000 images), mean relative output change against the
original ||y - y0|| / ||y0||.
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration-tests", "src",
                                "test", "python"))

import numpy as np  # noqa: E402

TYPES = ["stem", "depthwise", "expand", "project", "last", "dense"]
DEFAULT_ROWS = ["all-tensor"] + [f"only-{t}" for t in TYPES] + ["depthwise-channel", "all-tensor+bias",
                                                                 "depthwise-channel+bias"]


def kmeans(values, k):
    """Plain 1-D k-means: centroids at the (i + 1/2)/k quantiles, Lloyd until they stop moving."""
    v = values.astype(np.float64)
    if len(np.unique(v)) <= k:
        return v
    c = np.quantile(v, (np.arange(k) + 0.5) / k)
    for _ in range(100):
        c = np.unique(c)
        idx = np.searchsorted((c[1:] + c[:-1]) / 2, v)
        n = np.bincount(idx, minlength=len(c))
        moved = np.where(n > 0, np.bincount(idx, v, len(c)) / np.maximum(n, 1), c)
        if np.allclose(moved, c):
            break
        c = moved
    return c[np.searchsorted((c[1:] + c[:-1]) / 2, v)]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixture")
    parser.add_argument("-k", type=int, default=16)
    parser.add_argument("--rows", default=",".join(DEFAULT_ROWS))
    args = parser.parse_args(argv[1:])

    import tensorflow as tf
    import keras
    from keras import layers as L
    from make_bn_mobilenet import build_model

    saved = tf.saved_model.load(os.path.join(args.fixture, "model"))
    model = build_model(keras)
    for w, v in zip(model.weights, saved.variables):
        if w.path.split("/")[-2:] != v.name.split(":")[0].split("/")[-2:]:
            raise SystemExit(f"weights out of order: {w.path} against {v.name}")
        w.assign(v.numpy())
    net = model.get_layer(index=2)
    test = np.load(os.path.join(args.fixture, "test.npz"))
    x_test, y_test = test["x"].astype(np.float32) / 255, test["y"]
    x_cal = np.load(os.path.join(args.fixture, "calibration.npz"))["x"].astype(np.float32) / 255

    kernels = [l for l in net.layers if isinstance(l, (L.Conv2D, L.DepthwiseConv2D, L.Dense))]
    batch_norm = {}
    for layer in net.layers:
        if isinstance(layer, L.BatchNormalization):
            for k in kernels:
                if layer.input is k.output:
                    batch_norm[k.name] = layer
    original = {l.name: [w.numpy() for w in l.weights] for l in net.layers if l.weights}

    def kind(layer):
        if isinstance(layer, L.DepthwiseConv2D):
            return "depthwise"
        if isinstance(layer, L.Dense):
            return "dense"
        if layer.name == "Conv1":
            return "stem"
        if layer.name == "Conv_1":
            return "last"
        return "expand" if "expand" in layer.name else "project"

    def clustered(layer, per_channel):
        w = original[layer.name][0]
        bn = batch_norm.get(layer.name)
        factor = 1.0
        if bn is not None:
            gamma, _, _, var = original[bn.name]
            factor = gamma / np.sqrt(var + bn.epsilon)
        # Channels last: [h, w, in, out] or a depthwise [h, w, in, 1] (its channels are the inputs).
        channels = w.shape[2] * w.shape[3] if isinstance(layer, L.DepthwiseConv2D) else w.shape[-1]
        folded = w.reshape(-1, channels) * factor
        if per_channel:
            q = np.stack([kmeans(folded[:, c], args.k) for c in range(channels)], 1)
        else:
            q = kmeans(folded.ravel(), args.k).reshape(folded.shape)
        return (q / factor).reshape(w.shape).astype(np.float32)

    def restore():
        for layer in net.layers:
            for w, v in zip(layer.weights, original.get(layer.name, [])):
                w.assign(v)

    padded = np.pad(x_cal, ((0, 0), (2, 2), (2, 2), (0, 0)))
    probe = keras.Model(net.input, [k.output for k in kernels])

    def channel_means():
        return [o.mean(axis=tuple(range(o.ndim - 1))) for o in probe.predict(padded, batch_size=500, verbose=0)]

    restore()
    reference_means = channel_means()
    y0 = model.predict(x_test, batch_size=1000, verbose=0)

    def correct_biases():
        for i, layer in enumerate(kernels):
            # Only layer i's output is needed; the layers before it are corrected already.
            out = keras.Model(net.input, layer.output).predict(padded, batch_size=500, verbose=0)
            shift = out.mean(axis=tuple(range(out.ndim - 1))) - reference_means[i]
            bn = batch_norm.get(layer.name)
            if bn is not None:
                bn.moving_mean.assign(bn.moving_mean.numpy() + shift)
            else:
                layer.bias.assign(layer.bias.numpy() - shift)

    print("| row | k | test accuracy | mean relative change |")
    print("|---|---|---|---|")
    acc0 = (y0.argmax(1) == y_test).mean()
    print(f"| original | – | {100 * acc0:.2f} % | 0 |", flush=True)
    for row in args.rows.split(","):
        base, bias = (row[:-len("+bias")], True) if row.endswith("+bias") else (row, False)
        restore()
        for layer in kernels:
            if base == "all-tensor":
                layer.weights[0].assign(clustered(layer, False))
            elif base == "depthwise-channel":
                layer.weights[0].assign(clustered(layer, kind(layer) == "depthwise"))
            elif base.startswith("only-"):
                if kind(layer) == base[len("only-"):]:
                    layer.weights[0].assign(clustered(layer, False))
            else:
                raise SystemExit(f"unknown row {row}")
        if bias:
            correct_biases()
        y = model.predict(x_test, batch_size=1000, verbose=0)
        accuracy = (y.argmax(1) == y_test).mean()
        change = np.mean(np.linalg.norm(y - y0, axis=1) / np.linalg.norm(y0, axis=1))
        print(f"| {row} | {args.k} | {100 * accuracy:.2f} % | {change:.4f} |", flush=True)
    restore()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

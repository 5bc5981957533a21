#!/usr/bin/env python3
"""Build small Keras 3 test models with random (seeded) weights as SavedModels.

Usage:
    python make_fixtures.py OUTDIR

Writes one SavedModel directory per fixture under OUTDIR plus OUTDIR/manifest.json,
a list of {"name", "path", "input_shape", "keras_class", "signature_input",
"signature_outputs"} objects (path is relative to OUTDIR, input_shape has no batch dim). Existing output is
overwritten; callers are expected to cache OUTDIR themselves.

Fixtures:
  sequential_cnn         keras.Sequential CNN, model.export()
  functional_residual    functional model with a 3-way residual Add, model.export()
  conv_bn_depthwise      Conv/BatchNorm/DepthwiseConv with non-trivial BN stats, model.export()
  subclassed             subclassed keras.Model, model.export()
  sequential_cnn_tfsave  the sequential_cnn model saved with tf.saved_model.save and an
                         explicit serving_default signature (input name "x")
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

INPUT_SHAPE = (16, 16, 3)


def sequential_cnn():
    return keras.Sequential([
        keras.Input(INPUT_SHAPE),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(16, 3, activation="relu"),
        layers.Flatten(),
        layers.Dense(32, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="sequential_cnn")


def functional_residual():
    inp = keras.Input(INPUT_SHAPE)
    stem = layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    a = layers.Conv2D(8, 3, padding="same", activation="relu")(stem)
    b = layers.Conv2D(8, 1, padding="same")(stem)
    x = layers.Add()([stem, a, b])
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(10)(x)
    return keras.Model(inp, out, name="functional_residual")


def conv_bn_depthwise():
    inp = keras.Input(INPUT_SHAPE)
    x = layers.Conv2D(8, 3, use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.DepthwiseConv2D(3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(10)(x)
    model = keras.Model(inp, out, name="conv_bn_depthwise")
    randomise_batch_norm(model)
    return model


def randomise_batch_norm(model, seed=1234):
    """Random BatchNorm parameters and statistics, so that BN is not an identity and folding it
    changes the kernels."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.beta.assign((rng.normal(size=n) * 0.1).astype("float32"))
            layer.moving_mean.assign((rng.normal(size=n) * 0.1).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 1.5, n).astype("float32"))


class SmallSubclassed(keras.Model):
    """Subclassed model: Conv2D -> GAP -> Dense(16, relu) -> Dense(4)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(8, 3, activation="relu")
        self.pool = layers.GlobalAveragePooling2D()
        self.fc1 = layers.Dense(16, activation="relu")
        self.fc2 = layers.Dense(4)

    def call(self, inputs):
        return self.fc2(self.fc1(self.pool(self.conv(inputs))))


def subclassed():
    model = SmallSubclassed(name="subclassed")
    model(np.zeros((1,) + INPUT_SHAPE, dtype="float32"))  # build the variables
    return model


def save_with_tf_saved_model(model, path):
    """tf.saved_model.save with an explicit serving_default signature (input "x").

    Quirk (TF 2.21 / Keras 3.15): the object graph of a Keras 3 model tracks KerasVariable
    wrappers, not the tf.Variables the traced function captures. The TFLite converter then
    cannot freeze them and keeps VAR_HANDLE/READ_VARIABLE ops that read uninitialised
    variables (NaN/garbage output). Tracking the underlying tf.Variables on the model as well
    fixes this; they are the same variable objects, so TF runtime semantics are unchanged.
    """
    @tf.function(input_signature=[tf.TensorSpec([None, *INPUT_SHAPE], tf.float32, name="x")])
    def serve(x):
        return model(x)

    model._tf_variables_for_saving = [v.value for v in model.variables]
    tf.saved_model.save(model, path, signatures={"serving_default": serve})


def check_serving(path, batch):
    """Load the SavedModel with plain TF and run its serving_default signature."""
    fn = tf.saved_model.load(path).signatures["serving_default"]
    (in_name,) = fn.structured_input_signature[1].keys()
    outputs = fn(**{in_name: tf.constant(batch)})
    return in_name, {k: list(v.shape) for k, v in sorted(outputs.items())}


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = os.path.abspath(argv[1])
    os.makedirs(outdir, exist_ok=True)
    keras.utils.set_random_seed(1234)

    seq = sequential_cnn()
    # (name, model, saver); the tfsave fixture reuses the same Sequential object.
    fixtures = [
        ("sequential_cnn", seq, "export"),
        ("functional_residual", functional_residual(), "export"),
        ("conv_bn_depthwise", conv_bn_depthwise(), "export"),
        ("subclassed", subclassed(), "export"),
        ("sequential_cnn_tfsave", seq, "tf_saved_model_save"),
    ]

    batch = np.random.default_rng(42).random((2,) + INPUT_SHAPE, dtype=np.float32)
    manifest = []
    for name, model, saver in fixtures:
        path = os.path.join(outdir, name)
        shutil.rmtree(path, ignore_errors=True)  # always rebuild
        if saver == "export":
            model.export(path, verbose=False)
        else:
            save_with_tf_saved_model(model, path)
        in_name, out_shapes = check_serving(path, batch)
        manifest.append({
            "name": name,
            "path": name,
            "input_shape": list(INPUT_SHAPE),
            "keras_class": type(model).__name__,
            # Extra info: serving_default input/output names (they differ per saver,
            # e.g. "keras_tensor_7", "args_0", "x"; outputs are "output_0").
            "signature_input": in_name,
            "signature_outputs": sorted(out_shapes),
        })
        print(f"{name}: {saver} ok, input={in_name} outputs={out_shapes}")

    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

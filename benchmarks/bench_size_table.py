#!/usr/bin/env python3
"""The seed's size table, reproduced: zipped .tflite of MobileNetV1, MobileNetV2 and DS-CNN-L, clustered by
tfmot and by wclust, measured by the same Python code.

Usage (scripts/bench-size-table.sh runs it with the project's .venv):
  bench_size_table.py [--models mobilenet_v1,mobilenet_v2,ds_cnn_l] [--work DIR]
                      [--runs benchmarks/runs/size_table.jsonl] [--results benchmarks/SIZE_TABLE.md]
                      [--report-only]

Models, built with Keras (keras.applications for MobileNetV1/V2, alpha 1.0, 224x224x3, 1000 classes;
DS-CNN-L of "Hello Edge" (Zhang et al. 2017, ARM ML-KWS-for-MCU's large DS-CNN: Conv2D 276 10x4 stride
2x1, then 5 x (DepthwiseConv2D 3x3 + Conv2D 276 1x1), each followed by BatchNorm and ReLU, average pool,
Dense 12) on 49x10x1 MFCC inputs): seeded random weights (no trained weights are downloaded) and random
BatchNorm parameters and statistics (make_fixtures.randomise_batch_norm), so that folding BatchNorm into
the convolutions at conversion changes the kernels. No accuracy is measured (random weights).

For every model, two clusterings, as in tfmot's published table:
  full       every weight the tool clusters by default at k = 64 (V1), 32 (V2), 32 (DS-CNN-L)
  selective  the last 3 Conv2D layers only, at 256, 256 and 32 clusters
and two tools:
  tfmot      cluster_weights (its default init, KMEANS_PLUS_PLUS) on the same architecture built with
             tf_keras and the same weights (the outputs are checked to agree with the Keras model's),
             strip_clustering, then TFLiteConverter.from_keras_model; no fine-tuning
  wclust     wclust cluster MODEL --clusters K (full) or --config {"LAYER/kernel": K, ...} (selective),
             default flags otherwise (--no-size: the size is measured here), then
             TFLiteConverter.from_saved_model
Measured the same way for both (bench_vs_tfmot.zipped_size: one deflated zip entry): zipped .tflite
bytes; distinct values of every CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED filter in the .tflite,
per tensor and per output channel; the tool's wall time (clustering + strip/export).

Runs are appended to --runs (JSON lines, checked in; a rerun skips what is there, --report-only runs
nothing) and the table is written to --results.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_tfmot as bench  # noqa: E402  (measuring code shared with the accuracy benchmark)

ROOT = bench.ROOT
FULL_K = {"mobilenet_v1": 64, "mobilenet_v2": 32, "ds_cnn_l": 32}
SELECTIVE_K = [256, 256, 32]
TITLES = {"mobilenet_v1": "MobileNetV1 (1.0, 224)", "mobilenet_v2": "MobileNetV2 (1.0, 224)",
          "ds_cnn_l": "DS-CNN-L (49x10)"}
SEED = 1234
FILTER_OPS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}  # op -> output-channel axis


# ---------------------------------------------------------------- the architectures (keras or tf_keras)

def build(name, keras):
    if name == "mobilenet_v1":
        return keras.applications.MobileNet(alpha=1.0, weights=None, input_shape=(224, 224, 3))
    if name == "mobilenet_v2":
        return keras.applications.MobileNetV2(alpha=1.0, weights=None, input_shape=(224, 224, 3))
    if name == "ds_cnn_l":
        return ds_cnn_l(keras)
    raise ValueError(name)


def ds_cnn_l(keras, filters=276, blocks=5, classes=12):
    """DS-CNN-L of "Hello Edge" (model_size_info 6, 276,10,4,2,1, then 5 x 276,3,3 with stride 2,2 first)."""
    layers = keras.layers
    inputs = keras.Input((49, 10, 1), name="mfcc")
    x = layers.Conv2D(filters, (10, 4), strides=(2, 1), padding="same", use_bias=False, name="conv_1")(inputs)
    x = layers.ReLU(name="relu_1")(layers.BatchNormalization(name="bn_1")(x))
    for i in range(blocks):
        stride = (2, 2) if i == 0 else (1, 1)
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"dw_{i + 1}")(x)
        x = layers.ReLU(name=f"dw_relu_{i + 1}")(layers.BatchNormalization(name=f"dw_bn_{i + 1}")(x))
        x = layers.Conv2D(filters, 1, use_bias=False, name=f"pw_{i + 1}")(x)
        x = layers.ReLU(name=f"pw_relu_{i + 1}")(layers.BatchNormalization(name=f"pw_bn_{i + 1}")(x))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="ds_cnn_l")


def last_conv2d(model, n=3):
    """Names of the last n plain Conv2D layers (tf_keras' DepthwiseConv2D subclasses Conv2D: by class name)."""
    return [l.name for l in model.layers if type(l).__name__ == "Conv2D"][-n:]


# ---------------------------------------------------------------- preparing a model (Keras 3)

def prepare(work, name):
    """Builds the Keras model, exports it for wclust, keeps its weights and a probe for tfmot's copy."""
    import numpy as np
    import keras
    sys.path.insert(0, bench.PYTHON_DIR)
    from make_fixtures import randomise_batch_norm

    d = os.path.join(work, name)
    if os.path.exists(os.path.join(d, "prepared.json")):
        with open(os.path.join(d, "prepared.json")) as f:
            return json.load(f)
    os.makedirs(d, exist_ok=True)
    keras.utils.set_random_seed(SEED)
    model = build(name, keras)
    randomise_batch_norm(model, seed=SEED)
    subprocess.run(["rm", "-rf", os.path.join(d, "model")], check=True)
    model.export(os.path.join(d, "model"), verbose=False)
    np.savez(os.path.join(d, "weights.npz"), *model.get_weights())
    probe = np.random.default_rng(SEED).uniform(0, 1, (2,) + tuple(model.input_shape[1:])).astype("float32")
    np.savez(os.path.join(d, "probe.npz"), x=probe, y=np.asarray(model(probe)))
    bench.convert_saved_model(os.path.join(d, "model"), os.path.join(d, "original.tflite"))
    info = {"parameters": int(model.count_params()), "selective_layers": last_conv2d(model)}
    with open(os.path.join(d, "prepared.json"), "w") as f:
        json.dump(info, f)
    return info


# ---------------------------------------------------------------- tfmot (own process, tf_keras)

def run_tfmot(args):
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras
    import tensorflow_model_optimization as tfmot

    d = os.path.join(args.work, args.model)
    model = build(args.model, keras)
    weights = np.load(os.path.join(d, "weights.npz"))
    model.set_weights([weights[f"arr_{i}"] for i in range(len(weights.files))])
    probe = np.load(os.path.join(d, "probe.npz"))
    diff = float(np.abs(model(probe["x"]).numpy() - probe["y"]).max())
    scale = float(np.abs(probe["y"]).max())
    if diff > 1e-4 * max(scale, 1.0):
        raise SystemExit(f"tf_keras copy of {args.model} disagrees with the Keras model: max |diff| {diff}")
    cluster = tfmot.clustering.keras
    start = time.monotonic()
    if args.mode == "full":
        clustered = cluster.cluster_weights(model, number_of_clusters=FULL_K[args.model])
    else:
        targets = dict(zip(last_conv2d(model), SELECTIVE_K))

        def wrap(layer):
            if layer.name in targets:
                return cluster.cluster_weights(layer, number_of_clusters=targets[layer.name])
            return layer
        clustered = keras.models.clone_model(model, clone_function=wrap)
    stripped = cluster.strip_clustering(clustered)
    wall = time.monotonic() - start
    tflite = tf.lite.TFLiteConverter.from_keras_model(stripped).convert()
    with open(args.out, "wb") as f:
        f.write(tflite)
    with open(args.out + ".json", "w") as f:
        json.dump({"wall_s": wall, "probe_max_abs_diff": diff}, f)
    return 0


# ---------------------------------------------------------------- wclust

def run_wclust(work, name, mode, info, out_tflite):
    d = os.path.join(work, name)
    out = os.path.join(d, f"wclust-{mode}")
    subprocess.run(["rm", "-rf", out], check=True)
    cmd = [os.path.join(ROOT, "wclust"), "cluster", os.path.join(d, "model"), "-o", out, "--no-size"]
    if mode == "full":
        cmd += ["--clusters", str(FULL_K[name])]
    else:
        config = os.path.join(d, "selective.json")
        with open(config, "w") as f:
            json.dump({f"^{layer}/kernel$": k for layer, k in zip(info["selective_layers"], SELECTIVE_K)}, f)
        cmd += ["--config", config]
    start = time.monotonic()
    bench.sh(cmd)
    wall = time.monotonic() - start
    bench.convert_saved_model(out, out_tflite)
    return wall


# ---------------------------------------------------------------- measurement (same for every .tflite)

def filter_stats(tflite_path, k):
    """Distinct values of the conv/dense filters of a .tflite: per tensor and per output channel.

    Counts only filters that could exceed k: tensors with more than k weights (per tensor) and tensors
    whose output channels hold more than k weights (per channel)."""
    import numpy as np
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=tflite_path)
    interpreter.allocate_tensors()
    tensors = per_tensor_ok = channel_tensors = per_channel_ok = 0
    for op in interpreter._get_ops_details():
        axis = FILTER_OPS.get(op["op_name"])
        if axis is None or len(op["inputs"]) < 2:
            continue
        try:
            w = interpreter.get_tensor(op["inputs"][1])
        except ValueError:
            continue
        if w.dtype != np.float32:
            continue
        if w.size > k:
            tensors += 1
            per_tensor_ok += len(np.unique(w)) <= k
        channels = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
        if channels.shape[1] > k:
            channel_tensors += 1
            most = max(len(np.unique(c)) for c in channels)
            per_channel_ok += most <= k
    return {"k": k, "tensors": tensors, "tensors_within_k": int(per_tensor_ok),
            "channel_tensors": channel_tensors, "channel_tensors_within_k": int(per_channel_ok)}


def measure(tflite_path, k):
    return {"tflite_bytes": os.path.getsize(tflite_path), "zipped_bytes": bench.zipped_size(tflite_path),
            **filter_stats(tflite_path, k)}


# ---------------------------------------------------------------- orchestration

def run_one(work, name, mode, tool, info):
    d = os.path.join(work, name)
    k = FULL_K[name] if mode == "full" else max(SELECTIVE_K)
    record = {"model": name, "mode": mode, "tool": tool, "parameters": info["parameters"],
              "wclust_commit": bench.wclust_commit()}
    if tool == "original":
        record["measured"] = measure(os.path.join(d, "original.tflite"), k)
        return record
    tflite = os.path.join(d, f"{tool}-{mode}.tflite")
    if tool == "tfmot":
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        bench.sh([sys.executable, os.path.abspath(__file__), "_tfmot", "--work", work, "--model", name,
                  "--mode", mode, "--out", tflite], env=env)
        with open(tflite + ".json") as f:
            side = json.load(f)
        record["wall_s"] = round(side["wall_s"], 1)
        record["probe_max_abs_diff"] = side["probe_max_abs_diff"]
    else:
        record["wall_s"] = round(run_wclust(work, name, mode, info, tflite), 1)
    if mode == "selective":
        record["selective_layers"] = dict(zip(info["selective_layers"], SELECTIVE_K))
    record["measured"] = measure(tflite, k)
    record["load_average"] = os.getloadavg()[0]
    bench.log(f"{name} {mode} {tool}: {record['measured']['zipped_bytes']} zipped bytes")
    return record


def main(argv):
    if len(argv) > 1 and argv[1] == "_tfmot":
        p = argparse.ArgumentParser()
        for name in ("--work", "--model", "--mode", "--out"):
            p.add_argument(name, required=True)
        return run_tfmot(p.parse_args(argv[2:]))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(FULL_K))
    p.add_argument("--work", default=os.path.join(ROOT, "target", "bench-size-table"))
    p.add_argument("--runs", default=os.path.join(ROOT, "benchmarks", "runs", "size_table.jsonl"))
    p.add_argument("--results", default=os.path.join(ROOT, "benchmarks", "SIZE_TABLE.md"))
    p.add_argument("--report-only", action="store_true", help="run nothing; write the table from --runs")
    args = p.parse_args(argv[1:])
    models = args.models.split(",")
    for m in models:
        if m not in FULL_K:
            raise SystemExit(f"unknown model {m}; valid: {', '.join(FULL_K)}")
    runs = bench.load_runs(args.runs)
    done = {(r["model"], r["mode"], r["tool"]) for r in runs}
    os.makedirs(os.path.dirname(os.path.abspath(args.runs)), exist_ok=True)
    for name in [] if args.report_only else models:
        todo = [(mode, tool) for mode, tool in [("full", "original"), ("full", "tfmot"), ("full", "wclust"),
                                                ("selective", "original"), ("selective", "tfmot"),
                                                ("selective", "wclust")] if (name, mode, tool) not in done]
        if not todo:
            continue
        info = prepare(os.path.abspath(args.work), name)
        for mode, tool in todo:
            record = run_one(os.path.abspath(args.work), name, mode, tool, info)
            runs.append(record)
            with open(args.runs, "a") as f:
                f.write(json.dumps(record) + "\n")
    write_results(args.results, [r for r in runs if r["model"] in models], models)
    return 0


def write_results(path, runs, models):
    get = {(r["model"], r["mode"], r["tool"]): r for r in runs}
    lines = ["# The seed's size table, reproduced: tfmot and wclust on MobileNetV1, MobileNetV2, DS-CNN-L", "",
             "Written by `scripts/bench-size-table.sh` (benchmarks/bench_size_table.py) from the runs in "
             "`benchmarks/runs/size_table.jsonl`; every number below comes from those runs. **Random weights**: "
             "the architectures are built with Keras (keras.applications MobileNet / MobileNetV2, alpha 1.0, "
             "224x224x3, 1000 classes; DS-CNN-L of \"Hello Edge\" on 49x10x1 inputs), with seeded random weights "
             "and random, non-trivial BatchNorm parameters and statistics (no trained weights are available "
             "offline), so no accuracy is measured and the sizes are those of random, not trained, weights "
             "(trained weights are less uniform and deflate a little better). Neither tool fine-tunes.", "",
             "Both tools start from the same weights (tfmot's tf_keras copy of each model is checked to give "
             "the Keras model's outputs) and every .tflite comes from Python TensorFlow's converter; the size "
             "is the .tflite deflated as one zip entry (`bench_vs_tfmot.zipped_size`, tfmot's published "
             "metric). full: every weight the tool clusters at k = 64 (V1), 32 (V2, DS-CNN-L) — tfmot "
             "clusters Conv2D and Dense kernels (not DepthwiseConv2D), wclust also the depthwise kernels, "
             "with BatchNorm folded first (its default); selective: the last 3 Conv2D layers at 256, 256 "
             "and 32 clusters. \"within k\" counts the conv/dense filters of the .tflite that hold at most k "
             "distinct values (k = the mode's largest), per tensor and per output channel, among the filters "
             "big enough to hold more; BatchNorm folded by the converter into a clustered kernel scales "
             "each channel, so tfmot's clusters survive per channel only.", "",
             "| model | clustering | tool | zipped .tflite | vs original | filters within k (per tensor) "
             "| filters within k (per channel) | time |",
             "|---|---|---|---|---|---|---|---|"]
    for name in models:
        original = get.get((name, "full", "original"))
        if original:
            m = original["measured"]
            lines.append(f"| {TITLES[name]}, {original['parameters']:,} parameters | none | — | "
                         f"{m['zipped_bytes'] / 1e6:.2f} MB | 1.00× | | | |")
        for mode in ("full", "selective"):
            for tool in ("tfmot", "wclust"):
                r = get.get((name, mode, tool))
                if not r:
                    continue
                m = r["measured"]
                label = (f"full, k = {FULL_K[name]}" if mode == "full"
                         else "last 3 Conv2D: " + ", ".join(f"{l} {k}" for l, k in r["selective_layers"].items()))
                ratio = (f"{original['measured']['zipped_bytes'] / m['zipped_bytes']:.2f}× smaller"
                         if original else "")
                lines.append(f"| {TITLES[name]} | {label} | {tool} | {m['zipped_bytes'] / 1e6:.2f} MB | {ratio} | "
                             f"{m['tensors_within_k']} of {m['tensors']} (k = {m['k']}) | "
                             f"{m['channel_tensors_within_k']} of {m['channel_tensors']} | {r['wall_s']:.0f} s |")
    loads = [r["load_average"] for r in runs if "load_average" in r]
    v = bench.versions()
    lines += ["", "Time: tfmot's cluster_weights + strip_clustering; wclust's whole `wclust cluster` command "
              "(loading, clustering, export of the SavedModel, JVM start included); the conversion to .tflite "
              "is in neither. "
              f"The machine's 1-minute load average while these runs were measured: "
              f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} cores (shared with other jobs)."
              if loads else "", "", "## Machine and versions", "",
              f"- CPU: {bench.cpu_name()}, {os.cpu_count()} cores visible",
              f"- OS: {platform.platform()}"]
    lines += [f"- {k}: {val}" for k, val in v.items()]
    commits = sorted({r.get("wclust_commit", "not recorded") for r in runs if r["tool"] == "wclust"})
    lines += [f"- wclust commits of the wclust runs: {', '.join(commits)}", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    bench.log(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

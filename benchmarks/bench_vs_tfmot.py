#!/usr/bin/env python3
"""wclust against tfmot on the accuracy-size front: one driver, the same measurement for both tools.

Usage (scripts/bench-vs-tfmot.sh runs it with the project's .venv):
  bench_vs_tfmot.py [--model fashion-mnist-cnn|bn-mobilenet] [--ks 8,16,32] [--seeds 1] [--work DIR]
                    [--runs FILE.jsonl] [--results FILE.md] [--pretrain-epochs 3] [--methods LIST]
                    [--train-images N] [--same-order] [--report-only]

--model fashion-mnist-cnn (default): for every seed it trains the reference Fashion-MNIST CNN
(Conv2D 32 -> Conv2D 64 -> Dense 128 -> Dense 10, integration-tests/src/test/python/make_fashion_mnist.py,
seeded). --model bn-mobilenet: the BatchNorm-heavy MobileNetV2 (alpha 0.35, 32x32, 52 BatchNorm
layers) of make_bn_mobilenet.py, trained once by that script (its own seed; WORK/bn, built when
missing); the seeds are then the tools' fine-tuning seeds. Then for every k it runs

  tfmot-kmeans++   tfmot cluster_weights, CentroidInitialization.KMEANS_PLUS_PLUS
  tfmot-linear     tfmot cluster_weights, CentroidInitialization.LINEAR
  wclust-default   wclust cluster --clusters K                 (no other clustering flag)
  wclust-no-squeeze  wclust cluster --clusters K --no-squeeze  (the default without putting dead units'
                   weights on one centroid after fine-tuning)
  wclust-optimal   wclust cluster --clusters K --init optimal  (minimum squared error)
  wclust-linear    wclust cluster --clusters K --init linear --no-refine (tfmot LINEAR's initialisation:
                   evenly spaced centroids, nearest assignment; only when --methods names it)
  wclust-budget    wclust cluster --clusters K --target-size B, B = tfmot-linear's zipped size at k
  wclust-budget-layers  wclust cluster --clusters K --target-size B --budget (the same B; a clustering
                   chosen per layer instead of one multiplier)
  wclust-depthwise-channel  wclust cluster --clusters K --depthwise-per-channel (bn-mobilenet's default
                   methods have it instead of wclust-budget: a codebook per depthwise channel)
  wclust-no-fold-bn  wclust cluster --clusters K --no-fold-bn (bn-mobilenet, only when --methods names it:
                   the kernels clustered unfolded and BatchNorm kept, as tfmot does)

each clustering the weights it clusters by default (tfmot: Conv2D/Dense kernels; wclust: also
DepthwiseConv2D, BatchNorm folded first), each fine-tuned with the same budget (1 epoch over the
first --train-images training images, default all 60,000 for the CNN and 4,096 for bn-mobilenet,
Adam 1e-4, batch 64), and measures every model with the same code below:
the .tflite converted by Python TensorFlow's TFLite converter, its top-1 accuracy in the TFLite
interpreter on the full 10,000-image test split, its zipped size (deflate, entry name model.tflite,
as tfmot's published results), the most distinct values in any conv/dense weight tensor, and the
wall time of the tool (clustering + fine-tuning + strip/export; not the measurement). "after
clustering" is the same measurement of the clustered model before fine-tuning.

--same-order: both tools fine-tune on one batch order per seed, the fine-tuning file shuffled once with
the seed and read in file order (tfmot fit(shuffle=False), wclust --shuffle-buffer 1). The order moves a
model's accuracy after one epoch by up to 0.8 point, the same way for both tools, so with one order the
differences between the tools measure the methods rather than two independent draws of that noise. Its
runs go to benchmarks/runs/MODEL-same-order.jsonl and RESULTS_SAME_ORDER.md (bn-mobilenet:
RESULTS_BN_MOBILENET_SAME_ORDER.md); the two kinds of run are never mixed in one report.

Writes per-run JSON lines to --runs (default benchmarks/runs/MODEL.jsonl, checked in: a rerun skips
what is there, --report-only only rewrites the results from it), --results (RESULTS.md for the CNN,
RESULTS_BN_MOBILENET.md for bn-mobilenet) with the tables, machine and versions, and a PNG of the
same name (accuracy against zipped size, one curve per method).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON_DIR = os.path.join(ROOT, "integration-tests", "src", "test", "python")
SCALE = 1.0 / 255.0
FINE_TUNE = {"epochs": 1, "batch_size": 64, "learning_rate": 1e-4}
ALL_METHODS = ["tfmot-kmeans++", "tfmot-linear", "wclust-default", "wclust-optimal", "wclust-budget",
               "wclust-depthwise-channel", "wclust-budget-layers", "wclust-no-squeeze", "wclust-no-fold-bn",
               "wclust-linear"]
BUDGET_METHODS = {"wclust-budget": [], "wclust-budget-layers": ["--budget"]}  # plus --target-size B
WCLUST_FLAGS = {"wclust-default": [], "wclust-optimal": ["--init", "optimal"],
                "wclust-depthwise-channel": ["--depthwise-per-channel"],
                "wclust-no-squeeze": ["--no-squeeze"],
                "wclust-no-fold-bn": ["--no-fold-bn"],
                "wclust-linear": ["--init", "linear", "--no-refine"]}  # wclust-budget: --target-size B
MODELS = {
    "fashion-mnist-cnn": {"results": "RESULTS.md", "same_order_results": "RESULTS_SAME_ORDER.md",
                          "train_images": 60000, "title": "Fashion-MNIST CNN",
                          "methods": ALL_METHODS[:5] + ["wclust-budget-layers"]},
    "bn-mobilenet": {"results": "RESULTS_BN_MOBILENET.md",
                     "same_order_results": "RESULTS_BN_MOBILENET_SAME_ORDER.md", "train_images": 4096,
                     "title": "MobileNetV2 0.35 with BatchNorm, Fashion-MNIST 32x32",
                     "methods": ALL_METHODS[:4] + ["wclust-depthwise-channel"]},
}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- measurement (same for both tools)

def measure(tflite_path, test_npz):
    """Accuracy in the TFLite interpreter on the whole test split, zipped size, distinct values."""
    import numpy as np
    import tensorflow as tf

    data = np.load(test_npz)
    x = data["x"].astype(np.float32) * np.float32(SCALE)
    y = data["y"]
    interpreter = tf.lite.Interpreter(model_path=tflite_path)
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], [len(x)] + list(inp["shape"][1:]))
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x.reshape([len(x)] + list(inp["shape"][1:])))
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    accuracy = float((out.argmax(axis=1) == y).mean())
    distinct = 0
    for t in interpreter.get_tensor_details():
        if t["dtype"] != np.float32 or len(t["shape"]) < 2 or int(np.prod(t["shape"])) < 100:
            continue
        try:
            values = interpreter.get_tensor(t["index"])
        except ValueError:
            continue
        if t["name"].startswith("serving") or values.shape[0] == len(x):
            continue  # activations, not weights
        distinct = max(distinct, len(np.unique(values)))
    return {"accuracy": accuracy, "tflite_bytes": os.path.getsize(tflite_path),
            "zipped_bytes": zipped_size(tflite_path), "max_distinct": distinct}


def zipped_size(tflite_path):
    with tempfile.TemporaryDirectory() as tmp:
        z = os.path.join(tmp, "model.zip")
        with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_DEFLATED) as f:
            f.write(tflite_path, arcname="model.tflite")
        return os.path.getsize(z)


def convert_saved_model(saved_model_dir, tflite_path):
    import tensorflow as tf
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
    with open(tflite_path, "wb") as f:
        f.write(converter.convert())


# ---------------------------------------------------------------- tfmot (run in its own process)

def run_tfmot(args):
    """cluster_weights + fine-tune + strip_clustering, with tf_keras (TF_USE_LEGACY_KERAS=1)."""
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras
    import tensorflow_model_optimization as tfmot

    keras.utils.set_random_seed(args.seed)
    model = (tfmot_bn_mobilenet if args.model == "bn-mobilenet" else tfmot_cnn)(keras, args.model_dir)
    init = getattr(tfmot.clustering.keras.CentroidInitialization, args.init)
    start = time.monotonic()
    clustered = tfmot.clustering.keras.cluster_weights(model, number_of_clusters=args.k,
                                                       cluster_centroids_init=init)
    cluster_s = time.monotonic() - start

    def export(m, path):
        converter = tf.lite.TFLiteConverter.from_keras_model(tfmot.clustering.keras.strip_clustering(m))
        with open(path, "wb") as f:
            f.write(converter.convert())

    export(clustered, args.out + ".clustered.tflite")
    train = np.load(args.train)
    x = train["x"].astype(np.float32) * np.float32(SCALE)
    clustered.compile(optimizer=keras.optimizers.Adam(FINE_TUNE["learning_rate"]),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.monotonic()
    clustered.fit(x, train["y"], batch_size=FINE_TUNE["batch_size"], epochs=FINE_TUNE["epochs"],
                  shuffle=not args.no_shuffle, verbose=0)
    stripped = tfmot.clustering.keras.strip_clustering(clustered)
    tune_s = time.monotonic() - start
    converter = tf.lite.TFLiteConverter.from_keras_model(stripped)
    with open(args.out, "wb") as f:
        f.write(converter.convert())
    with open(args.out + ".json", "w") as f:
        json.dump({"wall_s": cluster_s + tune_s}, f)
    return 0


def tfmot_cnn(keras, model_dir):
    """The CNN of make_fashion_mnist.py in tf_keras, with the weights it saved."""
    import numpy as np
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    weights = np.load(os.path.join(model_dir, "weights.npz"))
    model.set_weights([weights[f"arr_{i}"] for i in range(len(weights.files))])
    return model


def tfmot_bn_mobilenet(keras, model_dir):
    """make_bn_mobilenet.py's network in tf_keras (flat: tfmot does not cluster nested models), with the
    variables of its exported SavedModel matched by name, checked to give the SavedModel's outputs."""
    import numpy as np
    import tensorflow as tf
    inputs = keras.Input((28, 28, 1), name="image")
    padded = keras.layers.ZeroPadding2D(2)(inputs)
    model = keras.applications.MobileNetV2(alpha=0.35, weights=None, input_tensor=padded, classes=10,
                                           classifier_activation="softmax")
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.9  # as make_bn_mobilenet.py trained it
    exported = tf.saved_model.load(os.path.join(model_dir, "model"))
    values = {v.name: v.numpy() for v in exported.variables}
    names = [w.name.replace("/depthwise_kernel:", "/kernel:") for w in model.weights]  # Keras 3 says kernel
    missing = [n for n, w in zip(names, model.weights) if n not in values or values[n].shape != tuple(w.shape)]
    if missing or len(values) != len(model.weights):
        raise SystemExit(f"bn-mobilenet: tf_keras weights not matched in the SavedModel: {missing[:5]}")
    model.set_weights([values[n] for n in names])
    x = np.load(os.path.join(model_dir, "test.npz"))["x"][:64].astype(np.float32) * np.float32(SCALE)
    diff = float(np.abs(model(x).numpy() - exported.serve(tf.constant(x)).numpy()).max())
    if diff > 1e-4:
        raise SystemExit(f"bn-mobilenet: the tf_keras copy disagrees with the SavedModel (max |diff| {diff})")
    return model


# ---------------------------------------------------------------- orchestration

def sh(cmd, env=None):
    log(" ".join(cmd))
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


def train_reference(work, model, seed, epochs):
    """The model's directory: model/ (SavedModel), test.npz, manifest.json (and the CNN's weights.npz)."""
    if model == "bn-mobilenet":
        d = os.path.join(work, "bn")
        sh([sys.executable, os.path.join(PYTHON_DIR, "make_bn_mobilenet.py"), d])  # nothing when built
        return d
    d = os.path.join(work, f"cnn-seed{seed}")
    sh([sys.executable, os.path.join(PYTHON_DIR, "make_fashion_mnist.py"), d, "--epochs", str(epochs),
        "--seed", str(seed)])
    return d


def training_subset(work, model_dir, n):
    """The first n training images (and labels) of Fashion-MNIST as .npz, the fine-tuning data of both tools."""
    import numpy as np
    path = os.path.join(work, f"train-{n}.npz")
    if not os.path.exists(path):
        if os.path.exists(os.path.join(model_dir, "train.npz")):
            data = np.load(os.path.join(model_dir, "train.npz"))
            x, y = data["x"][:n], data["y"][:n]
        else:
            sys.path.insert(0, PYTHON_DIR)
            from make_fashion_mnist import DEFAULT_DATA_DIR, load_split
            x, y = load_split(os.environ.get("FASHION_MNIST_DIR", DEFAULT_DATA_DIR), "train", 60000)
            x, y = x[:n], y[:n]
        np.savez(path + ".partial.npz", x=x, y=y)
        os.replace(path + ".partial.npz", path)
    return path


def same_order_file(train, seed):
    """The fine-tuning file shuffled once with the seed: both tools then read it in this order."""
    import numpy as np
    path = os.path.splitext(train)[0] + f"-order{seed}.npz"
    if not os.path.exists(path):
        data = np.load(train)
        perm = np.random.default_rng(seed).permutation(len(data["y"]))
        np.savez(path + ".partial.npz", x=data["x"][perm], y=data["y"][perm])
        os.replace(path + ".partial.npz", path)
    return path


def run_one(work, model, model_dir, train, seed, k, method, budget, same_order=False):
    """Runs one method at one k; returns the measured record. same_order: train is read in file order."""
    run_dir = os.path.join(model_dir, "runs", f"{method}-k{k}-seed{seed}")
    os.makedirs(run_dir, exist_ok=True)
    test = os.path.join(model_dir, "test.npz")
    final = os.path.join(run_dir, "model.tflite")
    clustered = final + ".clustered.tflite"
    extra = {}
    if method.startswith("tfmot-"):
        init = {"tfmot-kmeans++": "KMEANS_PLUS_PLUS", "tfmot-linear": "LINEAR"}[method]
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        sh([sys.executable, os.path.abspath(__file__), "_tfmot", "--model", model, "--model-dir", model_dir,
            "--train", train, "--k", str(k), "--init", init, "--seed", str(seed), "--out", final]
           + (["--no-shuffle"] if same_order else []), env=env)
        with open(final + ".json") as f:
            wall = json.load(f)["wall_s"]
    else:
        budgeted = method in BUDGET_METHODS
        flags = ["--target-size", str(budget)] + BUDGET_METHODS[method] if budgeted else WCLUST_FLAGS[method]
        if budgeted:
            extra["target_bytes"] = budget
        wclust = os.path.join(ROOT, "wclust")
        common = [wclust, "cluster", os.path.join(model_dir, "model"), "--clusters", str(k), "--seed", str(seed)]
        nofit = os.path.join(run_dir, "clustered_savedmodel")
        tuned = os.path.join(run_dir, "tuned_savedmodel")
        for d in (nofit, tuned):
            subprocess.run(["rm", "-rf", d], check=True)
        size_flag = [] if budgeted else ["--no-size"]
        sh(common + flags + size_flag + ["-o", nofit])
        convert_saved_model(nofit, clustered)
        start = time.monotonic()
        sh(common + flags + size_flag + ["-o", tuned, "--data", train,
                                         "--scale", repr(SCALE), "--epochs", str(FINE_TUNE["epochs"]),
                                         "--batch-size", str(FINE_TUNE["batch_size"]),
                                         "--learning-rate", repr(FINE_TUNE["learning_rate"])]
           + (["--shuffle-buffer", "1"] if same_order else []))
        wall = time.monotonic() - start
        convert_saved_model(tuned, final)
        if budgeted:
            with open(os.path.join(tuned, "wclust-report.json")) as f:
                extra["rate_control"] = json.load(f).get("rate_control")
    record = {"model": model, "seed": seed, "k": k, "method": method, "wall_s": round(wall, 1),
              "wclust_commit": wclust_commit(), "train_images": train_images(train),
              "load_average": round(os.getloadavg()[0], 1), "batch_order": "same" if same_order else "shuffled",
              "clustered": measure(clustered, test), "fine_tuned": measure(final, test)}
    record.update(extra)
    log(f"{method} k={k} seed={seed}: after clustering {record['clustered']['accuracy']:.4f}, fine-tuned "
        f"{record['fine_tuned']['accuracy']:.4f}, {record['fine_tuned']['zipped_bytes']} zipped bytes")
    return record


def train_images(train_npz):
    import numpy as np
    with np.load(train_npz) as data:
        return int(data["y"].shape[0])


def wclust_commit():
    """HEAD of the working tree, with -dirty when it has uncommitted changes to tracked files."""
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "diff", "--quiet", "HEAD", "--", "."]).returncode != 0
        return head + ("-dirty" if dirty else "")
    except (subprocess.CalledProcessError, OSError):
        return "unknown"


def load_runs(path):
    runs = []
    if os.path.exists(path):
        with open(path) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    return runs


def main(argv):
    if len(argv) > 1 and argv[1] == "--size-table":  # scripts/bench-size-table.sh: the same setup, another table
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import bench_size_table
        return bench_size_table.main([argv[0]] + argv[2:])
    if len(argv) > 1 and argv[1] == "_tfmot":
        p = argparse.ArgumentParser()
        for name in ("--model", "--model-dir", "--train", "--init", "--out"):
            p.add_argument(name, required=True)
        p.add_argument("--k", type=int, required=True)
        p.add_argument("--seed", type=int, required=True)
        p.add_argument("--no-shuffle", action="store_true", help="fine-tune in the file's order")
        return run_tfmot(p.parse_args(argv[2:]))

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="fashion-mnist-cnn", choices=list(MODELS))
    p.add_argument("--ks", default="8,16,32")
    p.add_argument("--seeds", default="1", help="comma-separated training/fine-tuning seeds")
    p.add_argument("--methods", help="comma-separated (default: the model's methods)")
    p.add_argument("--pretrain-epochs", type=int, default=3)
    p.add_argument("--work", default=os.path.join(ROOT, "target", "bench-vs-tfmot"))
    p.add_argument("--runs", help="the run cache, JSON lines (default: benchmarks/runs/MODEL.jsonl)")
    p.add_argument("--results", help="default: benchmarks/RESULTS.md (CNN), RESULTS_BN_MOBILENET.md")
    p.add_argument("--train-images", type=int,
                   help="fine-tune on the first N training images (default: 60000 CNN, 4096 bn-mobilenet)")
    p.add_argument("--same-order", action="store_true",
                   help="both tools fine-tune on one batch order per seed (see above)")
    p.add_argument("--report-only", action="store_true",
                   help="run nothing; write the results from the runs already in --runs")
    args = p.parse_args(argv[1:])
    spec = MODELS[args.model]
    order = "same" if args.same_order else "shuffled"
    runs_path = args.runs or os.path.join(ROOT, "benchmarks", "runs",
                                          f"{args.model}{'-same-order' if args.same_order else ''}.jsonl")
    results = args.results or os.path.join(ROOT, "benchmarks",
                                           spec["same_order_results" if args.same_order else "results"])
    n_train = args.train_images or spec["train_images"]
    ks = [int(k) for k in args.ks.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    methods = args.methods.split(",") if args.methods else MODELS[args.model]["methods"]
    for m in methods:
        if m not in ALL_METHODS:
            raise SystemExit(f"unknown method {m}; valid: {', '.join(ALL_METHODS)}")
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    os.makedirs(os.path.dirname(os.path.abspath(runs_path)), exist_ok=True)
    runs = [r for r in load_runs(runs_path) if r.get("model", "fashion-mnist-cnn") == args.model
            and r.get("batch_order", "shuffled") == order]
    done = {(r["seed"], r["k"], r["method"]) for r in runs}
    started = time.monotonic()
    for seed in [] if args.report_only else seeds:
        model_dir = train_reference(work, args.model, seed, args.pretrain_epochs)
        train = training_subset(model_dir, model_dir, n_train)
        if args.same_order:
            train = same_order_file(train, seed)
        with open(os.path.join(model_dir, "manifest.json")) as f:
            reference = json.load(f)
        for k in ks:
            for method in methods:
                if (seed, k, method) in done:
                    continue
                budget = None
                if method in BUDGET_METHODS:
                    linear = [r for r in runs if (r["seed"], r["k"], r["method"]) == (seed, k, "tfmot-linear")]
                    if not linear:
                        log(f"{method} k={k}: needs tfmot-linear's size first; skipped")
                        continue
                    budget = linear[0]["fine_tuned"]["zipped_bytes"]
                record = run_one(work, args.model, model_dir, train, seed, k, method, budget, args.same_order)
                record["reference"] = reference
                runs.append(record)
                with open(runs_path, "a") as f:
                    f.write(json.dumps(record) + "\n")
    selected = [r for r in runs if r["seed"] in seeds and r["k"] in ks and r["method"] in methods]
    if not selected:
        raise SystemExit(f"no runs of {args.model} in {runs_path} for these seeds, ks and methods")
    first_seed = [r for r in selected if r["seed"] == seeds[0]] or selected
    manifest = first_seed[0]["reference"]  # the reference model's manifest, kept with every run
    write_results(results, args.model, selected, manifest, ks, seeds, methods, time.monotonic() - started,
                  os.path.relpath(os.path.abspath(runs_path), ROOT), args.same_order)
    return 0


# ---------------------------------------------------------------- report

def versions():
    out = {"python": platform.python_version()}
    for module in ("tensorflow", "keras", "tf_keras", "tensorflow_model_optimization", "numpy"):
        try:
            out[module] = subprocess.run([sys.executable, "-c", f"import {module}; print({module}.__version__)"],
                                         capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
                                         check=True).stdout.strip().splitlines()[-1]
        except (subprocess.CalledProcessError, IndexError):
            out[module] = "not installed"
    out["java"] = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    out["wclust commit (report written)"] = wclust_commit()
    return out


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def stat(values):
    mean = statistics.mean(values)
    spread = (max(values) - min(values)) / 2 if len(values) > 1 else 0.0
    return mean, spread


def fmt_acc(values):
    mean, spread = stat([100 * v for v in values])
    return f"{mean:.2f} %" + (f" ± {spread:.2f}" if len(values) > 1 else "")


def fmt_kb(values):
    mean, spread = stat([v / 1000 for v in values])
    return f"{mean:.1f} KB" + (f" ± {spread:.1f}" if len(values) > 1 else "")


def model_description(model, manifest, runs):
    if model == "bn-mobilenet":
        return ("Model: the BatchNorm-heavy MobileNetV2 of `make_bn_mobilenet.py` (keras.applications "
                f"MobileNetV2 alpha 0.35 on Fashion-MNIST padded to 32×32, {manifest['batch_norm_layers']} BatchNorm "
                f"layers, {manifest['parameters']:,} parameters), trained once by that script "
                f"({manifest['epochs']} epochs on {manifest['train_examples']:,} images, seed {manifest['seed']}; "
                f"Keras test accuracy {100 * manifest['keras_test_accuracy']:.2f} %); the seeds below are the "
                "tools' fine-tuning seeds. Clustered: tfmot's default targets (Conv2D and Dense kernels; tfmot "
                "does not cluster DepthwiseConv2D, and the converter folds BatchNorm into the clustered kernels "
                "afterwards), wclust's default targets (Conv2D, DepthwiseConv2D and Dense, BatchNorm folded "
                "before clustering), one codebook per tensor.")
    return ("Model: the Fashion-MNIST CNN of `make_fashion_mnist.py` (Conv2D 32 → Conv2D 64 → "
            f"Dense 128 → Dense 10, {manifest['parameters']:,} parameters), trained {manifest['epochs']} "
            "epochs per seed; all four kernels clustered per tensor.")


def write_results(path, model, runs, manifest, ks, seeds, methods, seconds, runs_name, same_order=False):
    by = {}
    for r in runs:
        by.setdefault((r["k"], r["method"]), []).append(r)
    images = sorted({r.get("train_images", 60000) for r in runs})
    loads = [r["load_average"] for r in runs if "load_average" in r]
    lines = [f"# wclust vs tfmot: accuracy against zipped size ({MODELS[model]['title']})", "",
             "Written by `scripts/bench-vs-tfmot.sh` (benchmarks/bench_vs_tfmot.py"
             f"{' --model ' + model if model != 'fashion-mnist-cnn' else ''}) from the runs kept in "
             f"`{runs_name}`; every number below comes from those runs. "
             f"{model_description(model, manifest, runs)} Fine-tuning for every method: "
             f"{FINE_TUNE['epochs']} epoch over the first {' / '.join(f'{n:,}' for n in images)} training images, "
             f"Adam {FINE_TUNE['learning_rate']:g}, "
             f"batch {FINE_TUNE['batch_size']}"
             + (", in one batch order per seed shared by both tools (the fine-tuning file shuffled once with the "
                "seed, read in file order: `--same-order`)" if same_order else ", each tool shuffling with the seed")
             + ". Measured by the same Python code for both tools: the .tflite "
             "from Python TensorFlow's converter, top-1 accuracy in the TFLite interpreter on the 10,000 test "
             "images, zipped .tflite bytes (deflate), most distinct values in a weight tensor; time = the "
             "tool's clustering + fine-tuning + export (wclust: the whole `wclust cluster` command, JVM start "
             "included).", "",
             f"Seeds: {', '.join(map(str, seeds))} (mean ± half the range over seeds where more than one). "
             f"k: {', '.join(map(str, ks))}. The tools ran {sum(r['wall_s'] for r in runs) / 60:.0f} min in all "
             f"(this invocation took {seconds / 60:.0f} min; runs already in the run cache are not redone)."
             + (f" The machine's 1-minute load average at the end of each run: {min(loads):.1f}–{max(loads):.1f} "
                f"on {os.cpu_count()} cores, so the times are inflated." if loads else ""), ""]
    lines += ["| k | method | seeds | after clustering | after fine-tuning | zipped .tflite | max distinct | time |",
              "|---|---|---|---|---|---|---|---|"]
    for k in ks:
        for m in methods:
            rs = by.get((k, m))
            if not rs:
                continue
            lines.append(f"| {k} | {m} | {','.join(str(r['seed']) for r in rs)} | "
                         f"{fmt_acc([r['clustered']['accuracy'] for r in rs])} | "
                         f"{fmt_acc([r['fine_tuned']['accuracy'] for r in rs])} | "
                         f"{fmt_kb([r['fine_tuned']['zipped_bytes'] for r in rs])} | "
                         f"{max(r['fine_tuned']['max_distinct'] for r in rs)} | "
                         f"{statistics.mean(r['wall_s'] for r in rs):.0f} s |")
    lines += ["", "## Acceptance checks (computed from the table's runs, per seed)", ""]
    lines += acceptance(runs, ks, seeds)
    lines += paired_differences(runs, ks, seeds, methods)
    lines += ["", "## Across k: the accuracy–size front (means over the seeds each point ran)", ""]
    lines += front_domination(by)
    budget = [r for r in runs if r["method"] in BUDGET_METHODS]
    if budget:
        lines += ["", "## Budget modes (`--target-size` = tfmot LINEAR's zipped size at the same k)", "",
                  "| seed | k | method | target bytes | reached (fine-tuned .tflite, zipped) | error | "
                  "multiplier found / k and knee scale per layer |",
                  "|---|---|---|---|---|---|---|"]
        for r in sorted(budget, key=lambda r: (r["seed"], r["k"], r["method"])):
            reached = r["fine_tuned"]["zipped_bytes"]
            rc = r.get("rate_control") or {}
            found = rc.get("rate_weight", "n/a")
            if "clusters_per_layer" in rc:
                scales = rc.get("knee_scale_per_layer", {})
                found = ", ".join(f"{name.split('/')[0]} {k} ({scales[name]:.3g})" if name in scales
                                  else f"{name.split('/')[0]} {k} (n/a)"
                                  for name, k in rc["clusters_per_layer"].items())
            lines.append(f"| {r['seed']} | {r['k']} | {r['method']} | {r['target_bytes']} | {reached} | "
                         f"{100 * (reached - r['target_bytes']) / r['target_bytes']:+.2f} % | {found} |")
    v = versions()
    lines += ["", "## Machine and versions", "",
              f"- CPU: {cpu_name()}, {os.cpu_count()} cores visible (shared with other jobs while measured)",
              f"- OS: {platform.platform()}"]
    lines += [f"- {name}: {ver}" for name, ver in v.items()]
    commits = sorted({r.get("wclust_commit", "not recorded") for r in runs if r["method"].startswith("wclust")})
    lines += [f"- wclust commits of the wclust runs (cached runs keep theirs): {', '.join(commits)}"]
    lines += [f"- reference model (seed {manifest['seed'] if model == 'bn-mobilenet' else seeds[0]}): Keras test "
              f"accuracy {100 * manifest['keras_test_accuracy']:.2f} %", ""]
    png = os.path.splitext(path)[0] + ".png"
    lines += [f"![accuracy against zipped size]({os.path.basename(png)})", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))
    plot(png, by, ks, methods, MODELS[model]["title"])
    log(f"wrote {path}")


def acceptance(runs, ks, seeds):
    out = []
    if len(seeds) > 1:
        out += mean_domination(runs, ks, seeds)
    out += seed_front(runs, seeds)
    for seed in seeds:
        get = {(r["k"], r["method"]): r for r in runs if r["seed"] == seed}
        for k in ks:
            d, kpp, lin = get.get((k, "wclust-default")), get.get((k, "tfmot-kmeans++")), get.get((k, "tfmot-linear"))
            if d and kpp and lin:
                acc_ok = d["fine_tuned"]["accuracy"] >= kpp["fine_tuned"]["accuracy"] - 0.002
                size_ok = d["fine_tuned"]["zipped_bytes"] <= lin["fine_tuned"]["zipped_bytes"]
                out.append(f"- seed {seed}, k={k}: wclust default {100 * d['fine_tuned']['accuracy']:.2f} % vs tfmot "
                           f"KMEANS_PLUS_PLUS − 0.2 = {100 * kpp['fine_tuned']['accuracy'] - 0.2:.2f} %: "
                           f"{'holds' if acc_ok else 'FAILS'}; size {d['fine_tuned']['zipped_bytes']} ≤ tfmot LINEAR "
                           f"{lin['fine_tuned']['zipped_bytes']}: {'holds' if size_ok else 'FAILS'}")
            o = get.get((k, "wclust-optimal"))
            if d and o:
                ok = d["clustered"]["accuracy"] >= o["clustered"]["accuracy"] - 0.005
                out.append(f"- seed {seed}, k={k}: without fine-tuning, default {100 * d['clustered']['accuracy']:.2f} % "
                           f"vs optimal − 0.5 = {100 * o['clustered']['accuracy'] - 0.5:.2f} %: "
                           f"{'holds' if ok else 'FAILS'}")
            tf_points = [r for (kk, m), r in get.items() if kk == k and m.startswith("tfmot-")]
            wc_points = [(m, r) for (kk, m), r in get.items() if kk == k and m.startswith("wclust-")]
            dominating = [m for m, r in wc_points if tf_points and all(
                r["fine_tuned"]["accuracy"] >= t["fine_tuned"]["accuracy"]
                and r["fine_tuned"]["zipped_bytes"] <= t["fine_tuned"]["zipped_bytes"] for t in tf_points)]
            if tf_points and wc_points:
                out.append(f"- seed {seed}, k={k}: wclust settings dominating every tfmot point (accuracy ≥, size ≤): "
                           f"{', '.join(dominating) if dominating else 'NONE'}")
            for method in BUDGET_METHODS:
                b = get.get((k, method))
                if not b:
                    continue
                err = abs(b["fine_tuned"]["zipped_bytes"] - b["target_bytes"]) / b["target_bytes"]
                line = (f"- seed {seed}, k={k}: {method} size within 3 % of target: "
                        f"{'holds' if err <= 0.03 else 'FAILS'} ({100 * err:.2f} %)")
                if lin:
                    better = b["fine_tuned"]["accuracy"] > lin["fine_tuned"]["accuracy"]
                    line += (f"; at tfmot LINEAR's size, accuracy {100 * b['fine_tuned']['accuracy']:.2f} % vs "
                             f"{100 * lin['fine_tuned']['accuracy']:.2f} %: {'more accurate' if better else 'NOT more accurate'}")
                out.append(line)
    return out


def paired_differences(runs, ks, seeds, methods):
    """Per k, every wclust method minus every tfmot method, seed by seed: mean ± standard error."""
    out = []
    for k in ks:
        get = {(r["seed"], r["method"]): r for r in runs if r["k"] == k and r["seed"] in seeds}
        for w in (m for m in methods if m.startswith("wclust-")):
            for t in (m for m in methods if m.startswith("tfmot-")):
                both = [s for s in seeds if (s, w) in get and (s, t) in get]
                if len(both) < 2:
                    continue
                acc = [100 * (get[s, w]["fine_tuned"]["accuracy"] - get[s, t]["fine_tuned"]["accuracy"]) for s in both]
                size = [get[s, w]["fine_tuned"]["zipped_bytes"] / get[s, t]["fine_tuned"]["zipped_bytes"] for s in both]
                se = statistics.stdev(acc) / len(acc) ** 0.5
                out.append(f"| {k} | {w} − {t} | {len(both)} | {statistics.mean(acc):+.2f} ± {se:.2f} | "
                           f"{min(acc):+.2f} … {max(acc):+.2f} | {statistics.mean(size):.3f} "
                           f"({min(size):.3f} … {max(size):.3f}) |")
    if not out:
        return []
    return ["", "## Paired by seed: wclust − tfmot (same reference model and seed)", "",
            "| k | difference | seeds | accuracy after fine-tuning, points (mean ± s.e.) | range | "
            "zipped size ratio, mean (range) |", "|---|---|---|---|---|---|"] + out


def front_domination(by):
    """For every tfmot point (k, method), the wclust points at any k with accuracy ≥ and size ≤ (on the means)."""
    mean = {key: (statistics.mean(r["fine_tuned"]["accuracy"] for r in rs),
                  statistics.mean(r["fine_tuned"]["zipped_bytes"] for r in rs)) for key, rs in by.items()}
    out = []
    for (k, m), (acc, size) in sorted(mean.items()):
        if not m.startswith("tfmot-"):
            continue
        better = [f"{wm} k={wk} ({100 * wa:.2f} %, {ws / 1000:.1f} KB)" for (wk, wm), (wa, ws) in sorted(mean.items())
                  if wm.startswith("wclust-") and wa >= acc and ws <= size]
        out.append(f"- {m} k={k} ({100 * acc:.2f} %, {size / 1000:.1f} KB): dominated by "
                   f"{', '.join(better) if better else 'NONE'}")
    return out


def seed_front(runs, seeds):
    """Per seed, the accuracy-size front: is every tfmot point dominated by some wclust point at any k?"""
    out = []
    for seed in seeds:
        mine = [r for r in runs if r["seed"] == seed]
        tf_points = sorted((r for r in mine if r["method"].startswith("tfmot-")), key=lambda r: (r["k"], r["method"]))
        if not tf_points:
            continue
        undominated = []
        for t in tf_points:
            better = [r for r in mine if r["method"].startswith("wclust-")
                      and r["fine_tuned"]["accuracy"] >= t["fine_tuned"]["accuracy"]
                      and r["fine_tuned"]["zipped_bytes"] <= t["fine_tuned"]["zipped_bytes"]]
            if not better:
                undominated.append(f"{t['method']} k={t['k']}")
        out.append(f"- seed {seed}, any k: tfmot points not dominated by a wclust point of this seed (accuracy ≥, "
                   f"size ≤): {', '.join(undominated) if undominated else f'none of {len(tf_points)}'}")
    return out


def mean_domination(runs, ks, seeds):
    """Domination on the means over the seeds that ran every method at k (accuracy ≥, size ≤)."""
    out = []
    for k in ks:
        at_k = [r for r in runs if r["k"] == k and r["seed"] in seeds]
        methods = sorted({r["method"] for r in at_k})
        complete = [s for s in seeds if {r["method"] for r in at_k if r["seed"] == s} == set(methods)]
        if len(complete) < 2 or not any(m.startswith("tfmot-") for m in methods):
            continue
        mean = {m: (statistics.mean(r["fine_tuned"]["accuracy"] for r in at_k if r["method"] == m and r["seed"] in complete),
                    statistics.mean(r["fine_tuned"]["zipped_bytes"] for r in at_k if r["method"] == m and r["seed"] in complete))
                for m in methods}
        tf_points = [v for m, v in mean.items() if m.startswith("tfmot-")]
        dominating = [m for m, (acc, size) in mean.items() if m.startswith("wclust-")
                      and all(acc >= a and size <= s for a, s in tf_points)]
        out.append(f"- mean over seeds {','.join(map(str, complete))}, k={k}: wclust settings dominating every tfmot "
                   f"point (accuracy ≥, size ≤): {', '.join(dominating) if dominating else 'NONE'}")
    return out


def plot(path, by, ks, methods, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for m in methods:
        pts = []
        for k in ks:
            rs = by.get((k, m))
            if rs:
                pts.append((statistics.mean(r["fine_tuned"]["zipped_bytes"] for r in rs) / 1000,
                            100 * statistics.mean(r["fine_tuned"]["accuracy"] for r in rs), k))
        if not pts:
            continue
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=m,
                linestyle="--" if m.startswith("tfmot") else "-")
        for x, y, k in pts:
            ax.annotate(f"k={k}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("zipped .tflite (KB)")
    ax.set_ylabel("test accuracy after fine-tuning (%)")
    ax.set_title(f"{title}: accuracy against zipped size (up and left is better)", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

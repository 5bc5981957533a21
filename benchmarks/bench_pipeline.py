#!/usr/bin/env python3
"""The whole `wclust cluster` command on real-sized models: wall time per stage and peak RSS of the
process, against tfmot cluster_weights + strip_clustering + save on the same architecture, same run.

Usage (scripts/bench-pipeline.sh runs it with the project's .venv):
  bench_pipeline.py [--models MobileNetV2,ResNet50,ConvNeXtBase] [--work DIR] [--classpath JAR:CP]
                    [--no-tfmot] [--check] [--keep] [--runs N] [--java-opts OPTS] [--jvm-defaults]

Models: keras.applications with seeded random weights and randomised BatchNorm statistics, exported
with Keras 3 model.export() by benchmarks/make_pipeline_models.py (kept in WORK/models between runs).
Runs per model: `cluster MODEL --clusters 16 --no-size` (the default init), for MobileNetV2 also
`--clusters 32 --init optimal --no-size` and for ResNet50 `--clusters 16 --init optimal --no-size`
(the per-tensor clustering the speed targets of issue #13 were set with). Each of these can also run
with --plain-fold (no BatchNorm-safe codebooks) when --configs names it with "-plain-fold" appended
(e.g. --configs k16,k16-plain-fold), to show what that rule costs. Stage
times come from the report's timings (load_s, cluster_s, export_s and, when the build reports them,
timings.stages); peak RSS is the java process's ru_maxrss (wait4). The java process runs with the
launcher's JVM options (scripts/wclust-jvm.options) and MALLOC_ARENA_MAX=2, as ./wclust does, unless
--jvm-defaults. With --check, each clustered
SavedModel is converted (wclust convert) and the TFLite interpreter's output is compared with the
clustered SavedModel's on the fixture's two images. --classpath runs another build (e.g. a copy of
the jars from before a change) for a before/after table; its outputs land in WORK/out-<label>.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
MAIN = "org.wclust.models.WclustMain"
# The JVM options and malloc setting ./wclust runs with, so that the measured process is the user's.
LAUNCHER_JVM_OPTIONS = ["@" + os.path.join(ROOT, "scripts", "wclust-jvm.options")]
LAUNCHER_ENV = {"MALLOC_ARENA_MAX": "2"}
# Suffix of the opt-in configs that add --plain-fold (e.g. --configs k16,k16-plain-fold).
PLAIN_FOLD_TAG = "-plain-fold"


def default_classpath():
    target = os.path.join(ROOT, "models", "target")
    with open(os.path.join(target, "classpath.txt")) as f:
        return os.path.join(target, "wclust-models-0.1.0-SNAPSHOT.jar") + ":" + f.read().strip()


def run_measured(cmd, env=None):
    """Runs cmd; returns (wall seconds, peak RSS in MB, stdout+stderr text)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = p.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{out[-3000:]}")
    return wall, usage.ru_maxrss / 1024.0, out


def wclust_cluster(classpath, model_dir, out_dir, extra, java_opts=(), launcher_settings=True):
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    if launcher_settings:
        env.update(LAUNCHER_ENV)
        java_opts = LAUNCHER_JVM_OPTIONS + list(java_opts)
    cmd = ["java", *java_opts, f"-Dwclust.home={ROOT}", "-cp", classpath, MAIN, "cluster", model_dir, "-o", out_dir,
           "--seed", "1"] + extra
    wall, rss, _ = run_measured(cmd, env)
    with open(os.path.join(out_dir, "wclust-report.json")) as f:
        timings = json.load(f).get("timings", {})
    return {"wall_s": wall, "peak_rss_mb": rss, "timings": timings}


# ---------------------------------------------------------------- tfmot (run in its own process)
TFMOT_SCRIPT = r"""
import os, sys, time, json
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tf_keras as keras
import tensorflow_model_optimization as tfmot
name, k, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
keras.utils.set_random_seed(1234)
model = getattr(keras.applications, name)(weights=None, input_shape=(224, 224, 3), classifier_activation=None)
t0 = time.perf_counter()
try:
    clustered = tfmot.clustering.keras.cluster_weights(model, number_of_clusters=k)
except Exception as e:  # an architecture tfmot cannot cluster: say so in the table
    print(json.dumps({"error": type(e).__name__ + ": " + str(e).splitlines()[0][:120]}))
    sys.exit(0)
t1 = time.perf_counter()
stripped = tfmot.clustering.keras.strip_clustering(clustered)
t2 = time.perf_counter()
stripped.save(out)
t3 = time.perf_counter()
print(json.dumps({"cluster_s": t1 - t0, "strip_s": t2 - t1, "save_s": t3 - t2, "total_s": t3 - t0}))
"""


def tfmot_run(name, k, work):
    out = os.path.join(work, f"tfmot-{name}.h5")
    wall, rss, text = run_measured([PY, "-c", TFMOT_SCRIPT, name, str(k), out])
    if os.path.exists(out):
        os.remove(out)
    result = json.loads([line for line in text.splitlines() if line.startswith("{")][-1])
    result.update({"wall_s": wall, "peak_rss_mb": rss})
    return result


# ---------------------------------------------------------------- TFLite parity
CHECK_SCRIPT = r"""
import json, sys, os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, tensorflow as tf
saved, tflite, fixture = sys.argv[1:4]
with open(fixture) as f:
    spec = json.load(f)
(key, x), = spec["inputs"].items()
x = np.array(x["data"], np.float32).reshape(x["shape"])
sig = tf.saved_model.load(saved).signatures["serving_default"]
want = list(sig(**{key: tf.constant(x)}).values())[0].numpy()
it = tf.lite.Interpreter(model_path=tflite)
inp = it.get_input_details()[0]
it.resize_tensor_input(inp["index"], x.shape)
it.allocate_tensors()
it.set_tensor(inp["index"], x)
it.invoke()
got = it.get_tensor(it.get_output_details()[0]["index"])
print(json.dumps({"max_abs_diff": float(np.abs(got - want).max()), "max_abs_output": float(np.abs(want).max())}))
"""


def tflite_check(classpath, out_dir, fixture_json, work):
    tflite = os.path.join(work, os.path.basename(out_dir) + ".tflite")
    if os.path.exists(tflite):
        os.remove(tflite)
    subprocess.run(["java", f"-Dwclust.home={ROOT}", "-cp", classpath, MAIN, "convert", out_dir, "-o", tflite],
                   check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    text = subprocess.run([PY, "-c", CHECK_SCRIPT, out_dir, tflite, fixture_json], check=True,
                          capture_output=True, text=True).stdout
    os.remove(tflite)
    return json.loads(text.strip().splitlines()[-1])


def safe(label):
    return "".join(c if c.isalnum() else "_" for c in label)


def same_savedmodel(a, b):
    """True when both SavedModels have the same files with the same bytes (the report aside: it has timings)."""
    def files(root):
        out = {}
        for d, _, names in os.walk(root):
            for n in names:
                if n != "wclust-report.json":
                    with open(os.path.join(d, n), "rb") as f:
                        out[os.path.relpath(os.path.join(d, n), root)] = f.read()
        return out
    return os.path.isdir(b) and files(a) == files(b)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="MobileNetV2,ResNet50,ConvNeXtBase")
    p.add_argument("--work", default=os.path.join(ROOT, "target", "bench-pipeline"))
    p.add_argument("--classpath", help="java classpath of the build to measure (default: this checkout's)")
    p.add_argument("--label", default="this build", help="name of the build in the table")
    p.add_argument("--no-tfmot", action="store_true", help="skip the tfmot runs")
    p.add_argument("--java-opts", default="",
                   help="JVM options of the wclust runs, after those of scripts/wclust-jvm.options, e.g. '-Xmx2g'")
    p.add_argument("--jvm-defaults", action="store_true",
                   help="run java with its default options and malloc settings instead of the launcher's "
                        "(scripts/wclust-jvm.options, MALLOC_ARENA_MAX=2), as builds before them were measured")
    p.add_argument("--configs", help="only these runs, e.g. k16,k16-optimal,k16-plain-fold")
    p.add_argument("--check", action="store_true", help="convert each output and compare TFLite with it")
    p.add_argument("--compare-with", metavar="LABEL",
                   help="compare each clustered SavedModel byte for byte with the one a run --label LABEL wrote")
    p.add_argument("--runs", type=int, default=1, help="repetitions of each wclust run (the table shows the fastest)")
    args = p.parse_args(argv[1:])
    load_at_start = os.getloadavg()[0]
    classpath = args.classpath or default_classpath()
    work = os.path.abspath(args.work)
    models_dir = os.path.join(work, "models")
    names = args.models.split(",")
    subprocess.run([PY, os.path.join(ROOT, "benchmarks", "make_pipeline_models.py"), models_dir] + names, check=True)
    label_dir = "out-" + safe(args.label)
    rows = []
    for name in names:
        configs = [("k16", ["--clusters", "16", "--no-size"])]
        if name == "MobileNetV2":
            configs.append(("k32-optimal", ["--clusters", "32", "--init", "optimal", "--no-size"]))
        if name == "ResNet50":
            configs.append(("k16-optimal", ["--clusters", "16", "--init", "optimal", "--no-size"]))
        # Only when named in --configs: the same runs without the BatchNorm-safe codebooks, to show what
        # that rule costs.
        configs += [(tag + PLAIN_FOLD_TAG, extra + ["--plain-fold"]) for tag, extra in configs]
        for tag, extra in configs:
            if args.configs and tag not in args.configs.split(",") \
                    or not args.configs and tag.endswith(PLAIN_FOLD_TAG):
                continue
            out_dir = os.path.join(work, label_dir, f"{name}-{tag}")
            best = None
            for _ in range(args.runs):
                log(f"{args.label}: wclust cluster {name} {' '.join(extra)}")
                r = wclust_cluster(classpath, os.path.join(models_dir, name), out_dir, extra, args.java_opts.split(),
                                   not args.jvm_defaults)
                best = r if best is None or r["wall_s"] < best["wall_s"] else best
            row = {"model": name, "run": "wclust " + " ".join(extra), **best}
            if args.compare_with:
                other = os.path.join(work, "out-" + safe(args.compare_with), f"{name}-{tag}")
                row["identical_to"] = {args.compare_with: same_savedmodel(out_dir, other)}
            if args.check:
                row["tflite"] = tflite_check(classpath, out_dir, os.path.join(models_dir, name + ".json"), work)
            rows.append(row)
            log(json.dumps(row))
        if not args.no_tfmot:
            log(f"tfmot cluster_weights {name} k=16")
            t = tfmot_run(name, 16, work)
            rows.append({"model": name, "run": "tfmot cluster_weights k=16 + strip_clustering + save (.h5)", **t})
            log(json.dumps(rows[-1]))
    print_table(rows, f"{args.label}; {os.cpu_count()} cores, 1-minute load average {load_at_start:.1f} at the start, "
                      f"{os.getloadavg()[0]:.1f} at the end")
    with open(os.path.join(work, f"results-{label_dir[4:]}.json"), "w") as f:
        json.dump(rows, f, indent=1)
    return 0


def fmt(v):
    return "" if v is None else f"{v:.2f}"


def print_table(rows, label):
    print(f"\nbench-pipeline ({label}); seconds and MB of the whole process\n")
    head = ["model", "run", "wall s", "peak RSS MB", "load_s", "cluster_s", "export_s", "stages (s)",
            "TFLite max |diff| / max |y|", "same bytes as"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        if "error" in r:
            cells = [r["model"], r["run"], "fails: " + r["error"]] + [""] * (len(head) - 3)
        elif r["run"].startswith("tfmot"):
            cells = [r["model"], r["run"], f"{r['total_s']:.2f} (process {r['wall_s']:.1f})", f"{r['peak_rss_mb']:.0f}",
                     "", f"{r['cluster_s']:.2f}", f"{r['save_s']:.2f}", f"strip {r['strip_s']:.2f}"] \
                + [""] * (len(head) - 8)
        else:
            t = r.get("timings", {})
            check = r.get("tflite")
            stages = ", ".join(f"{k} {v:.2f}" for k, v in t.get("stages", {}).items())
            cells = [r["model"], r["run"], f"{r['wall_s']:.2f}", f"{r['peak_rss_mb']:.0f}",
                     fmt(t.get("load_s")), fmt(t.get("cluster_s")), fmt(t.get("export_s")), stages,
                     f"{check['max_abs_diff']:.1e} / {check['max_abs_output']:.2f}" if check else "",
                     ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in r.get("identical_to", {}).items())]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

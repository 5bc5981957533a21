#!/usr/bin/env python3
"""One wclust run on a reference model of bench_vs_tfmot.py, fine-tuned and measured exactly as there.

Usage (after scripts/bench-vs-tfmot.sh has trained the seed's model):
  .venv/bin/python benchmarks/bench_one_wclust.py [--model bn-mobilenet] SEED K LABEL [--shuffle-seed S]
                                                  [wclust flags...]

Clusters target/bench-vs-tfmot/cnn-seedSEED/model (--model bn-mobilenet: the one BatchNorm MobileNetV2
in target/bench-vs-tfmot/bn, SEED then being only the fine-tuning seed, as in the benchmark) at K with
the given flags, fine-tunes it with the benchmark's budget (1 epoch, Adam 1e-4, batch 64, on all the
CNN's training images or bn-mobilenet's first 4,096; --shuffle-seed sets wclust's --seed, default SEED),
converts it with Python TensorFlow, measures it with bench_vs_tfmot.measure (TFLite accuracy on the
10,000 test images, zipped bytes) and prints one JSON line, also appended to
target/bench-vs-tfmot/one-runs.jsonl. Used for the hand experiments in README (e.g. the fine-tuning
noise from the shuffle order, and --init linear --no-refine against tfmot LINEAR).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_tfmot as bench  # noqa: E402


def main(argv):
    model = "fashion-mnist-cnn"
    if argv[1:2] == ["--model"]:
        model, argv = argv[2], argv[:1] + argv[3:]
    if model not in bench.MODELS:
        raise SystemExit(f"unknown model {model}; valid: {', '.join(bench.MODELS)}")
    seed, k, label = int(argv[1]), int(argv[2]), argv[3]
    flags = argv[4:]
    shuffle = str(seed)
    if flags[:1] == ["--shuffle-seed"]:
        shuffle, flags = flags[1], flags[2:]
    work = os.path.join(bench.ROOT, "target", "bench-vs-tfmot")
    model_dir = os.path.join(work, "bn" if model == "bn-mobilenet" else f"cnn-seed{seed}")
    # The benchmark's own fine-tuning file (its first N training images), made when missing.
    train = bench.training_subset(model_dir, model_dir, bench.MODELS[model]["train_images"])
    run_dir = os.path.join(work, "one", f"{model}-{label}-s{seed}-k{k}")
    subprocess.run(["rm", "-rf", run_dir], check=True)
    os.makedirs(run_dir)
    tuned = os.path.join(run_dir, "tuned_savedmodel")
    t = bench.FINE_TUNE
    start = time.monotonic()
    bench.sh([os.path.join(bench.ROOT, "wclust"), "cluster", os.path.join(model_dir, "model"), "--clusters", str(k),
              "--seed", shuffle, "--no-size", "-o", tuned, "--data", train,
              "--scale", repr(bench.SCALE), "--epochs", str(t["epochs"]), "--batch-size", str(t["batch_size"]),
              "--learning-rate", repr(t["learning_rate"])] + flags)
    wall = time.monotonic() - start
    tflite = os.path.join(run_dir, "model.tflite")
    bench.convert_saved_model(tuned, tflite)
    record = {"model": model, "seed": seed, "k": k, "label": label, "shuffle_seed": int(shuffle), "flags": flags,
              "wall_s": round(wall, 1), "wclust_commit": bench.wclust_commit(),
              "fine_tuned": bench.measure(tflite, os.path.join(model_dir, "test.npz"))}
    print(json.dumps(record))
    with open(os.path.join(work, "one-runs.jsonl"), "a") as f:
        f.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Accuracy before fine-tuning and zipped size of the Fashion-MNIST CNN for several knee rate weights.

How README's "How the knee's weight depends on k" was measured: for each seed, k and effective weight W
(the multiple of the optimal mean squared error at k that one bit of index entropy is worth for the
largest kernel, `--rate-weight` times ClusterRewriter.kneeScale(k)), `wclust cluster --clusters K --no-size`
without fine-tuning, converted by Python TensorFlow and measured as bench_vs_tfmot.py measures (TFLite
interpreter accuracy on the 10,000 test images, zipped .tflite bytes). "optimal" runs `--init optimal`.
The reference models are bench-vs-tfmot's (train them first with scripts/bench-vs-tfmot.sh).

Usage: knee_weight_sweep.py --ks 4,32 --weights optimal,4,16 --seeds 1,2,3 [--work DIR] [--runs FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import bench_vs_tfmot as bench  # noqa: E402


def knee_scale(k):
    """ClusterRewriter.kneeScale: (k/8)^2 below 8, 1 from 8 to 16, k/16 above."""
    return (k / 8) ** 2 if k < 8 else 1.0 if k <= 16 else k / 16


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ks", default="4,32")
    p.add_argument("--weights", default="optimal,16")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--work", default=os.path.join(ROOT, "target", "bench-vs-tfmot"))
    p.add_argument("--runs", default=os.path.join(HERE, "runs", "knee-weight-sweep.jsonl"))
    args = p.parse_args(argv[1:])
    for seed in [int(s) for s in args.seeds.split(",")]:
        model_dir = os.path.join(args.work, f"cnn-seed{seed}")
        for k in [int(s) for s in args.ks.split(",")]:
            for w in args.weights.split(","):
                with tempfile.TemporaryDirectory() as tmp:
                    out = os.path.join(tmp, "clustered")
                    flags = ["--init", "optimal"] if w == "optimal" else ["--rate-weight", repr(float(w) / knee_scale(k))]
                    subprocess.run([os.path.join(ROOT, "wclust"), "cluster", os.path.join(model_dir, "model"),
                                    "--clusters", str(k), "--seed", str(seed), "--no-size", "-o", out] + flags,
                                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    bench.convert_saved_model(out, out + ".tflite")
                    m = bench.measure(out + ".tflite", os.path.join(model_dir, "test.npz"))
                record = {"seed": seed, "k": k, "effective_weight": w, "flags": flags, "accuracy": m["accuracy"],
                          "zipped_bytes": m["zipped_bytes"], "wclust_commit": bench.wclust_commit()}
                print(json.dumps(record), flush=True)
                with open(args.runs, "a") as f:
                    f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv))

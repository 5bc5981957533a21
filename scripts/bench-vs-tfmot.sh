#!/usr/bin/env bash
# wclust against tfmot on the Fashion-MNIST CNN: accuracy after fine-tuning against zipped .tflite size.
# Installs the pinned benchmark packages into .venv (scripts/setup-python.sh --bench), builds the CLI
# jar when missing, and runs benchmarks/bench_vs_tfmot.py, which keeps its runs in
# benchmarks/runs/MODEL.jsonl and writes benchmarks/RESULTS.md and RESULTS.png (--model bn-mobilenet:
# RESULTS_BN_MOBILENET.md/.png). Arguments go to it, e.g. --ks 8,16,32 --seeds 1,2,3 or --report-only
# (see its --help); a first argument --size-table runs benchmarks/bench_size_table.py instead.
# A full run (k 8,16,32, one seed) takes about 20 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup-python.sh" --bench
"$root/scripts/setup-data.sh"
jar="$root/models/target/wclust-models-0.1.0-SNAPSHOT.jar"
if [ ! -f "$jar" ] || [ ! -f "$root/models/target/classpath.txt" ]; then
  (cd "$root" && mvn -q -B -Dstyle.color=never -DskipTests package -pl models -am) >&2
fi
export TF_CPP_MIN_LOG_LEVEL=3
exec "$root/.venv/bin/python" "$root/benchmarks/bench_vs_tfmot.py" "$@"

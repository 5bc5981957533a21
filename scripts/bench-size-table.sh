#!/usr/bin/env bash
# The seed's size table against tfmot: MobileNetV1, MobileNetV2 and DS-CNN-L (Keras, random weights with
# random BatchNorm statistics), full and selective clustering, zipped .tflite measured by the same code.
# Installs the pinned benchmark packages into .venv (scripts/setup-python.sh --bench), builds the CLI jar
# when missing, and runs benchmarks/bench_size_table.py, which appends its runs to
# benchmarks/runs/size_table.jsonl (runs already there are not redone) and writes benchmarks/SIZE_TABLE.md.
# Arguments go to it, e.g. --models ds_cnn_l or --report-only (see its --help).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup-python.sh" --bench
jar="$root/models/target/wclust-models-0.1.0-SNAPSHOT.jar"
if [ ! -f "$jar" ] || [ ! -f "$root/models/target/classpath.txt" ]; then
  (cd "$root" && mvn -q -B -Dstyle.color=never -DskipTests package -pl models -am) >&2
fi
export TF_CPP_MIN_LOG_LEVEL=3
exec "$root/.venv/bin/python" "$root/benchmarks/bench_size_table.py" "$@"

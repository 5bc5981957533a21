#!/usr/bin/env bash
# The seed's size table against tfmot: MobileNetV1, MobileNetV2 and DS-CNN-L (Keras, random weights with
# random BatchNorm statistics), full and selective clustering, zipped .tflite measured by the same code.
# Runs benchmarks/bench_size_table.py through scripts/bench-vs-tfmot.sh (same setup: pinned benchmark
# packages, CLI jar), which appends its runs to benchmarks/runs/size_table.jsonl (runs already there are
# not redone) and writes benchmarks/SIZE_TABLE.md. Arguments go to it, e.g. --models ds_cnn_l or
# --report-only (see its --help).
set -euo pipefail
exec "$(cd "$(dirname "$0")" && pwd)/bench-vs-tfmot.sh" --size-table "$@"

#!/usr/bin/env bash
# The whole `wclust cluster` command on MobileNetV2, ResNet50 and ConvNeXtBase (Keras applications with
# random weights, exported by model.export()): wall time per stage and peak RSS, against tfmot's
# cluster_weights + strip_clustering + save in the same run. Installs the pinned benchmark packages into
# .venv (scripts/setup-python.sh --bench), builds the CLI jar when missing, and runs
# benchmarks/bench_pipeline.py; arguments go to it, e.g. --models ResNet50 --check (see its --help).
# The first run exports the three models (about 1 GB under target/bench-pipeline/models, a few minutes);
# a full run then takes about 10 minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup-python.sh" --bench
jar="$root/models/target/wclust-models-0.1.0-SNAPSHOT.jar"
if [ ! -f "$jar" ] || [ ! -f "$root/models/target/classpath.txt" ]; then
  (cd "$root" && mvn -q -B -Dstyle.color=never -DskipTests package -pl models -am) >&2
fi
export TF_CPP_MIN_LOG_LEVEL=3
exec "$root/.venv/bin/python" "$root/benchmarks/bench_pipeline.py" "$@"

#!/usr/bin/env bash
# Fine-tuning step-time benchmark: a clustered step against a plain training step of the same model and
# batch (prints a Markdown table; target ratio <= 1.25).
# Arguments go to org.wclust.models.bench.FineTuneBenchmark, e.g. --batch 32,64,128 --k 8 --runs 3
#   --model integration-tests/target/fashion-mnist/model --data integration-tests/target/fashion-mnist/train.npz --scale 1
# Runs on this checkout's own classes (module target/classes before the jars of classpath.txt), so a
# stale optimizer jar in ~/.m2 is never used. Builds with `mvn package` (never install) when needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -f "$root/models/target/classes/org/wclust/models/bench/FineTuneBenchmark.class" ] \
    || [ ! -f "$root/models/target/classpath.txt" ]; then
  (cd "$root" && mvn -q -B -Dstyle.color=never -DskipTests package -pl models -am) >&2
fi
cp="$root/models/target/classes:$root/optimizer/target/classes:$root/converter-bridge/target/classes"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
exec java -Xmx4g -cp "$cp:$(cat "$root/models/target/classpath.txt")" org.wclust.models.bench.FineTuneBenchmark "$@"

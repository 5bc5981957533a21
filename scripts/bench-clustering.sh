#!/usr/bin/env bash
# Clustering speed benchmark on a MobileNetV2-sized workload (prints a Markdown table).
# Arguments go to org.wclust.models.bench.ClusteringBenchmark, e.g. --methods optimal --k 32 --runs 5
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jar="$root/models/target/wclust-models-0.1.0-SNAPSHOT.jar"
if [ ! -f "$jar" ] || [ ! -f "$root/models/target/classpath.txt" ]; then
  (cd "$root" && mvn -q -B -Dstyle.color=never -DskipTests install -pl models -am) >&2
fi
exec java -Xmx8g -cp "$jar:$(cat "$root/models/target/classpath.txt")" org.wclust.models.bench.ClusteringBenchmark "$@"

#!/usr/bin/env bash
# Streaming benchmark: fine-tunes the Fashion-MNIST CNN (k = 8, one epoch) on N generated 28x28 examples
# read as an uncompressed .npz (memory-mapped), a PNG class folder and sharded TFRecords of PNGs, with the
# JVM heap limited to 1 GiB, and prints a Markdown table: training throughput (examples/s, from wclust's
# progress line), wall time and peak RSS (GNU time) per input.
# Usage: scripts/bench-streaming.sh [N] [INPUTS] (default 1000000 and npz,png,tfrecord; INPUTS is a comma
# list of the inputs to generate and run, e.g. npz,tfrecord to skip a folder of N PNG files). The data
# (about 1.2 KB per example in PNG files plus as much again in TFRecords and 0.8 KB in the .npz) goes to
# target/bench-streaming/N; the CNN is the integration tests' Fashion-MNIST fixture (made on first use, a
# few minutes).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-1000000}"
inputs="${2:-npz,png,tfrecord}"
py="$root/.venv/bin/python"
fixture="$root/integration-tests/target/fashion-mnist"
work="$root/target/bench-streaming/$n"
if [ ! -f "$fixture/manifest.json" ]; then
  "$py" "$root/integration-tests/src/test/python/make_fashion_mnist.py" "$fixture" >&2
fi
echo "generating $n examples in $work ($inputs; forms already there are kept) ..." >&2
"$py" "$root/benchmarks/make_stream_data.py" "$fixture/train.npz" "$work" --count "$n" --inputs "$inputs" >&2
if [ ! -f "$root/models/target/classpath.txt" ] || [ ! -f "$root/optimizer/target/classes/org/wclust/internal/data/ImageData.class" ]; then
  (cd "$root" && mvn -q -B -Dstyle.color=never -DskipTests package -pl models -am) >&2
fi
cp="$root/models/target/classes:$root/optimizer/target/classes:$root/converter-bridge/target/classes"
cp="$cp:$(cat "$root/models/target/classpath.txt")"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
echo "| input | examples | train examples/s | wall s | peak RSS MB |"
echo "|---|---|---|---|---|"
run() {
  local key="$1" name="$2"; shift 2
  local out="$work/out-$key" log="$work/$key.log" rss="$work/$key.rss"
  rm -rf "$out"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$rss" java -Xmx1g -cp "$cp" org.wclust.models.WclustMain cluster "$fixture/model" \
    -o "$out" --clusters 8 --scale 0.00392156862745098 --no-size --epochs 1 --val "$fixture/test.npz" "$@" \
    > "$log" 2> "$log.err" || { echo "wclust failed on $name, see $log.err" >&2; tail -3 "$log.err" >&2; exit 1; }
  t1=$(date +%s.%N)
  local speed
  speed=$(grep -oE '[0-9]+ examples/s' "$log" | tail -1 | cut -d' ' -f1)
  printf '| %s | %s | %s | %.0f | %.0f |\n' "$name" "$n" "$speed" "$(echo "$t1 - $t0" | bc)" "$(echo "$(cat "$rss") / 1024" | bc -l)"
}
# wclust maps an uncompressed .npz whose inputs would exceed 256 MiB as float32; smaller ones it loads
npz_mode="in memory"
if (( n * 784 * 4 > 256 * 1024 * 1024 )); then npz_mode="memory-mapped"; fi
for input in ${inputs//,/ }; do
  case "$input" in
    npz) run npz ".npz ($npz_mode)" --data "$work/data.npz" ;;
    png) run png "PNG folder" --data "$work/png" ;;
    tfrecord) run tfrecord "TFRecord shards of PNGs" --data "$work/tfrecord" --features image:image,label:label ;;
  esac
done

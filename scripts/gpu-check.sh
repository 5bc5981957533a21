#!/usr/bin/env bash
# GPU check: fine-tunes the Fashion-MNIST CNN (clustered, k = 8) with TensorFlow Java's GPU natives
# (Maven profile gpu, as WCLUST_GPU=1 ./wclust does) and with the CPU natives, and prints the step
# times of both (scripts/bench-finetune.sh's FineTuneBenchmark) and the device TensorFlow placed the
# ops on. Exits with status 3 and one line when this machine has no NVIDIA GPU; no test needs one.
# Extra arguments go to FineTuneBenchmark (default: --batch 64,256 --k 8 --runs 3).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! command -v nvidia-smi > /dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  echo "gpu-check: no NVIDIA GPU on this machine (nvidia-smi is missing or lists none); the GPU natives (-Pgpu, WCLUST_GPU=1) need one with a CUDA driver" >&2
  exit 3
fi
nvidia-smi -L
fixture="$root/integration-tests/target/fashion-mnist"
if [ ! -f "$fixture/manifest.json" ]; then
  "$root/.venv/bin/python" "$root/integration-tests/src/test/python/make_fashion_mnist.py" "$fixture" >&2
fi
target="$root/models/target"
if [ ! -f "$target/classpath.txt" ]; then
  (cd "$root" && mvn -q -B -Dstyle.color=never -DskipTests package -pl models -am) >&2
fi
if [ ! -f "$target/classpath-gpu.txt" ]; then
  # the same classes; only the natives on the classpath differ (the GPU jar is about 526 MB)
  (cd "$root" && mvn -q -B -Dstyle.color=never -DskipTests -Pgpu package -pl models -am) >&2
fi
classes="$root/models/target/classes:$root/optimizer/target/classes:$root/converter-bridge/target/classes"
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=(--batch 64,256 --k 8 --runs 3)
fi
args+=(--model "$fixture/model" --data "$fixture/train.npz" --scale 0.00392156862745098)
for kind in cpu gpu; do
  cpfile="$target/classpath.txt"
  [ "$kind" = gpu ] && cpfile="$target/classpath-gpu.txt"
  echo "## $kind natives"
  # TF_CPP_MIN_LOG_LEVEL=0 makes TensorFlow log the devices it creates: show those lines.
  TF_CPP_MIN_LOG_LEVEL=0 java -Xmx4g -cp "$classes:$(cat "$cpfile")" org.wclust.models.bench.FineTuneBenchmark \
    "${args[@]}" 2> "$target/gpu-check-$kind.err"
  grep -E 'Created device|Could not find cuda|no CUDA' "$target/gpu-check-$kind.err" | sed 's/^/    /' | head -5 || true
done

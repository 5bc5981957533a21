#!/usr/bin/env bash
# TFLM lookup-table compression benchmark: clusters the bundled demo CNN and Keras MobileNetV2
# (224, alpha 1, random weights, made by integration-tests/src/test/python/make_keras_mobilenet_v2.py)
# at k = 16, converts each to float, int8 (clustered with --int8-aware) and int8-per-tensor (clustered
# as for float) .tflite, compresses them with 'wclust convert --compress'
# (verified in TFLM's interpreter) and prints a Markdown table: .tflite bytes, compressed bytes, ratio,
# weight tensors compressed, and the wall time of 'wclust convert --compress' (conversion, compression
# and TFLM verification on 3 inputs). Work files go to a temporary directory (or --keep DIR).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work=""
if [ "${1:-}" = "--keep" ]; then
  work="$2"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
wclust="$root/wclust"
python="$root/.venv/bin/python"
k=16

now() { date +%s.%N; }

# Representative/verification inputs in [0, 1): 8 images of the model's input shape.
inputs() { # SHAPE OUT.npz
  "$python" -c "import numpy as np; np.savez('$2', x=np.random.default_rng(0).random((8,$1)).astype(np.float32))"
}

# name, clustered SavedModel, quantize (none|int8|int8-per-tensor), data
row() {
  local name="$1" model="$2" quantize="$3" data="$4"
  local plain="$work/$name.tflite" lut="$work/$name.tflm.tflite"
  local q=()
  if [ "$quantize" != none ]; then q=(--quantize "$quantize"); fi
  "$wclust" convert "$model" -o "$plain" "${q[@]}" --data "$data" > /dev/null
  local t0 t1
  t0=$(now)
  "$wclust" convert "$model" -o "$lut" "${q[@]}" --compress --data "$data" > /dev/null
  t1=$(now)
  "$python" - "$plain" "$lut" "$name" "$quantize" "$t0" "$t1" <<'EOF'
import json, os, sys
plain, lut, name, quantize, t0, t1 = sys.argv[1:]
c = json.load(open(lut + ".json"))["compression"]
bits = sorted({t["bits"] for t in c["tensors"] if t["mode"] != "none"})
print(f"| {name} | {quantize} | {os.path.getsize(plain):,} | {c['compressed_tflite_bytes']:,} | "
      f"{c['compressed_tflite_bytes'] / os.path.getsize(plain):.3f} | "
      f"{c['compressed_tensors']} of {len(c['tensors'])} ({'/'.join(map(str, bits))} bits) | "
      f"{float(t1) - float(t0):.1f} |")
EOF
}

echo "| model (k = $k) | quantize | .tflite bytes | TFLM lookup-table .tflite bytes | ratio | weight tensors compressed | convert --compress s |"
echo "|---|---|---|---|---|---|---|"

# name, source model, input shape, file tag: the three rows of one model
model_rows() {
  local name="$1" source="$2" shape="$3" tag="$4"
  inputs "$shape" "$work/$tag.npz"
  "$wclust" cluster "$source" -o "$work/${tag}_k$k" --clusters $k --no-size > /dev/null
  "$wclust" cluster "$source" -o "$work/${tag}_k${k}_int8" --clusters $k --int8-aware --no-size > /dev/null
  row "$name" "$work/${tag}_k$k" none "$work/$tag.npz"
  row "$name" "$work/${tag}_k${k}_int8" int8 "$work/$tag.npz"
  row "$name" "$work/${tag}_k$k" int8-per-tensor "$work/$tag.npz"
}

model_rows "demo MNIST CNN" "$root/models/src/main/resources/org/wclust/models/default/mnist_cnn" "28,28,1" cnn
(cd "$root/integration-tests" && "$python" src/test/python/make_keras_mobilenet_v2.py "$work/mnv2" > /dev/null)
model_rows "Keras MobileNetV2 (224, 1.0)" "$work/mnv2/mobilenet_v2.keras" "224,224,3" mnv2

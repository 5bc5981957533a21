#!/usr/bin/env bash
# Post-training clustering of BatchNorm-heavy networks, without fine-tuning: the default (folded; small
# kernels of at most 1,024 weights one codebook per channel, the others one per tensor with a larger knee
# rate weight; BatchNorm-safe codebooks from a factor spread of 10x, which neither fixture reaches),
# --init optimal, --plain-fold (one codebook per folded tensor everywhere, the default before), data-free
# --correct-bias, --depthwise-per-channel (per-channel codebooks for depthwise kernels), --no-fold-bn, per
# channel, --calibration (500 unlabelled training images; it corrects the folded biases on them) and
# --calibration --no-correct-bias. SKIP_RANDOM=1 leaves
# out the random MobileNetV2 rows (about 5 minutes each on 2 busy cores). Two fixtures made by
# integration-tests/src/test/python: MobileNetV2 (alpha 0.35) trained on Fashion-MNIST
# (make_bn_mobilenet.py; scored on the 10,000 test images) and Keras MobileNetV2 (1.0, 224) with random
# weights and random BatchNorm statistics (make_mobilenet_v2.py; compared on 16 random images).
# Prints a Markdown table: test accuracy (trained fixture), top-1 agreement, mean relative output
# change and KL against the original (on the test / random images), the zipped .tflite, and the
# largest number of distinct values per tensor / per channel among the .tflite's CONV_2D,
# DEPTHWISE_CONV_2D and FULLY_CONNECTED weights.
# ONLY=REGEX runs only the rows whose "fixture setting k" matches (e.g. ONLY='calibration.* 8$').
# Usage: scripts/bench-bn-calibration.sh [--keep DIR]   (about 30 minutes on 2 busy cores; the trained fixture and
# MobileNetV2 are kept in DIR and reused)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${1:-}" = "--keep" ]; then
  work="$2"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
wclust="$root/wclust"
python="$root/.venv/bin/python"
py="$root/integration-tests/src/test/python"
scale=0.00392156862745098

"$python" "$py/make_bn_mobilenet.py" "$work/bn" > /dev/null
[ -f "$work/mobilenet_v2/saved_model.pb" ] && [ -f "$work/random16.npz" ] \
  || "$python" "$py/make_mobilenet_v2.py" "$work" > /dev/null

echo "| fixture | setting | k | test accuracy | top-1 agreement | mean relative change | KL | zipped .tflite | max values per tensor / channel |"
echo "|---|---|---|---|---|---|---|---|---|"
row() { # fixture name k setting-args...
  local fixture="$1" name="$2" k="$3"
  shift 3
  if [ -n "${ONLY:-}" ] && ! [[ "$fixture $name $k" =~ $ONLY ]]; then
    return
  fi
  local out="$work/out-$fixture-$name-$k"
  if [ "$fixture" = trained ]; then
    "$wclust" cluster "$work/bn/model" -o "$out" -k "$k" "$@" --val "$work/bn/test.npz" --scale "$scale" \
      --tflite "$out.tflite" > "$out.log"
  else
    "$wclust" cluster "$work/mobilenet_v2" -o "$out" -k "$k" "$@" --val "$work/random16.npz" \
      --tflite "$out.tflite" > "$out.log"
  fi
  "$python" "$root/converter-bridge/src/main/resources/org/wclust/internal/bridge/tflite_tool.py" weights "$out.tflite" \
    > "$out.weights.json"
  "$python" - "$out/wclust-report.json" "$out.weights.json" "$fixture" "$name" "$k" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
weights = [w for w in json.load(open(sys.argv[2]))["weights"] if w["constant"]]
a = report.get("output_agreement", {})
acc = report.get("accuracy", {})
accuracy = f"{100 * acc['clustered']:.2f} % (original {100 * acc['original']:.2f} %)" if acc else "–"
zipped = report["size"]["clustered"]["zipped_tflite_bytes"]
print(f"| {sys.argv[3]} | {sys.argv[4]} | {sys.argv[5]} | {accuracy} | {100 * a['top1_agreement']:.1f} % | "
      f"{a['mean_relative_change']:.4f} | {a['mean_kl']:.4f} | {zipped:,} B | "
      f"{max(w['distinct'] for w in weights)} / {max(w['distinct_per_channel_max'] for w in weights)} |")
PY
}
row trained default 16
row trained optimal 16 --init optimal
row trained plain-fold 16 --plain-fold
row trained plain-fold-optimal 16 --plain-fold --init optimal
row trained correct-bias-data-free 16 --correct-bias
row trained depthwise-per-channel 16 --depthwise-per-channel
row trained no-fold-bn 16 --no-fold-bn
row trained channel 16 --granularity channel
row trained calibration 16 --calibration "$work/bn/calibration.npz"
row trained calibration-no-correct-bias 16 --calibration "$work/bn/calibration.npz" --no-correct-bias
row trained calibration+dw 16 --calibration "$work/bn/calibration.npz" --depthwise-per-channel
row trained default 8
row trained calibration 8 --calibration "$work/bn/calibration.npz"
row trained calibration-no-correct-bias 8 --calibration "$work/bn/calibration.npz" --no-correct-bias
row trained calibration+dw 8 --calibration "$work/bn/calibration.npz" --depthwise-per-channel
if [ "${SKIP_RANDOM:-}" != 1 ]; then
  row random default 16
  row random plain-fold 16 --plain-fold
  row random no-fold-bn 16 --no-fold-bn
fi

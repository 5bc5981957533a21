#!/usr/bin/env bash
# Builds the integration-tests/examples/ project against the installed org.wclust:wclust (run 'mvn install' in the
# repository root first; scripts/test.sh does) and runs its three examples:
#   1. OneCallExample          the Fashion-MNIST CNN clustered in one call (k = 16)
#   2. OwnTrainingLoopExample  a model built with TF Java Ops, clustered, trained with its own loop,
#                              stripped, exported and checked with Python TensorFlow (<= 4 values)
#   3. FineTuneExample         the CNN clustered (k = 8) and fine-tuned on 2,000 Fashion-MNIST images
# Inputs: the Fashion-MNIST CNN and data the integration tests make (integration-tests/target/
# fashion-mnist), made here when missing. Any failed check fails the script.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="$root/.venv/bin/python"
fixture="$root/integration-tests/target/fashion-mnist"
if [ ! -f "$fixture/manifest.json" ]; then
  "$python" integration-tests/src/test/python/make_fashion_mnist.py "$fixture"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd integration-tests/examples
mvn -B -ntp -q package dependency:build-classpath -Dmdep.outputFile="$work/classpath"
classpath="target/classes:$(cat "$work/classpath")"
run() {
  echo "== $1"
  java -cp "$classpath" "org.wclust.examples.$@"
}
run OneCallExample "$fixture/model" "$work/one_call"
run OwnTrainingLoopExample "$work/own_loop" "$python"
run FineTuneExample "$fixture/model" "$fixture/train.npz" "$work/fine_tuned" 0.00392156862745098 2000

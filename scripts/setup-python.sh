#!/usr/bin/env bash
# Installs the Python side of wclust (TFLite converter, interpreter, Keras for fixtures, and
# tflite-micro for TFLM compression) into a project-local virtualenv at .venv. Idempotent: a second
# run only checks.
# --bench also installs what scripts/bench-vs-tfmot.sh needs: tfmot, tf_keras (the Keras 2 it runs
# on) and matplotlib, pinned. tf-keras declares a dependency on the package "tensorflow", which
# tensorflow-cpu does not satisfy by name, so it is installed without dependencies.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
want="tensorflow-cpu==2.21.0"
tflm_version="0.dev20261023182759"
has_tensorflow() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import tensorflow, sys; sys.exit(tensorflow.__version__ != '2.21.0')" 2>/dev/null
}
has_tflm() {
  "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('tflite-micro') != '$tflm_version')" 2>/dev/null
}
if has_tensorflow && has_tflm; then
  echo "python: $venv has tensorflow 2.21.0 and tflite-micro $tflm_version"
else
  if ! has_tensorflow; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "$want"
  fi
  "$venv/bin/pip" install --quiet "tflite-micro==$tflm_version"
  "$venv/bin/python" -c "import tensorflow as tf, keras, tflite_micro; print('python: tensorflow', tf.__version__, 'keras', keras.__version__, 'tflite-micro', tflite_micro.__version__)"
fi
if [ "${1:-}" = "--bench" ]; then
  if TF_USE_LEGACY_KERAS=1 "$venv/bin/python" -c "import tf_keras, tensorflow_model_optimization, matplotlib, sys; sys.exit(tf_keras.__version__ != '2.21.0' or tensorflow_model_optimization.__version__ != '0.8.1')" 2>/dev/null; then
    echo "python: $venv has tf_keras 2.21.0, tensorflow-model-optimization 0.8.1, matplotlib"
  else
    "$venv/bin/pip" install --quiet --no-deps "tf-keras==2.21.0" "tensorflow-model-optimization==0.8.1"
    "$venv/bin/pip" install --quiet "dm-tree==0.1.10" "absl-py==1.4.0" "mock==5.2.0" "scipy==1.17.1" "six==1.17.0" \
      "matplotlib==3.11.2"
  fi
fi

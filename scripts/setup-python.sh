#!/usr/bin/env bash
# Installs the Python side of wclust (TFLite converter, interpreter, Keras for fixtures, and
# tflite-micro for TFLM compression) into a project-local virtualenv at .venv. Idempotent: a second
# run only checks.
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
  exit 0
fi
if ! has_tensorflow; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "$want"
fi
"$venv/bin/pip" install --quiet "tflite-micro==$tflm_version"
"$venv/bin/python" -c "import tensorflow as tf, keras, tflite_micro; print('python: tensorflow', tf.__version__, 'keras', keras.__version__, 'tflite-micro', tflite_micro.__version__)"

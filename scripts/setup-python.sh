#!/usr/bin/env bash
# Installs the Python side of wclust (TFLite converter, interpreter, Keras for fixtures)
# into a project-local virtualenv at .venv. Idempotent: a second run only checks.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
want="tensorflow-cpu==2.21.0"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import tensorflow, sys; sys.exit(tensorflow.__version__ != '2.21.0')" 2>/dev/null; then
  echo "python: $venv has tensorflow 2.21.0"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "$want"
"$venv/bin/python" -c "import tensorflow as tf, keras; print('python: tensorflow', tf.__version__, 'keras', keras.__version__)"

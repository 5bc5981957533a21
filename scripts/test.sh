#!/usr/bin/env bash
# The test command of README.md: installs the Python side (TFLite converter, Keras for fixtures) into
# .venv and the real test data (Fashion-MNIST, a Debian package), then builds everything and runs all
# tests, including those that need Python TensorFlow, then the Java API's examples (integration-tests/examples/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup-python.sh
bash scripts/setup-data.sh
# install, not just verify: the integration-tests/examples/ project builds against the installed org.wclust:wclust
mvn -B -ntp install "$@"
bash scripts/run-examples.sh

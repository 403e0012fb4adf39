#!/usr/bin/env bash
# Sets up everything: a virtual environment in .venv with the project and its test tools, and
# the C++ client library (built and installed into python/ray/cpp; scripts/cpp.sh installs the
# Debian packages it needs). Idempotent: re-running only redoes what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
bash scripts/cpp.sh build

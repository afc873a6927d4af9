#!/usr/bin/env bash
# Refreshes requirements.lock (the exact version of every runtime, dev and build dependency) to
# what the package index serves today, then runs the whole test command against it in a new
# empty environment. Review `git diff requirements.lock` and commit only when the tests passed.
#   bash scripts/lock.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools/uv"
"$tools/uv/bin/python" -m pip install -q --disable-pip-version-check "uv==$(sed -n 's/^uv==//p' requirements.lock)"
"$tools/uv/bin/uv" pip compile pyproject.toml scripts/build-tools.in --all-extras --upgrade --python-version 3.11 \
  --custom-compile-command "bash scripts/lock.sh" --quiet -o requirements.lock
NEWSCLEAN_VENV="$tools/venv" bash scripts/test.sh

#!/usr/bin/env bash
# The test command: installs the project with its dev extras (pinned versions, requirements.lock)
# into .venv (or NEWSCLEAN_VENV) and the system service the tests start themselves
# (redis-server), then runs ruff, mypy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing redis-server (the shared-crawl tests start their own)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is needed by tests/test_redis.py: install it (apt-get install redis-server)" >&2
    exit 1
  fi
fi
. scripts/venv.sh
install_pinned '.[dev]'
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
"$VENV/bin/python" -m pytest -q "$@"

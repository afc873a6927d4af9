#!/usr/bin/env bash
# The test command: installs the project with its dev extras (pinned versions, requirements.lock)
# into .venv (or NEWSCLEAN_VENV) and the system programs the tests run themselves (redis-server
# for the shared-crawl tests, chromium to render `newsclean explain --html`), then runs ruff,
# mypy and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} (the tests start redis-server and chromium themselves)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "the tests need ${missing[*]}: install them (apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
. scripts/venv.sh
install_pinned '.[dev]'
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
"$VENV/bin/python" -m pytest -q "$@"

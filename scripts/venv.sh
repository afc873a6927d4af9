# Sourced by scripts/demo.sh and scripts/test.sh: the virtual environment and the pinned install.
#
# NEWSCLEAN_VENV names the environment (default .venv in the checkout; .ci/run gives each command
# a new empty one). Every install takes the exact versions of requirements.lock: pip and
# setuptools first (so the interpreter's bundled pip, whatever its age, is never the one that
# resolves the project), then the project itself, built with the pinned setuptools.
VENV=${NEWSCLEAN_VENV:-.venv}

install_pinned() {  # $1: what to install from this checkout, e.g. . or .[dev]
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c requirements.lock pip setuptools
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -c requirements.lock --no-build-isolation -e "$1"
  # An editable install leaves the project's own modules uncompiled (pip compiles only what it
  # copies): compile them now, so that a process started where PYTHONDONTWRITEBYTECODE is set
  # does not compile ~60 modules at every start (0.05 s of CPU a process). Byte-code is checked
  # against the source's mtime at import: an edited module is recompiled, never run stale.
  "$VENV/bin/python" -m compileall -q pipelines crawler >/dev/null
}

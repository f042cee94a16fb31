# Sourced: make .venv and install the given requirements file when it changed.
REQ="$1"
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
STAMP=".venv/.installed-$(basename "$REQ")"
if [ ! -f "$STAMP" ] || [ "$REQ" -nt "$STAMP" ] || [ requirements.txt -nt "$STAMP" ]; then
  .venv/bin/pip install --disable-pip-version-check -q -r "$REQ"
  touch "$STAMP"
fi

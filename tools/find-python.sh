#!/usr/bin/env bash
# Prints the path of a Python 3.13 interpreter: $PYTHON if set, then pyenv, then PATH.
set -euo pipefail
want="3.13"
check() { [ -x "$1" ] && [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ]; }
if [ -n "${PYTHON:-}" ]; then
  check "$PYTHON" && { echo "$PYTHON"; exit 0; }
  echo "error: PYTHON=$PYTHON is not a Python $want interpreter" >&2; exit 1
fi
for root in "${PYENV_ROOT:-$HOME/.pyenv}/versions"/3.13*; do
  [ -d "$root" ] || continue
  check "$root/bin/python3" && { echo "$root/bin/python3"; exit 0; }
done
for name in python3.13 python3 python; do
  p=$(command -v "$name" 2>/dev/null || true)
  [ -n "$p" ] && check "$p" && { echo "$p"; exit 0; }
done
echo "error: Python $want not found. Install it (e.g. 'pyenv install 3.13') or set PYTHON=/path/to/python3.13." >&2
exit 1

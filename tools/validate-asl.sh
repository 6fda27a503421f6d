#!/usr/bin/env bash
# Validates Amazon States Language definitions with the npm package asl-validator
# (version pinned in package.json / package-lock.json), installing it on first use.
# Usage: tools/validate-asl.sh [FILE...]   default: every *.asl.json file tracked by git.
# Exit status: 0 all valid, 1 some invalid, 2 node/npm missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "error: node and npm are needed to run asl-validator" >&2
  exit 2
fi
# Reinstall when the lock file is newer than the installed tree (npm writes
# node_modules/.package-lock.json on every install).
if [ ! -x node_modules/.bin/asl-validator ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error >&2
fi
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(git ls-files '*.asl.json')
fi
if [ ${#files[@]} -eq 0 ]; then
  echo "no *.asl.json definitions to validate" >&2
  exit 0
fi
args=()
for file in "${files[@]}"; do
  args+=(--json-path "$file")
done
exec node_modules/.bin/asl-validator "${args[@]}"

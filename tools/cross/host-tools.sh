#!/usr/bin/env bash
# Installs the Debian packages the layer build needs on the build host, only when a
# command is missing: mmdebstrap (the arm64 tree), qemu-user-static (running arm64
# Python here) and binutils-aarch64-linux-gnu (strip for arm64 ELF files).
# Usage: tools/cross/host-tools.sh   (as root, or with the packages installed already)
set -euo pipefail
declare -A package_of=(
  [mmdebstrap]=mmdebstrap
  [qemu-aarch64-static]=qemu-user-static
  [aarch64-linux-gnu-strip]=binutils-aarch64-linux-gnu
)
missing=()
for cmd in "${!package_of[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_of[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing ${missing[*]} and no apt-get here: install them, or build with the Dockerfile" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

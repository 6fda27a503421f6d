#!/usr/bin/env bash
# Makes (once) a Debian arm64 file tree with CPython 3.13, its headers and
# _sysconfigdata: the target Python for cross-compiling and, under qemu-aarch64-static,
# for running tests on the arm64 wheel. --variant=extract only unpacks the packages
# (seconds; --variant=apt runs maintainer scripts under emulation and takes minutes).
# Usage: tools/cross/arm64-tree.sh DIR
# The mirror is mmdebstrap's default unless HOTCORE_DEBIAN_MIRROR is set.
set -euo pipefail
dir=${1:?usage: arm64-tree.sh DIR}
suite=${HOTCORE_DEBIAN_SUITE:-trixie}   # Debian 13: the release whose python3 is 3.13
packages=python3.13,libpython3.13-dev,libc6
stamp="$dir/.hotcore-tree"
want="$suite $packages"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$dir/usr/bin/python3.13" ]; then
  exit 0
fi
"$(dirname "$0")/host-tools.sh"
tmp="$dir.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mirror=()
[ -n "${HOTCORE_DEBIAN_MIRROR:-}" ] && mirror=("$HOTCORE_DEBIAN_MIRROR")
mmdebstrap --quiet --arch=arm64 --variant=extract --include="$packages" \
  "$suite" "$tmp" "${mirror[@]}"
# extract skips the usr-merge links that the dynamic loader path and #! lines rely on.
for d in bin sbin lib; do
  [ -e "$tmp/$d" ] || ln -s "usr/$d" "$tmp/$d"
done
echo "$want" >"$tmp/.hotcore-tree"
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
mv "$tmp" "$dir"
trap - EXIT

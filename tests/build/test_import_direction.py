"""The import contracts of pyproject.toml hold, and a wrong import is caught.

``lint-imports`` (import-linter) checks that ``hotcore`` (the layer) never imports
``hotcore_dev``, tests, tools or benchmarks, that its layers point one way (contracts <-
domain <- codec/store/aws <- service <- entrypoints) and that the domain does no I/O.
The second test plants a wrong import in a copy of the packages and expects the check
to name the broken contract, so the first one cannot pass vacuously.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_import_contracts_hold() -> None:
    done = lint_imports(ROOT, ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 kept, 0 broken" in done.stdout


def test_a_layer_module_importing_developer_tooling_breaks_a_contract(tmp_path: Path) -> None:
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "src" / "hotcore", src / "hotcore", ignore=ignore)
    shutil.copytree(ROOT / "src" / "hotcore_dev", src / "hotcore_dev", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    query = src / "hotcore" / "service" / "query.py"
    query.write_text(query.read_text() + "\nimport hotcore_dev.local  # noqa\n")
    contracts = src / "hotcore" / "contracts" / "common.py"
    contracts.write_text(contracts.read_text() + "\nimport hotcore.store.port  # noqa\n")

    done = lint_imports(tmp_path, src)

    assert done.returncode != 0
    assert "1 kept, 3 broken" in done.stdout
    assert "hotcore.service.query -> hotcore_dev.local" in done.stdout
    assert "hotcore.contracts.common -> hotcore.store.port" in done.stdout

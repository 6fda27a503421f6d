"""The streams the throughput suites read: ``HOTCORE_BENCH_CASES`` names a folder written by
``hotcore bench`` (``cases.json`` and one file of Query pages per case); without it, small
streams are made on the spot, so the suite also runs on its own as a quick check.

``HOTCORE_BENCH_ROUNDS`` sets the timed rounds of each decode + fold (default 3).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from hotcore_dev.history import Case, read_pages, write_account_cases

_SMALL = {"small": 600, "paged": 2000}


def _cases() -> tuple[Path, dict[str, Case]]:
    folder = os.environ.get("HOTCORE_BENCH_CASES")
    if folder:
        path = Path(folder)
        return path, _read(path)
    path = Path(tempfile.gettempdir()) / "hotcore-bench-small-cases"
    return path, write_account_cases(path, _SMALL, page_limit=64 * 1024)


def _read(path: Path) -> dict[str, Case]:
    import msgspec

    saved = msgspec.json.decode((path / "cases.json").read_bytes())
    return msgspec.convert(saved["cases"], dict[str, Case])


CASES_DIR, CASES = _cases()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", list(CASES.values()), ids=list(CASES))


@pytest.fixture(scope="session")
def rounds() -> int:
    return int(os.environ.get("HOTCORE_BENCH_ROUNDS", "3"))


@pytest.fixture
def pages(case: Case) -> list[bytes]:
    return read_pages(CASES_DIR / case.file)

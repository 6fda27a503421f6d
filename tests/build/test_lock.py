"""The lock files in requirements/ cover pyproject.toml: a dependency added to a range but
not locked would make ``make`` install something the lock does not name (or fail)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    raw = re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", raw).lower()


def pinned(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {_name(m[0]): m[1] for m in re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", text, re.M)}


def test_every_declared_dependency_is_pinned_with_hashes_in_its_lock() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    expected = {
        "base.txt": project["dependencies"],
        "dev.txt": project["dependencies"] + extras["dev"],
        "all.txt": project["dependencies"] + [r for e in extras.values() for r in e],
    }
    for lock, requirements in expected.items():
        missing = {_name(r) for r in requirements} - set(pinned(lock))
        assert missing == set(), f"requirements/{lock} lacks {sorted(missing)}: run make lock"
        assert "--hash=sha256:" in (ROOT / "requirements" / lock).read_text()


def test_the_smaller_locks_agree_with_the_full_one() -> None:
    full = pinned("all.txt")
    for lock in ("base.txt", "dev.txt"):
        for name, version in pinned(lock).items():
            assert full.get(name) == version, (lock, name, version, full.get(name))

"""Where the hotcore checkout is: the one place that looks for it.

The benchmark runner (``bench/``), the layer build (``tools/``), the handlers and the CDK
app live in the repository beside the packages, not in them; commands that need them
run from a checkout and find it here.
"""

from __future__ import annotations

from pathlib import Path


class NotACheckout(LookupError):
    """The command needs a hotcore checkout and none holds the working directory."""


def is_checkout(folder: Path) -> bool:
    return (folder / "src" / "hotcore").is_dir() and (folder / "setup.py").is_file()


def find_checkout(start: Path | None = None) -> Path:
    """The checkout holding ``start`` (default: the working directory, then this package)."""
    starts = [start] if start is not None else [Path.cwd(), Path(__file__).resolve()]
    for candidate in starts:
        for folder in [candidate, *candidate.parents]:
            if is_checkout(folder):
                return folder
    raise NotACheckout(
        "this command runs from a hotcore checkout (it needs bench/, tools/ and handlers/); "
        "cd into the repository's folder"
    )

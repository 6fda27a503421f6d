"""Lambda SnapStart hooks: warm before the snapshot, refresh what must be unique after restore.

A restored snapshot is a copy of one initialized environment, shared by many: open
connections are dead, cached credentials may have expired, and random state (and any
id derived from it) would repeat in every copy. Functions register what to do before
the snapshot and after each restore here; ``snapshot_restore_py`` (in the Lambda
runtime, and on PyPI) calls them on AWS, and tests call ``before_snapshot`` and
``after_restore`` to simulate a restore in-process.
"""

from __future__ import annotations

import os
from collections.abc import Callable

Hook = Callable[[], None]

_before: list[Hook] = []
_after: list[Hook] = []
_registered_with_runtime = False


def register(*, before_snapshot: Hook | None = None, after_restore: Hook | None = None) -> None:
    global _registered_with_runtime
    if before_snapshot is not None:
        _before.append(before_snapshot)
    if after_restore is not None:
        _after.append(after_restore)
    if not _registered_with_runtime and os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == (
        "snap-start"
    ):
        # Only where SnapStart runs; elsewhere the import would be wasted cold-start time.
        from snapshot_restore_py import (
            register_after_restore,
            register_before_snapshot,
        )

        register_before_snapshot(before_snapshot_hooks)
        register_after_restore(after_restore_hooks)
        _registered_with_runtime = True


def before_snapshot_hooks() -> None:
    for hook in _before:
        hook()


def after_restore_hooks() -> None:
    # Every restored copy starts from the same random state: re-seed from the OS first
    # (imported here: a function that never restores never pays for ``random``).
    import random

    random.seed(os.urandom(32))
    for hook in _after:
        hook()


def clear() -> None:
    """Forget every hook (tests)."""
    _before.clear()
    _after.clear()

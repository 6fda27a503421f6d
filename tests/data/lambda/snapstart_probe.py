"""SnapStart hooks run by the real runtime client: before the snapshot, after the restore."""

import os

from snapshot_restore_py import register_after_restore, register_before_snapshot

hooks = []


@register_before_snapshot
def _before():
    hooks.append("before_snapshot")


@register_after_restore
def _after():
    hooks.append("after_restore")
    if os.environ.get("PROBE_FAIL_RESTORE"):
        raise ConnectionError("cannot reconnect after restore")


def handler(event, context):
    return {"hooks": hooks, "initialization_type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}

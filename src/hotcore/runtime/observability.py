"""Structured logs and CloudWatch EMF metrics, written as JSON lines to stdout.

This is the part of Powertools' Logger and Metrics that the handlers use, at no import
cost: Lambda ships stdout to CloudWatch Logs, which indexes the JSON fields and turns
EMF lines into metrics. The README's "Powertools" section has the measurements.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import msgspec

_encode = msgspec.json.Encoder().encode
NAMESPACE = "hotcore"


def log(level: str, message: str, **fields: Any) -> None:
    record = {"level": level, "message": message, "timestamp": round(time.time() * 1000), **fields}
    sys.stdout.write(_encode(record).decode() + "\n")


def metric(name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
    """One EMF record: a metric with its dimensions, aggregated by CloudWatch."""
    record: dict[str, Any] = {
        "_aws": {
            "Timestamp": round(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        name: value,
        **dimensions,
    }
    sys.stdout.write(_encode(record).decode() + "\n")

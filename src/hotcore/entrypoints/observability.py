"""Structured logs and CloudWatch EMF metrics in Powertools' format, without its imports.

Log lines carry the keys Powertools for AWS Lambda (Python) writes, with its meanings, so
Logs Insights queries written for Powertools carry over: ``level`` (DEBUG, INFO, WARNING,
ERROR, CRITICAL), ``location`` (function:line), ``message``, ``timestamp`` (ISO 8601,
UTC, milliseconds), ``service`` (``POWERTOOLS_SERVICE_NAME``), the Lambda context keys
(``cold_start``, ``function_name``, ``function_memory_size``, ``function_arn``,
``function_request_id``), ``correlation_id`` and ``xray_trace_id`` (the Root of
``_X_AMZN_TRACE_ID``, present whenever Lambda passes a trace header). The level comes from
``AWS_LAMBDA_LOG_LEVEL`` (Lambda's advanced logging controls), else
``POWERTOOLS_LOG_LEVEL``, else ``LOG_LEVEL``, else INFO. Keys whose value is None are left
out, as Powertools does.

Metrics are batched per invocation and written as one EMF record per dimension set when
it ends, in ``POWERTOOLS_METRICS_NAMESPACE`` with a ``service`` dimension; the cold start
is its own record (``ColdStart`` by ``function_name`` and ``service``), as Powertools'
``capture_cold_start_metric`` writes it.

Only ``os``, ``sys`` and ``time`` are imported (the handlers' import set is asserted by
tests/build/test_handler_imports.py); docs/lambda.md has the measured import cost.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

import msgspec

# A value JSON cannot hold (an exception, a path) is written as its str(), as Powertools does.
_encode = msgspec.json.Encoder(enc_hook=str).encode

DEFAULT_NAMESPACE = "hotcore"
DEFAULT_SERVICE = "service_undefined"  # Powertools' own default
#: Characters of a caller-provided string kept in a log line; the rest is counted, not written.
MAX_FIELD_CHARS = 256
#: EMF allows at most 100 metrics per record and 100 values per metric.
MAX_METRICS = 100

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
# Lambda's advanced logging controls name levels TRACE..FATAL; Powertools maps them so.
_LEVEL_ALIASES = {"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}
_LEVEL_VARIABLES = ("AWS_LAMBDA_LOG_LEVEL", "POWERTOOLS_LOG_LEVEL", "LOG_LEVEL")


class ObservabilityConfigError(ValueError):
    """A logging or metrics environment variable has a value hotcore cannot use."""


def log_level(env: Mapping[str, str]) -> int:
    """The threshold from the first of the level variables that is set."""
    for variable in _LEVEL_VARIABLES:
        raw = env.get(variable, "").strip().upper()
        if raw:
            name = _LEVEL_ALIASES.get(raw, raw)
            if name not in LEVELS:
                raise ObservabilityConfigError(
                    f"{variable}={clip(env[variable])!r} is not a log level; "
                    f"use one of {', '.join(LEVELS)}"
                )
            return LEVELS[name]
    return LEVELS["INFO"]


def service_name(env: Mapping[str, str]) -> str:
    return env.get("POWERTOOLS_SERVICE_NAME") or DEFAULT_SERVICE


def clip(value: str, limit: int = MAX_FIELD_CHARS) -> str:
    """A caller-provided string cut to ``limit`` characters, saying how long it was."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}...[{len(value)} chars]"


def trace_id(env: Mapping[str, str] = os.environ) -> str | None:
    """The X-Ray trace id of the current invocation (``Root=`` of ``_X_AMZN_TRACE_ID``)."""
    header = env.get("_X_AMZN_TRACE_ID")
    if not header:
        return None
    for part in header.split(";"):
        if part.startswith("Root="):
            return part[5:]
    return None


def iso_timestamp(epoch: float) -> str:
    """``2026-11-27T10:20:19.650+00:00``: what Powertools writes with ``use_rfc3339``, in UTC."""
    seconds = int(epoch)
    millis = int((epoch - seconds) * 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{millis:03d}+00:00"


def _clip_fields(fields: dict[str, Any]) -> dict[str, Any]:
    for key, value in fields.items():
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            fields[key] = clip(value)
        elif isinstance(value, list | tuple) and any(
            isinstance(v, str) and len(v) > MAX_FIELD_CHARS for v in value
        ):
            fields[key] = [clip(v) if isinstance(v, str) else v for v in value]
    return fields


class Logger:
    """JSON log lines to stdout with Powertools' keys; one per process, like Powertools'."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.configure(os.environ if env is None else env)

    def configure(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.service = service_name(env)
        self.keys: dict[str, Any] = {}  # the current invocation's context keys
        try:
            self.level = log_level(env)
        except ObservabilityConfigError as exc:
            # A typo in a level variable must not stop the function: say so, log at INFO.
            self.level = LEVELS["INFO"]
            self._write("WARNING", str(exc), {}, depth=1)

    def append_keys(self, **keys: Any) -> None:
        """Keys on every following line of this invocation; None removes a key."""
        for key, value in _clip_fields(keys).items():
            if value is None:
                self.keys.pop(key, None)
            else:
                self.keys[key] = value

    def start_invocation(self, context: Any, *, cold_start: bool) -> None:
        """Reset the keys to the Lambda context of a new invocation."""
        self.keys = {"cold_start": cold_start}
        if context is not None:
            self.keys.update(
                function_name=getattr(context, "function_name", None),
                function_memory_size=_int_or_none(getattr(context, "memory_limit_in_mb", None)),
                function_arn=getattr(context, "invoked_function_arn", None),
                function_request_id=getattr(context, "aws_request_id", None),
            )

    def enabled(self, level: str) -> bool:
        return LEVELS[level] >= self.level

    def debug(self, message: str, **fields: Any) -> None:
        if LEVELS["DEBUG"] >= self.level:
            self._write("DEBUG", message, fields)

    def info(self, message: str, **fields: Any) -> None:
        if LEVELS["INFO"] >= self.level:
            self._write("INFO", message, fields)

    def warning(self, message: str, **fields: Any) -> None:
        if LEVELS["WARNING"] >= self.level:
            self._write("WARNING", message, fields)

    def error(self, message: str, **fields: Any) -> None:
        if LEVELS["ERROR"] >= self.level:
            self._write("ERROR", message, fields)

    def exception(self, message: str, error: BaseException, **fields: Any) -> None:
        """An ERROR line with ``exception_name`` and ``exception`` (the traceback text)."""
        if LEVELS["ERROR"] >= self.level:
            import traceback  # only when something failed: never on the happy path

            text = "".join(traceback.format_exception(error))
            fields.update(exception_name=type(error).__name__, exception=text)
            self._write("ERROR", message, fields)

    def _write(self, level: str, message: str, fields: dict[str, Any], depth: int = 2) -> None:
        caller = sys._getframe(depth)
        record: dict[str, Any] = {
            "level": level,
            "location": f"{caller.f_code.co_name}:{caller.f_lineno}",
            "message": message,
            "timestamp": iso_timestamp(time.time()),
            "service": self.service,
            **self.keys,
        }
        for key, value in _clip_fields(fields).items():
            if value is not None:
                record[key] = value
        trace = trace_id(self.env)
        if trace is not None:
            record["xray_trace_id"] = trace
        sys.stdout.write(_encode(record).decode() + "\n")


def _int_or_none(value: object) -> int | None:
    # the runtime's context holds the memory size as a string ("512")
    if isinstance(value, int | str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


class Metrics:
    """EMF metrics batched until ``flush``: one record per dimension set, ``service`` in each."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.configure(os.environ if env is None else env)

    def configure(self, env: Mapping[str, str]) -> None:
        self.namespace = env.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        self.service = service_name(env)
        # dimension set -> metric name -> (unit, values)
        self._pending: dict[tuple[tuple[str, str], ...], dict[str, tuple[str, list[float]]]] = {}

    def add(self, name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
        key = tuple(sorted(dimensions.items()))
        metrics = self._pending.setdefault(key, {})
        _, values = metrics.setdefault(name, (unit, []))
        values.append(float(value))
        if len(metrics) >= MAX_METRICS or len(values) >= MAX_METRICS:
            self._write(key, metrics)
            del self._pending[key]

    def cold_start(self, function_name: str) -> None:
        """Powertools' cold-start record: ``ColdStart`` = 1 by function_name and service."""
        self._write((("function_name", function_name),), {"ColdStart": ("Count", [1.0])})

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for key, metrics in pending.items():
            self._write(key, metrics)

    def _write(
        self, key: tuple[tuple[str, str], ...], metrics: dict[str, tuple[str, list[float]]]
    ) -> None:
        dimensions = {"service": self.service, **dict(key)}
        record: dict[str, Any] = {
            "_aws": {
                "Timestamp": round(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": n, "Unit": unit} for n, (unit, _) in metrics.items()],
                    }
                ],
            },
            **dimensions,
        }
        for name, (_, values) in metrics.items():
            record[name] = values
        sys.stdout.write(_encode(record).decode() + "\n")


#: The process's logger and metrics (Lambda runs one invocation at a time per process).
logger = Logger()
metrics = Metrics()


class Invocation:
    """``with Invocation(context, cold_start=..., function_name=...)``: one handler call.

    Entering sets the log keys from the Lambda context and writes the cold-start record;
    leaving writes the batched metrics, also when the handler raised.
    """

    def __init__(self, context: Any, *, cold_start: bool, function_name: str) -> None:
        self.context = context
        self.cold_start = cold_start
        self.function_name = getattr(context, "function_name", None) or function_name

    def __enter__(self) -> Invocation:
        logger.start_invocation(self.context, cold_start=self.cold_start)
        if self.cold_start:
            metrics.cold_start(self.function_name)
        return self

    def __exit__(self, *exc: object) -> None:
        metrics.flush()

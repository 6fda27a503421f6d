"""Log lines and EMF records of the Lambda functions, in Powertools' format.

The functions run in-process on a SQLite store with a Lambda context object like the
runtime's; what they write to stdout is parsed and checked key by key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotcore.aws.errors import Throttled
from hotcore.contracts.account import OpenAccount
from hotcore.entrypoints import observability
from hotcore.entrypoints.command import CommandFunction
from hotcore.entrypoints.events import EventFunction
from hotcore.entrypoints.failures import Transient
from hotcore.entrypoints.settings import Settings
from tests.support.identity import issuer, signed

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
ENV = {
    "POWERTOOLS_SERVICE_NAME": "hotcore-account",
    "POWERTOOLS_METRICS_NAMESPACE": "shop",
    "_X_AMZN_TRACE_ID": TRACE,
}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


class Context:
    """The attributes of the Python runtime's LambdaContext that the logger reads."""

    function_name = "hotcore-account-command"
    memory_limit_in_mb = "512"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:hotcore-account-command"

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id


@pytest.fixture
def configured() -> Iterator[dict[str, str]]:
    """The process-wide logger and metrics read ``env`` instead of os.environ, then revert."""
    env = dict(ENV)
    observability.logger.configure(env)
    observability.metrics.configure(env)
    yield env
    observability.logger.configure(observability.os.environ)
    observability.metrics.configure(observability.os.environ)


def lines(out: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(log lines, EMF records) of what a function wrote."""
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [r for r in records if "_aws" not in r], [r for r in records if "_aws" in r]


def command_function(tmp_path: Path) -> CommandFunction:
    return CommandFunction(
        "account",
        Settings.from_env("account", {"HOTCORE_DB": str(tmp_path / "a.db"), **issuer().env()}),
    )


def direct(command: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"command": command, **extra}


def test_a_command_logs_powertools_keys_from_the_context_and_the_trace_header(
    tmp_path: Path, configured: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fn = command_function(tmp_path)
    capsys.readouterr()
    fn(
        direct({"type": "OpenAccount", "account_id": "a1", "owner_id": "o"}, correlation_id="c-1"),
        Context("req-1"),
    )
    fn(direct({"type": "Deposit", "account_id": "a1", "amount": 5}), Context("req-2"))
    logs, _ = lines(capsys.readouterr().out)
    first, second = logs
    assert first["level"] == "INFO"
    assert first["message"] == "command handled"
    assert re.match(r"^_record:\d+$", first["location"])
    assert ISO_UTC.match(first["timestamp"])
    assert first["service"] == "hotcore-account"
    assert first["cold_start"] is True
    assert second["cold_start"] is False
    assert first["function_name"] == "hotcore-account-command"
    assert first["function_memory_size"] == 512
    assert first["function_arn"].endswith(":function:hotcore-account-command")
    assert (first["function_request_id"], second["function_request_id"]) == ("req-1", "req-2")
    assert first["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert first["correlation_id"] == "c-1"
    assert second["correlation_id"] == second["command_id"]  # a command starts its own chain


def test_a_direct_invocation_logs_the_command_name_and_its_duration(
    tmp_path: Path, configured: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fn = command_function(tmp_path)
    fn(direct({"type": "OpenAccount", "account_id": "a1", "owner_id": "o"}), Context("r"))
    logs, _ = lines(capsys.readouterr().out)
    assert logs[-1]["command"] == "OpenAccount"
    assert isinstance(logs[-1]["ms"], float)
    assert logs[-1]["ms"] >= 0


def test_a_rejection_logs_its_command_id_and_rule(
    tmp_path: Path, configured: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fn = command_function(tmp_path)
    fn(direct({"type": "OpenAccount", "account_id": "a1", "owner_id": "o"}), Context("r1"))
    answer = fn(
        direct({"type": "Withdraw", "account_id": "a1", "amount": 9}, command_id="w-1"),
        Context("r2"),
    )
    assert answer["outcome"] == "rejected"
    logs, _ = lines(capsys.readouterr().out)
    assert logs[-1]["outcome"] == "rejected"
    assert logs[-1]["command_id"] == "w-1"
    assert logs[-1]["rule"] == "insufficient-funds"


def test_metrics_are_one_emf_record_per_dimension_set_per_invocation(
    tmp_path: Path, configured: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fn = command_function(tmp_path)
    for account in ("a1", "a2", "a3"):  # opened in-process: the batch is the first invocation
        fn.commands.handle(
            OpenAccount(account_id=account, owner_id="o"), command_id=f"o-{account}", actor="t"
        )
    batch = [
        signed(
            {
                "arguments": {"input": {"accountId": account, "amount": "5"}},
                "identity": {"userArn": "arn:aws:iam::1:role/frontend", "accountId": "1"},
                "info": {"fieldName": "deposit", "parentTypeName": "Mutation", "variables": {}},
                "request": {"headers": {}},
            },
            "o",
        )
        for account in ("a1", "a2", "a3")
    ]
    fn(batch, Context("r"))
    _, emf = lines(capsys.readouterr().out)
    cold, commands = emf
    assert cold["ColdStart"] == [1.0]
    assert cold["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "function_name"]]
    assert cold["function_name"] == "hotcore-account-command"
    directive = commands["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "shop"
    assert directive["Dimensions"] == [["service", "aggregate", "outcome"]]
    assert directive["Metrics"] == [{"Name": "Commands", "Unit": "Count"}]
    assert commands["Commands"] == [1.0, 1.0, 1.0]  # three commands, one record
    assert (commands["service"], commands["outcome"]) == ("hotcore-account", "accepted")


def test_metrics_are_written_even_when_the_invocation_raises(
    tmp_path: Path, configured: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fn = command_function(tmp_path)

    def throttled(*args: object, **kwargs: object) -> None:
        raise Throttled("ThrottlingException", "slow down", 400)

    fn.store.load_latest = throttled  # type: ignore[method-assign]
    with pytest.raises(Transient):  # a direct caller's Retry sees the transient failure
        fn(direct({"type": "OpenAccount", "account_id": "a", "owner_id": "o"}), Context("r"))
    logs, emf = lines(capsys.readouterr().out)
    assert [(r.get("ColdStart"), r.get("Commands")) for r in emf] == [([1.0], None), (None, [1.0])]
    assert emf[1]["outcome"] == "error"
    assert (logs[-1]["level"], logs[-1]["message"]) == ("WARNING", "command failed")
    assert (logs[-1]["answer"], logs[-1]["error"]) == ("Unavailable", "Throttled")


def test_caller_provided_strings_are_cut_in_log_lines(
    tmp_path: Path, configured: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fn = command_function(tmp_path)
    huge = "x" * 20_000
    event = {
        "arguments": {"input": {"accountId": "a", "owner_id": "o"}, huge: 1},
        "identity": None,
        "info": {"fieldName": "openAccount", "parentTypeName": "Mutation", "variables": {}},
        "request": {"headers": {}},
    }
    assert fn(event, Context("r"))["outcome"] == "invalid"
    logs, _ = lines(capsys.readouterr().out)
    assert len(logs[-1]["error"]) < observability.MAX_FIELD_CHARS + 40
    assert logs[-1]["error"].endswith(" chars]")


def test_an_event_handler_logs_the_events_correlation_id(
    tmp_path: Path, configured: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fn = EventFunction(
        "account", Settings.from_env("account", {"HOTCORE_DB": str(tmp_path / "e.db")})
    )
    event = {
        "id": "evt-1",
        "source": "hotcore.customer",
        "detail-type": "CustomerRegistered",
        "detail": {
            "stream_id": "c1",
            "version": 1,
            "type": "CustomerRegistered",
            "data": {"type": "CustomerRegistered", "email": "a@b.co", "name": "A"},
            "command_id": "cmd-1",
            "correlation_id": "corr-9",
            "timestamp": "2026-01-01T00:00:00Z",
            "actor": "u",
        },
    }
    fn(event, Context("r"))
    logs, _ = lines(capsys.readouterr().out)
    assert logs[-1]["message"] == "reaction"
    assert logs[-1]["correlation_id"] == "corr-9"
    assert logs[-1]["event_id"] == "evt-1"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, 20),
        ({"LOG_LEVEL": "warning"}, 30),
        ({"LOG_LEVEL": "DEBUG", "POWERTOOLS_LOG_LEVEL": "ERROR"}, 40),
        ({"POWERTOOLS_LOG_LEVEL": "ERROR", "AWS_LAMBDA_LOG_LEVEL": "WARN"}, 30),
        ({"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, 50),
        ({"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, 10),
    ],
)
def test_the_level_comes_from_lambda_then_powertools_then_log_level(
    env: dict[str, str], expected: int
) -> None:
    assert observability.log_level(env) == expected


def test_lines_below_the_level_are_not_written_and_a_bad_level_is_reported_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    quiet = observability.Logger({"LOG_LEVEL": "ERROR"})
    quiet.info("dropped")
    quiet.error("kept", detail=1)
    logs, _ = lines(capsys.readouterr().out)
    assert [line["message"] for line in logs] == ["kept"]
    assert "xray_trace_id" not in logs[0]  # no trace header, no key (as Powertools)

    observability.Logger({"LOG_LEVEL": "loud"}).info("still written")
    logs, _ = lines(capsys.readouterr().out)
    assert logs[0]["level"] == "WARNING"
    assert "LOG_LEVEL='loud'" in logs[0]["message"]
    assert logs[1]["message"] == "still written"


def test_an_exception_line_names_the_exception(capsys: pytest.CaptureFixture[str]) -> None:
    log = observability.Logger({})
    try:
        raise KeyError("k")
    except KeyError as exc:
        log.exception("failed", exc)
    (line,), _ = lines(capsys.readouterr().out)
    assert line["exception_name"] == "KeyError"
    assert "Traceback" in line["exception"]


def test_a_metric_set_is_written_at_100_values() -> None:
    import io
    import sys

    metrics = observability.Metrics({"POWERTOOLS_SERVICE_NAME": "s"})
    out, sys.stdout = sys.stdout, io.StringIO()
    try:
        for _ in range(150):
            metrics.add("Hits")
        written = sys.stdout.getvalue()
        metrics.flush()
        flushed = sys.stdout.getvalue()[len(written) :]
    finally:
        sys.stdout = out
    assert [len(json.loads(line)["Hits"]) for line in written.splitlines()] == [100]
    assert [len(json.loads(line)["Hits"]) for line in flushed.splitlines()] == [50]

"""The local Lambda harness: the Runtime API emulator, and real runtimes launched against it.

Three layers of examples:

- the emulator alone, spoken to over raw HTTP: routes, headers, status codes and
  protocol errors, the 6 MB limit, chunked bodies;
- handlers in ``tests/data/lambda`` run by the real ``awslambdaric`` in a subprocess,
  as the managed python3.13 runtime runs them: responses, errors, init failures,
  deadlines, crashes, SnapStart hooks, environment, logs and timings;
- custom runtimes (``bootstrap``): a hand-written Python one, and the Rust baseline's
  ``hello`` when it has been built.

Nothing asserts on how long anything took; timings are checked for presence and for
the order cause and effect impose (a process polls before it can answer).
"""

from __future__ import annotations

import http.client
import json
import os
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotcore.aws.sigv4 import Credentials
from hotcore_dev.harness import (
    PYTHON_EXECUTION_ENV,
    REQUEST_LIMIT_BYTES,
    RESPONSE_LIMIT_BYTES,
    RESPONSE_TOO_LARGE,
    RUNTIME_EXIT_ERROR,
    TIMED_OUT,
    FunctionError,
    HarnessClosed,
    InitError,
    Invocation,
    LocalLambda,
    RequestTooLarge,
    ReservedVariable,
    RuntimeApi,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "lambda"
LAYER = DATA / "layer"
# cargo builds where CARGO_TARGET_DIR says (the Makefile sets it), else in the crate
RUST_TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "bench" / "rust" / "target")
CREDENTIALS = Credentials("AKIDLOCALHARNESS", "harness-secret", "harness-session-token")


def probe(handler: str, **options: Any) -> LocalLambda:
    """A LocalLambda for ``probe.<handler>`` with the test layer."""
    return LocalLambda(f"probe.{handler}", code_dir=DATA, layer_dir=LAYER, **options)


@pytest.fixture
def echo() -> Iterator[LocalLambda]:
    with probe(
        "echo",
        function_name="harness-echo",
        memory_mb=256,
        region="eu-west-1",
        credentials=CREDENTIALS,
        env={"HOTCORE_TABLE": "events"},
    ) as fn:
        yield fn
        # The real runtime client never broke the protocol.
        assert fn.environment is not None
        assert fn.environment.api.protocol_errors == []


# -- the emulator on its own ------------------------------------------------------------


class RawRuntime:
    """A runtime written out as HTTP requests, to probe the emulator's answers."""

    def __init__(self, api: RuntimeApi) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        self.connection.request(method, f"/2018-06-01/runtime{path}", body, headers or {})
        response = self.connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()


def make_invocation(
    request_id: str = "req-1", payload: bytes = b'{"n": 1}', **options: Any
) -> Invocation:
    options.setdefault("timeout_s", 30.0)
    options.setdefault("function_arn", "arn:aws:lambda:us-east-1:123456789012:function:f")
    options.setdefault("trace_id", "Root=1-00000000-000000000000000000000000;Sampled=0")
    return Invocation(payload, request_id=request_id, **options)


@pytest.fixture
def api() -> Iterator[RuntimeApi]:
    with RuntimeApi() as runtime_api:
        yield runtime_api


def test_next_delivers_the_event_with_lambdas_headers(api: RuntimeApi) -> None:
    invocation = make_invocation(
        client_context='{"custom": {"k": "v"}}', cognito_identity='{"cognitoIdentityId": "id"}'
    )
    api.submit(invocation)
    status, headers, body = RawRuntime(api).request("GET", "/invocation/next")

    assert status == 200
    assert body == b'{"n": 1}'
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"] == invocation.function_arn
    assert headers["Lambda-Runtime-Trace-Id"] == invocation.trace_id
    assert headers["Lambda-Runtime-Client-Context"] == '{"custom": {"k": "v"}}'
    assert headers["Lambda-Runtime-Cognito-Identity"] == '{"cognitoIdentityId": "id"}'
    assert int(headers["Lambda-Runtime-Deadline-Ms"]) == invocation.deadline_ms
    assert invocation.delivered
    assert api.init_done.is_set()


def test_optional_headers_are_absent_when_not_given(api: RuntimeApi) -> None:
    api.submit(make_invocation())
    _, headers, _ = RawRuntime(api).request("GET", "/invocation/next")
    assert "Lambda-Runtime-Client-Context" not in headers
    assert "Lambda-Runtime-Cognito-Identity" not in headers


def test_next_long_polls_until_an_event_is_queued(api: RuntimeApi) -> None:
    answers: list[bytes] = []
    runtime = RawRuntime(api)
    poller = threading.Thread(
        target=lambda: answers.append(runtime.request("GET", "/invocation/next")[2])
    )
    poller.start()
    assert api.init_done.wait(10)  # the poll has arrived and is parked
    assert answers == []
    api.submit(make_invocation(payload=b'"late"'))
    poller.join(10)
    assert answers == [b'"late"']


def test_response_settles_the_invocation_on_one_kept_alive_connection(api: RuntimeApi) -> None:
    first, second = make_invocation("req-1"), make_invocation("req-2", b"2")
    api.submit(first)
    api.submit(second)
    runtime = RawRuntime(api)

    runtime.request("GET", "/invocation/next")
    status, _, body = runtime.request("POST", "/invocation/req-1/response", b'{"ok": true}')
    assert (status, json.loads(body)) == (202, {"status": "OK"})
    assert first.done.is_set()
    assert first.response == b'{"ok": true}'
    assert first.error is None

    # Same socket, next event: the emulator speaks HTTP/1.1 keep-alive.
    assert runtime.request("GET", "/invocation/next")[2] == b"2"
    runtime.request("POST", "/invocation/req-2/response", b"null")
    assert second.response == b"null"
    assert api.protocol_errors == []


def test_error_carries_the_document_and_the_error_type_header(api: RuntimeApi) -> None:
    invocation = make_invocation()
    api.submit(invocation)
    runtime = RawRuntime(api)
    runtime.request("GET", "/invocation/next")
    document = {"errorType": "OverdraftRefused", "errorMessage": "no", "stackTrace": ["l1"]}
    status, _, _ = runtime.request(
        "POST",
        "/invocation/req-1/error",
        json.dumps(document).encode(),
        {"Lambda-Runtime-Function-Error-Type": "Unhandled"},
    )

    assert status == 202
    assert invocation.error is not None
    assert (invocation.error.error_type, invocation.error.message) == ("OverdraftRefused", "no")
    assert invocation.error.trace == ["l1"]
    assert invocation.error.request_id == "req-1"


def test_an_error_without_a_json_body_takes_its_type_from_the_header(api: RuntimeApi) -> None:
    invocation = make_invocation()
    api.submit(invocation)
    runtime = RawRuntime(api)
    runtime.request("GET", "/invocation/next")
    runtime.request(
        "POST",
        "/invocation/req-1/error",
        b"segfault in module",
        {"Lambda-Runtime-Function-Error-Type": "Runtime.Crash"},
    )
    assert invocation.error is not None
    assert (invocation.error.error_type, invocation.error.message) == (
        "Runtime.Crash",
        "segfault in module",
    )


def test_wrong_or_repeated_request_ids_are_refused_and_recorded(api: RuntimeApi) -> None:
    invocation = make_invocation()
    api.submit(invocation)
    runtime = RawRuntime(api)
    runtime.request("GET", "/invocation/next")

    status, _, body = runtime.request("POST", "/invocation/nobody/response", b"1")
    assert (status, json.loads(body)["errorType"]) == (400, "InvalidRequestID")
    assert runtime.request("POST", "/invocation/req-1/response", b"1")[0] == 202
    status, _, body = runtime.request("POST", "/invocation/req-1/response", b"2")
    assert (status, json.loads(body)["errorType"]) == (403, "InvalidStateTransition")
    assert invocation.response == b"1"
    assert len(api.protocol_errors) == 2


def test_an_answer_for_an_event_not_yet_delivered_is_refused(api: RuntimeApi) -> None:
    api.submit(make_invocation("queued"))
    status, _, _ = RawRuntime(api).request("POST", "/invocation/queued/response", b"1")
    assert status == 400


def test_response_over_six_megabytes_is_413_and_the_invocation_fails(api: RuntimeApi) -> None:
    invocation = make_invocation()
    api.submit(invocation)
    runtime = RawRuntime(api)
    runtime.request("GET", "/invocation/next")
    status, _, _ = runtime.request(
        "POST", "/invocation/req-1/response", b"x" * (RESPONSE_LIMIT_BYTES + 1)
    )

    assert status == 413
    assert invocation.error is not None
    assert invocation.error.error_type == RESPONSE_TOO_LARGE


def test_response_of_exactly_the_limit_is_accepted(api: RuntimeApi) -> None:
    invocation = make_invocation()
    api.submit(invocation)
    runtime = RawRuntime(api)
    runtime.request("GET", "/invocation/next")
    payload = b"x" * RESPONSE_LIMIT_BYTES
    assert runtime.request("POST", "/invocation/req-1/response", payload)[0] == 202
    assert invocation.response == payload


def test_init_error_fails_queued_events_and_later_ones(api: RuntimeApi) -> None:
    queued = make_invocation("queued")
    api.submit(queued)
    document = {"errorType": "RuntimeError", "errorMessage": "bad config", "stackTrace": []}
    status, _, _ = RawRuntime(api).request(
        "POST",
        "/init/error",
        json.dumps(document).encode(),
        {"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigError"},
    )
    later = make_invocation("later")
    api.submit(later)

    assert status == 202
    for invocation in (queued, later):
        assert isinstance(invocation.error, InitError)
        assert invocation.error.error_type == "Runtime.ConfigError"
        assert invocation.error.message == "bad config"


def test_init_error_after_the_first_poll_is_refused(api: RuntimeApi) -> None:
    api.submit(make_invocation())
    runtime = RawRuntime(api)
    runtime.request("GET", "/invocation/next")
    status, _, body = runtime.request("POST", "/init/error", b"{}")
    assert (status, json.loads(body)["errorType"]) == (403, "InvalidStateTransition")
    assert api.init_error is None


def test_snapstart_handshake_marks_init_done_at_restore_next(api: RuntimeApi) -> None:
    status, _, body = RawRuntime(api).request("GET", "/restore/next")
    assert (status, body) == (200, b"")
    assert api.init_done.is_set()
    assert api.restore_next_ns is not None
    assert api.first_next_ns is None


def test_restore_error_becomes_the_init_error(api: RuntimeApi) -> None:
    runtime = RawRuntime(api)
    runtime.request("GET", "/restore/next")
    status, _, _ = runtime.request(
        "POST",
        "/restore/error",
        b'{"errorType": "ConnectionError", "errorMessage": "gone"}',
        {"Lambda-Runtime-Function-Error-Type": "Runtime.AfterRestoreError"},
    )
    assert status == 202
    assert api.init_error is not None
    assert api.init_error.error_type == "Runtime.AfterRestoreError"


def test_chunked_response_bodies_are_reassembled(api: RuntimeApi) -> None:
    invocation = make_invocation()
    api.submit(invocation)
    runtime = RawRuntime(api)
    runtime.request("GET", "/invocation/next")
    connection = runtime.connection
    connection.putrequest("POST", "/2018-06-01/runtime/invocation/req-1/response")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    for part in (b'{"a": ', b'"chunked"}'):
        connection.send(b"%x\r\n%s\r\n" % (len(part), part))
    connection.send(b"0\r\n\r\n")
    assert connection.getresponse().status == 202
    assert invocation.response == b'{"a": "chunked"}'


def test_unknown_routes_are_404(api: RuntimeApi) -> None:
    runtime = RawRuntime(api)
    assert runtime.request("GET", "/invocation/other")[0] == 404
    assert runtime.request("POST", "/somewhere", b"{}")[0] == 404


def test_closing_releases_a_parked_poll_and_refuses_new_events() -> None:
    api = RuntimeApi()
    runtime = RawRuntime(api)
    failures: list[BaseException] = []

    def poll() -> None:
        try:
            runtime.request("GET", "/invocation/next")
        except (http.client.HTTPException, OSError) as error:
            failures.append(error)

    poller = threading.Thread(target=poll)
    poller.start()
    assert api.init_done.wait(10)
    api.close()
    poller.join(10)
    assert not poller.is_alive()
    assert len(failures) == 1  # the poll ended without an event
    with pytest.raises(HarnessClosed):
        api.submit(make_invocation())


# -- Python handlers under the real awslambdaric ---------------------------------------


def test_echo_returns_the_event_and_plumbs_the_request_id(echo: LocalLambda) -> None:
    result = echo.send(
        {"amount": 5},
        request_id="8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        trace_id="Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
    )
    seen = result.json()

    assert seen["event"] == {"amount": 5}
    assert seen["request_id"] == result.request_id == "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
    assert seen["trace_id"] == (
        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
    )
    assert seen["function_arn"] == echo.function_arn
    assert seen["function_arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:harness-echo"
    assert result.content_type == "application/json"


def test_each_invocation_gets_a_fresh_request_id(echo: LocalLambda) -> None:
    ids = [echo.invoke({})["request_id"] for _ in range(3)]
    assert len(set(ids)) == 3


def test_client_context_and_cognito_identity_reach_the_context(echo: LocalLambda) -> None:
    seen = echo.invoke(
        {},
        client_context={"custom": {"tenant": "t-1"}, "env": {}, "client": {}},
        cognito_identity={"cognitoIdentityId": "eu-west-1:abc", "cognitoIdentityPoolId": "p"},
    )
    assert seen["client_custom"] == {"tenant": "t-1"}
    assert seen["cognito_identity_id"] == "eu-west-1:abc"


def test_the_function_sees_lambdas_environment_and_not_the_callers(
    echo: LocalLambda, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_CALLER_ONLY", "leak")
    environ = echo.invoke({})["environ"]
    seen = echo.invoke({})

    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "harness-echo"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/harness-echo"
    assert environ["AWS_LAMBDA_LOG_STREAM_NAME"] == seen["log_stream_name"]
    assert "[$LATEST]" in environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert environ["_HANDLER"] == "probe.echo"
    assert environ["LAMBDA_TASK_ROOT"] == str(DATA)
    assert environ["TZ"] == ":UTC"
    assert environ["AWS_EXECUTION_ENV"] == PYTHON_EXECUTION_ENV == "AWS_Lambda_python3.13"
    assert environ["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert environ["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert environ["AWS_ACCESS_KEY_ID"] == "AKIDLOCALHARNESS"
    assert environ["AWS_SECRET_ACCESS_KEY"] == "harness-secret"
    assert environ["AWS_SESSION_TOKEN"] == "harness-session-token"
    assert environ["HOTCORE_TABLE"] == "events"
    assert "HARNESS_CALLER_ONLY" not in environ
    # The context reads the same settings.
    assert (seen["function_name"], seen["memory_limit_in_mb"]) == ("harness-echo", "256")
    assert seen["log_group_name"] == "/aws/lambda/harness-echo"


def test_code_dir_is_the_working_directory_and_the_layer_is_on_the_path(
    echo: LocalLambda,
) -> None:
    seen = echo.invoke({})
    assert seen["cwd"] == str(DATA)
    assert seen["layer"] == "layer"
    path = seen["sys_path"]
    layer_site = str(LAYER / "lib" / "python3.13" / "site-packages")
    # As on Lambda: task root, then the layer (its site-packages form first).
    assert path.index(str(DATA)) < path.index(layer_site) < path.index(str(LAYER))


def test_warm_invocations_reuse_the_process_and_its_module_state() -> None:
    with probe("count") as fn:
        answers = [fn.invoke({}) for _ in range(3)]
        assert [a["invocations"] for a in answers] == [1, 2, 3]
        assert {a["pid"] for a in answers} == {fn.environment.pid if fn.environment else -1}
        assert len(fn.environments) == 1


def test_a_raised_exception_is_an_error_response_with_its_type() -> None:
    with probe("refuse") as fn:
        result = fn.send({"balance": 3, "amount": 10})
        error = result.error
        assert isinstance(error, FunctionError)
        assert not isinstance(error, InitError)
        assert error.error_type == "OverdraftRefused"
        assert error.message == "balance 3 is below 10"
        assert error.request_id == result.request_id
        assert error.body["requestId"] == result.request_id
        assert any("probe.py" in line and "refuse" in line for line in error.trace)
        assert "[ERROR] OverdraftRefused: balance 3 is below 10" in result.logs
        with pytest.raises(FunctionError, match="OverdraftRefused"):
            fn.invoke({"balance": 0, "amount": 1})
        # A handled failure does not cost the environment.
        assert fn.environment is not None
        assert fn.environment.alive
        assert len(fn.environments) == 1


def test_a_payload_that_is_not_json_fails_in_the_runtime_client(echo: LocalLambda) -> None:
    error = echo.send(b"{not json").error
    assert error is not None
    assert error.error_type == "Runtime.UnmarshalError"


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("broken_init.handler", "RuntimeError", "HOTCORE_TABLE is not set"),
        ("no_such_module.handler", "Runtime.ImportModuleError", "No module named"),
        ("probe.no_such_function", "Runtime.HandlerNotFound", "no_such_function"),
    ],
)
def test_init_failure_is_the_first_invokes_answer(
    handler: str, error_type: str, message: str
) -> None:
    with LocalLambda(handler, code_dir=DATA, layer_dir=LAYER) as fn:
        first_environment = fn.environment
        assert first_environment is not None
        assert first_environment.init_error is not None
        assert first_environment.init_error.error_type == error_type
        assert not first_environment.alive  # the runtime exits after reporting

        result = fn.send({})
        assert isinstance(result.error, InitError)
        assert result.error.error_type == error_type
        assert message in result.error.message
        assert result.timing.delivered_ns is None
        assert f"[ERROR] {error_type}" in result.logs

        # Lambda retries init on the next invoke: a new process, the same failure.
        with pytest.raises(InitError):
            fn.invoke({})
        assert len(fn.environments) == 2


def test_deadline_header_follows_the_function_timeout() -> None:
    with probe("echo", timeout=20) as fn:
        remaining = fn.invoke({})["remaining_ms"]
        assert 0 < remaining <= 20_000
        remaining = fn.invoke({}, timeout=5)["remaining_ms"]
        assert 0 < remaining <= 5_000


def test_a_handler_past_its_deadline_times_out_and_the_process_is_replaced() -> None:
    with probe("sleep", timeout=1) as fn:
        result = fn.send({"seconds": 60})
        assert result.error is not None
        assert result.error.error_type == TIMED_OUT
        assert f"RequestId: {result.request_id}" in result.error.message
        first = fn.environments[0]
        assert not first.alive
        assert first.returncode is not None
        assert first.returncode < 0

        assert fn.invoke({"seconds": 0}) == "woke up"
        assert len(fn.environments) == 2


def test_a_process_that_dies_mid_invocation_gives_runtime_exit_error() -> None:
    with probe("exit_hard") as fn:
        result = fn.send({"status": 3})
        assert result.error is not None
        assert result.error.error_type == RUNTIME_EXIT_ERROR
        assert "exit status 3" in result.error.message
        assert fn.environments[0].returncode == 3


def test_a_response_over_six_megabytes_fails_and_the_next_invoke_gets_a_fresh_process() -> None:
    with probe("oversize") as fn:
        result = fn.send({"bytes": RESPONSE_LIMIT_BYTES + 100})
        assert result.error is not None
        assert result.error.error_type == RESPONSE_TOO_LARGE
        assert fn.invoke({"bytes": 10}) == "x" * 10
        # awslambdaric treats the 413 as fatal and exits, as it does on Lambda.
        assert len(fn.environments) == 2


def test_an_event_over_the_request_limit_is_refused_before_sending(echo: LocalLambda) -> None:
    with pytest.raises(RequestTooLarge):
        echo.send(b'"' + b"x" * REQUEST_LIMIT_BYTES + b'"')


def test_each_invocation_keeps_the_logs_written_while_it_ran() -> None:
    with probe("chatty") as fn:
        first, second = fn.send({}), fn.send({})
        assert f"print from {first.request_id}" in first.logs
        assert f"logging from {first.request_id}" in first.logs
        assert second.request_id not in first.logs
        assert f"print from {second.request_id}" in second.logs
        # The environment's log has init output too.
        assert "probe: init done" in fn.logs
    assert "probe: init done" in fn.logs  # still readable after close


def test_timings_are_recorded_in_causal_order() -> None:
    with probe("count") as fn:
        for _ in range(3):
            fn.invoke({})
    timings = fn.timings  # after close: the exit is in too

    assert timings.first_next_ns is not None
    assert timings.first_response_ns is not None
    assert timings.started_ns < timings.first_next_ns <= timings.first_response_ns
    assert timings.restore_next_ns is None
    assert timings.restore_ms is None
    assert timings.init_ms is not None
    assert timings.first_response_ms is not None
    assert len(timings.invocations) == 3
    assert len(timings.durations_ms) == 3
    for invocation in timings.invocations:
        assert invocation.delivered_ns is not None
        assert invocation.queued_ns <= invocation.delivered_ns <= invocation.completed_ns
    assert timings.first_invoke_ms == timings.invocations[0].round_trip_ms
    assert timings.exited_ns is not None  # closed


def test_cold_start_measures_a_fresh_process_and_kills_it() -> None:
    fn = probe("count")
    try:
        cold = [fn.cold_start({}) for _ in range(2)]
    finally:
        fn.close()

    assert [c.json()["invocations"] for c in cold] == [1, 1]  # each a fresh process
    assert len({c.json()["pid"] for c in cold}) == 2
    assert all(not environment.alive for environment in fn.environments)
    for c in cold:
        assert c.init_ms is not None
        assert c.invoke_ms is not None
        assert c.timings.started_ns < c.result.timing.completed_ns
        assert c.total_ms == c.timings.first_response_ms
    if sys.platform == "linux":
        for c in cold:
            assert c.usage is not None
            assert c.usage.max_rss_kib > 0
            assert c.usage.cpu_s >= 0
        # The whole life's peak is at least the peak up to the first answer.
        exit_usage, first_usage = cold[0].exit_usage, cold[0].usage
        assert exit_usage == fn.environments[0].exit_usage
        assert exit_usage is not None
        assert first_usage is not None
        assert exit_usage.max_rss_kib >= first_usage.max_rss_kib


def test_cold_start_raises_the_functions_error_unless_told_not_to() -> None:
    fn = LocalLambda("broken_init.handler", code_dir=DATA)
    try:
        with pytest.raises(InitError, match="HOTCORE_TABLE"):
            fn.cold_start({})
        cold = fn.cold_start({}, check=False)
        assert isinstance(cold.result.error, InitError)
    finally:
        fn.close()


def test_snapstart_runs_the_hooks_around_a_restore() -> None:
    with LocalLambda(
        "snapstart_probe.handler", code_dir=DATA, initialization_type="snap-start"
    ) as fn:
        seen = fn.invoke({})
        timings = fn.timings
    assert seen == {
        "hooks": ["before_snapshot", "after_restore"],
        "initialization_type": "snap-start",
    }
    assert timings.restore_next_ns is not None
    assert timings.first_next_ns is not None
    assert timings.restore_next_ns <= timings.first_next_ns
    assert timings.restore_ms is not None


def test_a_failing_after_restore_hook_is_an_init_error() -> None:
    with (
        LocalLambda(
            "snapstart_probe.handler",
            code_dir=DATA,
            initialization_type="snap-start",
            env={"PROBE_FAIL_RESTORE": "1"},
        ) as fn,
        pytest.raises(InitError) as raised,
    ):
        fn.invoke({})
    assert raised.value.error_type == "Runtime.AfterRestoreError"
    assert "cannot reconnect" in raised.value.message


def test_reserved_variables_cannot_be_overridden() -> None:
    with pytest.raises(ReservedVariable, match="region="):
        LocalLambda("probe.echo", code_dir=DATA, env={"AWS_REGION": "eu-west-1"})
    with pytest.raises(ReservedVariable, match="credentials="):
        LocalLambda("probe.echo", code_dir=DATA, env={"AWS_ACCESS_KEY_ID": "x"})


def test_closing_kills_the_process_and_refuses_more_work() -> None:
    fn = probe("count")
    with fn:
        environment = fn.environment
        assert environment is not None
        assert environment.alive
    assert not environment.alive
    assert not fn.log_dir.exists()  # the temporary log folder is gone
    with pytest.raises(HarnessClosed):
        fn.invoke({})


def test_log_dir_keeps_one_log_file_per_environment(tmp_path: Path) -> None:
    with probe("sleep", timeout=1, log_dir=tmp_path) as fn:
        fn.send({"seconds": 60})  # times out: a second environment follows
        fn.invoke({"seconds": 0})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "environment-1.log",
        "environment-2.log",
    ]
    assert "probe: init done" in (tmp_path / "environment-2.log").read_text()


# -- custom runtimes (provided.al2023) ---------------------------------------------------


@pytest.fixture
def bootstrap(tmp_path: Path) -> Path:
    """An executable ``bootstrap``, as a provided.al2023 function ships it."""
    script = tmp_path / "bootstrap"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{DATA / "custom_bootstrap.py"}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_custom_runtime_answers_through_the_same_api(bootstrap: Path) -> None:
    with LocalLambda(
        "function.handler",
        code_dir=bootstrap.parent,
        bootstrap=bootstrap,
        credentials=CREDENTIALS,
        env={"EXTRA": "yes"},
    ) as fn:
        seen = fn.invoke({"n": 1}, request_id="rid-7")
        chunked = fn.invoke({"chunked": True})
        assert fn.environment is not None
        assert fn.environment.api.protocol_errors == []

    assert seen["event"] == {"n": 1}
    assert seen["headers"]["Lambda-Runtime-Aws-Request-Id"] == "rid-7"
    environ = seen["environ"]
    assert environ["_HANDLER"] == "function.handler"
    assert environ["LAMBDA_TASK_ROOT"] == str(bootstrap.parent)
    assert environ["AWS_ACCESS_KEY_ID"] == "AKIDLOCALHARNESS"
    assert environ["EXTRA"] == "yes"
    # OS-only runtimes have no AWS_EXECUTION_ENV, and no Python path of ours.
    assert "AWS_EXECUTION_ENV" not in environ
    assert "PYTHONPATH" not in environ
    assert chunked["event"] == {"chunked": True}


def test_a_custom_runtimes_error_and_init_error(bootstrap: Path) -> None:
    with LocalLambda("h", code_dir=bootstrap.parent, bootstrap=bootstrap) as fn:
        error = fn.send({"fail": "bad input"}).error
        assert error is not None
        assert (error.error_type, error.message) == ("BadThing", "bad input")
        assert fn.invoke({"after": "error"})["event"] == {"after": "error"}

    with (
        LocalLambda(
            "h", code_dir=bootstrap.parent, bootstrap=bootstrap, env={"PROBE_INIT_FAIL": "1"}
        ) as fn,
        pytest.raises(InitError) as raised,
    ):
        fn.invoke({})
    # The error-type header names the failure; the document says what went wrong.
    assert raised.value.error_type == "Runtime.ConfigError"
    assert raised.value.message == "no table configured"


def test_a_bootstrap_given_as_an_argv_list(tmp_path: Path) -> None:
    fn = LocalLambda(
        "h", code_dir=tmp_path, bootstrap=[sys.executable, str(DATA / "custom_bootstrap.py")]
    )
    try:
        cold = fn.cold_start({"n": 2})
    finally:
        fn.close()
    assert cold.json()["event"] == {"n": 2}
    assert cold.json()["argv"] == [str(DATA / "custom_bootstrap.py")]


def _rust_hello() -> Path | None:
    for profile in ("release", "debug"):
        binary = RUST_TARGET / profile / "hello"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    return None


@pytest.mark.skipif(
    _rust_hello() is None, reason="bench/rust hello is not built (cargo build --bin hello)"
)
def test_the_rust_baseline_hello_runs_as_a_custom_runtime(tmp_path: Path) -> None:
    binary = _rust_hello()
    assert binary is not None
    fn = LocalLambda("bootstrap", code_dir=tmp_path, bootstrap=binary)
    try:
        cold = fn.cold_start({"name": "rust"})
        with fn:
            warm = [fn.invoke({}) for _ in range(2)]
            assert fn.environment is not None
            assert fn.environment.api.protocol_errors == []
    finally:
        fn.close()
    assert cold.json() == {"message": "hello"}
    assert warm == [{"message": "hello"}] * 2

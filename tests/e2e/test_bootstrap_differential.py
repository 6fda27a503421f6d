"""hotcore's bootstrap and awslambdaric answer every event alike: the differential suite.

Each case runs the same handler and the same events in two functions of the local
harness that start the way the managed python3.13 runtime starts them
(``ManagedRuntime``): one plain (awslambdaric), one with ``AWS_LAMBDA_EXEC_WRAPPER``
set to the layer's ``hotcore-bootstrap``. The answers, and the error documents
(type, message, stack, keys), must be the same; where the two JSON libraries word a
refusal differently only the part Lambda's contract fixes is compared (the prefix).
Cases: hotcore's own command handler accepting, rejecting and refusing a malformed
command; a handler raising, timing out, answering over 6 MB (and exactly 6 MB),
marshalling odd values, logging in text and JSON; handlers failing at import.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hotcore_dev.harness import InvokeResult, LocalLambda, ManagedRuntime

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "tests" / "data" / "lambda" / "differential" / "functions.py"
WRAPPER = ROOT / "src" / "hotcore" / "entrypoints" / "hotcore-bootstrap"
BOOTSTRAPS = ("awslambdaric", "hotcore")
REQUEST_ID = "6f9a2d0e-0c1b-4f7e-9a51-3c2e8d4b7a10"
TRACE_ID = "Root=1-65f0c0de-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> ManagedRuntime:
    return ManagedRuntime.ensure(tmp_path_factory.mktemp("managed-runtime"))


@pytest.fixture(scope="module")
def opt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the layer puts in /opt: python/ (hotcore, msgspec) and the wrapper."""
    folder = tmp_path_factory.mktemp("opt")
    (folder / "python").mkdir()
    (folder / "python" / "hotcore").symlink_to(ROOT / "src" / "hotcore")
    (folder / "python" / "msgspec").symlink_to(Path(msgspec.__file__).parent)
    shutil.copy2(WRAPPER, folder / "hotcore-bootstrap")
    return folder


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The task root: the differential handlers and modules that fail at import."""
    folder = tmp_path_factory.mktemp("task")
    shutil.copy2(FUNCTIONS, folder / "functions.py")
    (folder / "broken_init.py").write_text('raise RuntimeError("HOTCORE_TABLE is not set")\n')
    (folder / "syntax_broken.py").write_text("def handler(event, context)\n    return 1\n")
    (folder / "imports_missing.py").write_text("import not_a_module_anywhere\n")
    return folder


def function(
    bootstrap: str,
    handler: str,
    code_dir: Path,
    runtime: ManagedRuntime,
    opt: Path,
    env: Mapping[str, str] | None = None,
    **options: Any,
) -> LocalLambda:
    variables = dict(env or {})
    if bootstrap == "hotcore":
        variables["AWS_LAMBDA_EXEC_WRAPPER"] = str(opt / "hotcore-bootstrap")
    return LocalLambda(
        handler,
        code_dir=code_dir,
        layer_dir=opt / "python",
        runtime=runtime,
        env=variables,
        function_name="differential",
        **options,
    )


def run_both(
    handler: str,
    events: list[Any],
    code_dir: Path,
    runtime: ManagedRuntime,
    opt: Path,
    env: Mapping[str, str] | None = None,
    send: Mapping[str, Any] | None = None,
    **options: Any,
) -> dict[str, list[InvokeResult]]:
    results: dict[str, list[InvokeResult]] = {}
    for bootstrap in BOOTSTRAPS:
        with function(bootstrap, handler, code_dir, runtime, opt, env, **options) as fn:
            results[bootstrap] = [
                fn.send(event, request_id=f"{REQUEST_ID[:-2]}{n:02d}", **(send or {}))
                for n, event in enumerate(events)
            ]
    return results


def shape(result: InvokeResult, *, message_prefix: bool = False) -> dict[str, Any]:
    """What a caller of Invoke can tell about the outcome."""
    if result.error is None:
        payload = result.payload or b""
        if result.content_type == "application/json":
            return {"answer": json.loads(payload), "content_type": result.content_type}
        return {"answer": payload, "content_type": result.content_type}
    error = result.error
    message = error.message.split(": ", 1)[0] if message_prefix else error.message
    found = {"type": error.error_type, "message": message, "trace": error.trace}
    if error.body:
        found["keys"] = sorted(error.body)
        found["requestId"] = error.body.get("requestId")
    return found


def same(results: dict[str, list[InvokeResult]], **options: bool) -> list[dict[str, Any]]:
    ours = [shape(r, **options) for r in results["hotcore"]]
    theirs = [shape(r, **options) for r in results["awslambdaric"]]
    assert ours == theirs
    return ours


# -- hotcore's own handler ------------------------------------------------------------------


def test_a_hotcore_command_accepted_rejected_and_malformed(
    runtime: ManagedRuntime, opt: Path, tmp_path: Path
) -> None:
    events: list[Any] = [
        {
            "command": {"type": "OpenAccount", "account_id": "a1", "owner_id": "o1"},
            "command_id": "c1",
        },
        {"command": {"type": "Deposit", "account_id": "a1", "amount": 5}, "command_id": "c2"},
        {"command": {"type": "Withdraw", "account_id": "a1", "amount": 50}, "command_id": "c3"},
        {"command": {"type": "Withdraw", "account_id": "a1", "amount": "lots"}},
        {"not": "a command"},
    ]
    results: dict[str, list[InvokeResult]] = {}
    for bootstrap in BOOTSTRAPS:
        env = {"HOTCORE_DB": str(tmp_path / f"{bootstrap}.sqlite")}
        with function(
            bootstrap, "account/command.handler", ROOT / "handlers", runtime, opt, env
        ) as fn:
            results[bootstrap] = [
                fn.send(e, request_id=f"{REQUEST_ID[:-2]}{n:02d}") for n, e in enumerate(events)
            ]
    shapes = same(results)
    # malformed requests are typed answers too: the function raises only transient failures
    assert [s.get("answer", {}).get("outcome") for s in shapes] == [
        "accepted",
        "accepted",
        "rejected",
        "invalid",
        "invalid",
    ]
    assert [s["answer"]["error"] for s in shapes[3:]] == ["InvalidRequest", "BadRequest"]


# -- the context, errors, limits, marshalling -----------------------------------------------


def test_the_context_and_the_environment_match(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    send = {
        "trace_id": TRACE_ID,
        "client_context": {
            "custom": {"k": 1},
            "env": {"platform": "test"},
            "client": {"app_title": "app"},
            "w3c": {"traceparent": "00-abc-def-01", "bogus": 3},
        },
        "cognito_identity": {"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
    }
    results = run_both(
        "functions.context_view", [{"a": [1, "\u00e9"]}, {}], code, runtime, opt, send=send
    )
    shapes = same(results)
    view = shapes[0]["answer"]
    assert view["request_id"] == f"{REQUEST_ID[:-2]}00"
    assert view["trace_id"] == TRACE_ID
    assert view["client_custom"] == {"k": 1}
    assert view["w3c"] == {"traceparent": "00-abc-def-01"}
    assert view["cognito"] == ["id-1", "pool-1"]
    assert view["remaining_positive"]
    assert view["task_root_first"]
    # What Lambda's runtime has (boto3) and what only this machine's venv has (pytest).
    assert (view["sees_boto3"], view["sees_pytest"]) == (True, False)


def test_a_raised_exception_is_the_same_error_document(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    results = run_both("functions.refuse", [{"balance": 1, "amount": 5}], code, runtime, opt)
    (error,) = same(results)
    assert error["type"] == "OverdraftRefused"
    assert error["message"] == "balance 1 is below 5"
    assert error["requestId"] == f"{REQUEST_ID[:-2]}00"
    assert [line.split(", in ")[-1].split("\n")[0] for line in error["trace"]] == [
        "refuse",
        "_check",
    ]


def test_the_error_log_line_is_the_same_in_text_and_json(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    for log_format in ("Text", "JSON"):
        env = {"AWS_LAMBDA_LOG_FORMAT": log_format}
        results = run_both(
            "functions.refuse", [{"balance": 1, "amount": 2}], code, runtime, opt, env
        )
        lines = {
            b: [line for line in r[0].logs.split("\n") if "OverdraftRefused" in line]
            for b, r in results.items()
        }
        if log_format == "JSON":
            records = {b: json.loads(found[-1]) for b, found in lines.items()}
            for record in records.values():
                assert record.pop("timestamp")
            assert records["hotcore"] == records["awslambdaric"]
            assert records["hotcore"]["level"] == "ERROR"
        else:
            assert lines["hotcore"] == lines["awslambdaric"]
            assert lines["hotcore"][-1].startswith(
                "[ERROR] OverdraftRefused: balance 1 is below 2\r"
            )


def test_logging_through_the_logging_module_is_formatted_alike(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    for log_format in ("Text", "JSON"):
        env = {"AWS_LAMBDA_LOG_FORMAT": log_format}
        results = run_both("functions.logs", [{"what": "x"}], code, runtime, opt, env)
        same(results)
        logs = {b: r[0].logs for b, r in results.items()}
        for text in logs.values():
            assert "print line" in text
        if log_format == "JSON":
            records = {
                b: [json.loads(line) for line in text.splitlines() if line.startswith("{")]
                for b, text in logs.items()
            }
            for found in records.values():
                for record in found:
                    record.pop("timestamp")
            assert records["hotcore"] == records["awslambdaric"]
            assert records["hotcore"][0]["message"] == "warned about x"
            assert records["hotcore"][1]["errorType"] == "KeyError"
        else:

            def strip_time(text: str) -> list[str]:
                return [
                    "\t".join(p for n, p in enumerate(line.split("\t")) if n != 1)
                    for line in text.splitlines()
                    if line.startswith("[")
                ]

            assert strip_time(logs["hotcore"]) == strip_time(logs["awslambdaric"])
            assert strip_time(logs["hotcore"])[0] == (
                f"[WARNING]\t{REQUEST_ID[:-2]}00\twarned about x"
            )


def test_a_handler_past_its_deadline_times_out_under_both(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    results = run_both("functions.sleep", [{"seconds": 5}], code, runtime, opt, timeout=1.0)
    (error,) = same(results)
    assert error["type"] == "Sandbox.Timedout"


def test_an_answer_over_six_megabytes_is_refused_alike_and_one_of_exactly_six_is_not(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    results = run_both("functions.oversize", [{"bytes": 7_000_000}], code, runtime, opt)
    ours, theirs = results["hotcore"][0].error, results["awslambdaric"][0].error
    assert ours is not None
    assert theirs is not None
    # awslambdaric sends it and Lambda refuses it; hotcore refuses it before sending.
    assert (ours.error_type, ours.message) == (theirs.error_type, theirs.message)
    assert ours.error_type == "Function.ResponseSizeTooLarge"
    exact = run_both("functions.exact_limit", [{}], code, runtime, opt)
    assert [len(r[0].payload or b"") for r in exact.values()] == [6_291_556, 6_291_556]


@pytest.mark.parametrize(
    "handler", ["functions.shapes", "functions.decimals", "functions.raw_bytes"]
)
def test_answers_are_marshalled_alike(
    handler: str, code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    (answer,) = same(run_both(handler, [{}], code, runtime, opt))
    assert "answer" in answer


def test_the_handler_runs_with_the_interpreter_s_own_garbage_collection(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    """hotcore's bootstrap collects less often while it imports the handler (what init
    builds lives as long as the process), then puts CPython's thresholds back."""
    import gc

    (answer,) = same(run_both("functions.gc_settings", [{}], code, runtime, opt))
    assert answer["answer"] == {"enabled": True, "threshold": list(gc.get_threshold())}


def test_what_cannot_be_marshalled_or_unmarshalled_is_the_same_runtime_error(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    (marshal,) = same(
        run_both("functions.unserializable", [{}], code, runtime, opt), message_prefix=True
    )
    assert (marshal["type"], marshal["message"]) == (
        "Runtime.MarshalError",
        "Unable to marshal response",
    )
    # not JSON, and JSON nested past the decoder's recursion limit (a RecursionError)
    deep = b"[" * 100_000 + b"]" * 100_000
    unmarshal = same(
        run_both("functions.shapes", [b"{not json", deep], code, runtime, opt), message_prefix=True
    )
    assert [u["type"] for u in unmarshal] == ["Runtime.UnmarshalError"] * 2
    assert [u["message"] for u in unmarshal] == ["Unable to unmarshal input"] * 2


# -- init -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        ("broken_init.handler", "RuntimeError"),
        ("syntax_broken.handler", "Runtime.UserCodeSyntaxError"),
        ("imports_missing.handler", "Runtime.ImportModuleError"),
        ("no_such_module.handler", "Runtime.ImportModuleError"),
        ("functions.no_such_function", "Runtime.HandlerNotFound"),
        ("nodot", "Runtime.MalformedHandlerName"),
        ("sys.handler", "Runtime.BuiltInModuleConflict"),
    ],
)
def test_a_failing_init_is_the_same_init_error(
    handler: str, error_type: str, code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    (error,) = same(run_both(handler, [{}], code, runtime, opt))
    assert error["type"] == error_type
    assert error["requestId"] == ""


# -- which bootstrap runs -------------------------------------------------------------------


def which(code: Path, runtime: ManagedRuntime, opt: Path, **options: Any) -> str:
    (folder := code / "which").mkdir(exist_ok=True)
    (folder / "which.py").write_text(
        "import sys\n\ndef handler(event, context):\n"
        "    return 'awslambdaric' if 'awslambdaric' in sys.modules else 'hotcore'\n"
    )
    with function("hotcore", "which.handler", folder, runtime, opt, **options) as fn:
        answer: str = fn.invoke({})
    return answer


def test_the_wrapper_runs_hotcore_unless_told_otherwise(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    assert which(code, runtime, opt) == "hotcore"
    assert which(code, runtime, opt, env={"HOTCORE_BOOTSTRAP": "awslambdaric"}) == "awslambdaric"


def test_snapstart_functions_keep_awslambdaric(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    assert which(code, runtime, opt, initialization_type="snap-start") == "awslambdaric"


def test_an_unknown_bootstrap_choice_fails_the_init_clearly(
    code: Path, runtime: ManagedRuntime, opt: Path
) -> None:
    with function(
        "hotcore", "functions.shapes", code, runtime, opt, env={"HOTCORE_BOOTSTRAP": "fast"}
    ) as fn:
        result = fn.send({})
    assert result.error is not None
    assert result.error.error_type == "Runtime.ExitError"
    assert "HOTCORE_BOOTSTRAP must be hotcore or awslambdaric, not 'fast'" in fn.logs

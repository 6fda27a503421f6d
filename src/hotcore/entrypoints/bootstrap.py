"""hotcore's Lambda runtime: the Runtime API (2018-06-01) loop, in place of awslambdaric.

The layer's wrapper script (``/opt/hotcore-bootstrap``, set as the function's
``AWS_LAMBDA_EXEC_WRAPPER``) starts the managed python3.13 runtime's interpreter on
this file instead of on ``/var/runtime/bootstrap.py``; docs/coldstart.md says why and
what it saves. To the handler, nothing changes: it gets the decoded event and a
context with the attributes and methods of awslambdaric's ``LambdaContext``; to the
caller, nothing changes either: answers, error documents (``errorMessage``,
``errorType``, ``requestId``, ``stackTrace``) and error types (``Runtime.ImportModuleError``,
``Runtime.HandlerNotFound``, ``Runtime.UnmarshalError``, ...) are those of awslambdaric,
which the differential suite (tests/e2e/test_bootstrap_differential.py) checks.

The loop, after the handler module is imported (the init phase; a failure there is
posted to ``/runtime/init/error`` and ends the process):

1. ``GET /runtime/invocation/next`` (no timeout: it blocks until an event comes); the
   request id, deadline, function ARN, trace id (into ``_X_AMZN_TRACE_ID``), client
   context and Cognito identity arrive as ``Lambda-Runtime-*`` headers;
2. call the handler with the JSON-decoded event and the context;
3. ``POST .../response`` with the JSON answer, or ``POST .../error`` with the error
   document, the ``Lambda-Runtime-Function-Error-Type`` header and the X-Ray cause.
   An answer over 6 MB is refused here as Lambda refuses it
   (``Function.ResponseSizeTooLarge``) instead of being sent to be refused.

Logs: the text or JSON form ``AWS_LAMBDA_LOG_FORMAT`` asks for, written to Lambda's
telemetry pipe when it hands one over (``_LAMBDA_TELEMETRY_LOG_FD``), else to stdout.
``logging`` is configured like awslambdaric does only if the handler imports it, so a
handler that does not pays nothing for it. JSON is msgspec's when the handler loaded
msgspec (every hotcore handler does), else the standard library's C encoder and
scanner (``_json``, without the ``json`` package and its ``re``); an answer the C
encoder cannot write (a ``Decimal``, a datetime, a msgspec Struct) goes through
msgspec. So this loop encodes a few types awslambdaric's simplejson refuses:
docs/coldstart.md lists the differences.

SnapStart is not this loop's job: the wrapper leaves SnapStart functions (and
``HOTCORE_BOOTSTRAP=awslambdaric``) to awslambdaric.
"""

from __future__ import annotations

import gc
import os
import sys
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (hello world has none)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: Lambda's limit on a buffered response, the figure its own error message quotes.
RESPONSE_LIMIT_BYTES = 6_291_556
_API = "/2018-06-01/runtime"
_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_XRAY_CAUSE_HEADER = "Lambda-Runtime-Function-XRay-Error-Cause"
_XRAY_CAUSE_LIMIT = 1024 * 1024
_PYTHON = f"python{sys.version_info.major}.{sys.version_info.minor}"
#: Allocations between two young collections during init (CPython's default is 2000).
_INIT_GC_THRESHOLD = 100_000


def _layer_paths() -> list[str]:
    """Where Lambda puts the function's code and layers, task root first.

    The layer that holds this file is found from it (``/opt/python`` on Lambda);
    ``/opt/python`` is kept as well for a hotcore vendored in the function's code.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    package_root = os.path.dirname(os.path.dirname(here))  # .../python of .../python/hotcore
    paths = [os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()]
    # As the managed runtime: a PYTHONPATH the interpreter applied replaces the layers.
    if "PYTHONPATH" not in os.environ or sys.flags.ignore_environment:
        for root in (package_root, "/opt/python"):
            paths += [os.path.join(root, "lib", _PYTHON, "site-packages"), root]
    return paths


def _prepare_path() -> None:
    """sys.path as the managed runtime lays it out, before anything else is imported.

    The wrapper starts Python without ``site`` (``-S``) and without the script's folder
    on the path (``-P``): the layers come first, then what ``PYTHONPATH`` and the
    standard library give, then the runtime's own site-packages (boto3) and folder,
    which ``site`` would have added.
    """
    front: list[str] = []
    for path in _layer_paths():
        if path not in front:
            front.append(path)
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if p not in front and os.path.abspath(p or ".") != here]
    prefix = sys.prefix
    venv = os.path.dirname(os.path.dirname(sys.executable))
    if os.path.isfile(os.path.join(venv, "pyvenv.cfg")):  # as site does for a virtualenv
        prefix = venv
    tail = [os.path.join(prefix, "lib", _PYTHON, "site-packages")]
    runtime_dir = os.environ.get("LAMBDA_RUNTIME_DIR")
    if runtime_dir:
        tail.append(runtime_dir)
    sys.path[:] = front + rest + [p for p in tail if p not in front and p not in rest]


# -- the context ---------------------------------------------------------------------


class CognitoIdentity:
    """``context.identity``: the Cognito identity of mobile-SDK invocations (else Nones)."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, document: dict[str, Any] | None) -> None:
        document = document or {}
        self.cognito_identity_id = document.get("cognitoIdentityId")
        self.cognito_identity_pool_id = document.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    """``context.client_context.client``: the calling mobile app."""

    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, document: dict[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, document.get(name))

    def __repr__(self) -> str:
        fields = ",".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"Client([{fields}])"


class ClientContext:
    """``context.client_context``: what a mobile SDK caller sent (custom, env, client)."""

    __slots__ = ("client", "custom", "env")

    def __init__(self, document: dict[str, Any]) -> None:
        self.custom = document.get("custom")
        self.env = document.get("env")
        client = document.get("client")
        self.client = None if client is None else Client(client)

    def __repr__(self) -> str:
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


class LambdaContext:
    """The handler's second argument: the same attributes and methods as awslambdaric's."""

    def __init__(
        self,
        request_id: str,
        deadline_ms: int,
        invoked_function_arn: str | None,
        client_context: dict[str, Any] | None,
        cognito_identity: dict[str, Any] | None,
        tenant_id: str | None = None,
    ) -> None:
        environ = os.environ
        self.aws_request_id = request_id
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        w3c = client_context.pop("w3c", None) if isinstance(client_context, dict) else None
        self._w3c = {
            key: value
            for key, value in (w3c.items() if isinstance(w3c, dict) else ())
            if key in ("traceparent", "tracestate", "baggage") and isinstance(value, str)
        }
        self.client_context = None if client_context is None else ClientContext(client_context)
        self.identity = CognitoIdentity(cognito_identity)
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops this invocation (0 once past the deadline)."""
        left = self._deadline_ms - int(time.time() * 1000)
        return left if left > 0 else 0

    def w3c(self) -> dict[str, str]:
        """The W3C trace context (traceparent, tracestate, baggage) the caller sent."""
        return dict(self._w3c)

    def log(self, message: object) -> None:
        """Write ``message`` to the function's log, as one record."""
        _LOG.write(str(message))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},identity={self.identity},"
            f"tenant_id={self.tenant_id}])"
        )


# -- errors, as Lambda reports them ----------------------------------------------------------


class Fault(Exception):
    """A failure the runtime itself names (``Runtime.*``), with its message and trace."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def _trace_of(error: BaseException) -> tuple[list[str], list[tuple[str, int, str]]]:
    """The formatted stack (this file's frames dropped) and (file, line, function) per frame.

    Formatted from plain tuples, as awslambdaric does: no column carets.
    """
    import traceback

    frames = list(traceback.extract_tb(error.__traceback__))
    while frames and frames[0].filename == _OWN_FILE:
        frames.pop(0)
    rows = [(f.filename, f.lineno or 0, f.name, f.line) for f in frames]
    return traceback.format_list(rows), [(path, line, name) for path, line, name, _ in rows]


#: The file name this module's frames carry (the source's, even when run from bytecode).
_OWN_FILE = _trace_of.__code__.co_filename


def _error_document(
    message: str, error_type: str, trace: list[str], request_id: str = ""
) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": trace,
    }


def _failure(error: BaseException, request_id: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """The error document and the X-Ray cause of ``error``."""
    if isinstance(error, Fault):
        document = _error_document(error.message, error.error_type, error.trace, request_id)
        return document, _xray_cause("LambdaValidationError", error.message, [])
    trace, frames = _trace_of(error)
    document = _error_document(str(error), type(error).__name__, trace, request_id)
    return document, _xray_cause(type(error).__name__, str(error), frames)


def _xray_cause(
    error_type: str, message: str, frames: list[tuple[str, int, str]]
) -> dict[str, Any]:
    return {
        "working_directory": os.getcwd(),
        "exceptions": [
            {
                "message": message,
                "type": error_type,
                "stack": [
                    {"label": name, "path": path, "line": line} for path, line, name in frames
                ],
            }
        ],
        "paths": sorted({path for path, _, _ in frames}),
    }


# -- logs ----------------------------------------------------------------------------------


class _Log:
    """The function's log: the telemetry pipe's frames, or stdout; text or JSON."""

    _TEXT_FRAME = 0xA55A0003
    _ERROR_FRAMES = {"TEXT": 0xA55A0017, "JSON": 0xA55A0016}

    def __init__(self) -> None:
        self.format = (
            "JSON" if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON" else "TEXT"
        )
        self.request_id: str | None = None
        self._fd: int | None = None
        descriptor = os.environ.pop("_LAMBDA_TELEMETRY_LOG_FD", None)
        if descriptor is not None and descriptor.isdigit():
            self._fd = int(descriptor)

    def write(self, message: str, frame: int | None = None) -> None:
        """One record: a frame on the telemetry pipe, else a plain write to stdout."""
        if self._fd is None:
            sys.stdout.write(message)
            sys.stdout.flush()
            return
        data = message.encode("utf-8")
        header = (frame or self._TEXT_FRAME).to_bytes(4, "big") + len(data).to_bytes(4, "big")
        stamp = (time.time_ns() // 1000).to_bytes(8, "big")
        view = memoryview(header + stamp + data)
        while view:
            view = view[os.write(self._fd, view) :]

    def error(self, document: dict[str, Any]) -> None:
        """The record of a failed invocation or init, as awslambdaric writes it."""
        if self.format == "JSON":
            record = {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "level": "ERROR",
                **document,
            }
            line = _encode(record).decode()
        else:
            line = _text_error(document)
        if self._fd is None:
            line += "\n"
        self.write(line, self._ERROR_FRAMES[self.format])


def _text_error(document: dict[str, Any]) -> str:
    # One record for CloudWatch: lines joined by carriage returns, the stack's
    # indentation kept as no-break spaces (plain spaces would be trimmed).
    head = "[ERROR]"
    if document["errorType"]:
        head += (
            f" {document['errorType']}:"
            if document["errorMessage"]
            else f" {document['errorType']}"
        )
    if document["errorMessage"]:
        head += f" {document['errorMessage']}"
    lines = [head, "Traceback (most recent call last):"]
    for entry in document["stackTrace"]:
        for line in entry.splitlines() or [""]:
            stripped = line.lstrip(" ")
            lines.append("\u00a0" * (len(line) - len(stripped)) + stripped)
    return "\r".join(lines)


_LOG: _Log


# -- JSON ----------------------------------------------------------------------------------


class _ScannerContext:
    """What ``_json.make_scanner`` reads: ``json.loads`` defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {
        "NaN": float("nan"),
        "Infinity": float("inf"),
        "-Infinity": float("-inf"),
    }.__getitem__
    memo: dict[Any, Any] = {}


def _refuse(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _stdlib_codec() -> tuple[Callable[[bytes], Any], Callable[[Any], bytes]]:
    import _json

    scan = _json.make_scanner(_ScannerContext())  # type: ignore[arg-type]
    write = _json.make_encoder(
        {}, _refuse, _json.encode_basestring, None, ": ", ", ", False, False, True
    )
    blank = " \t\n\r"

    def decode(data: bytes) -> Any:
        text = data.decode("utf-8")
        start = len(text) - len(text.lstrip(blank))
        try:
            value, end = scan(text, start)
        except StopIteration as stop:
            raise ValueError(f"Expecting value: char {stop.value}") from None
        if text[end:].strip(blank):
            raise ValueError(f"Extra data: char {end}")
        return value

    def encode(value: Any) -> bytes:
        try:
            return "".join(write(value, 0)).encode("utf-8")
        except TypeError:
            return _msgspec_codec()[1](value)  # Decimal, datetime, Struct...

    return decode, encode


def _msgspec_codec() -> tuple[Callable[[bytes], Any], Callable[[Any], bytes]]:
    import msgspec

    encode = msgspec.json.Encoder(decimal_format="number").encode
    raw_decode = msgspec.json.Decoder().decode

    def decode(data: bytes) -> Any:
        try:
            return raw_decode(data)
        except msgspec.DecodeError as error:
            raise ValueError(str(error)) from None

    return decode, encode


def _encode(value: Any) -> bytes:
    return _CODEC[1](value)


_CODEC: tuple[Callable[[bytes], Any], Callable[[Any], bytes]]


def _configure_logging() -> None:
    """Give ``logging`` the handler awslambdaric installs (the handler imported it)."""
    import logging

    log = _LOG
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    level = "DEBUG" if level == "TRACE" else level

    class LambdaHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            record.aws_request_id = log.request_id or ""
            try:
                log.write(self.format(record))
            except Exception:
                self.handleError(record)

    class JsonFormatter(logging.Formatter):
        _skip = frozenset(logging.makeLogRecord({}).__dict__) | {"aws_request_id", "message"}

        def format(self, record: logging.LogRecord) -> str:
            result: dict[str, Any] = {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
                "level": logging.getLevelName(min(50, max(0, record.levelno)) // 10 * 10),
                "message": record.msg
                if isinstance(record.msg, dict) and not record.args
                else record.getMessage(),
                "logger": record.name,
                "requestId": getattr(record, "aws_request_id", None) or None,
            }
            if record.exc_info and record.exc_info[1] is not None:
                trace, _ = _trace_of(record.exc_info[1])
                result["stackTrace"] = trace
                result["errorType"] = record.exc_info[0].__name__ if record.exc_info[0] else None
                result["errorMessage"] = str(record.exc_info[1])
                result["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
            for key, value in record.__dict__.items():
                if key not in self._skip and key not in result:
                    result[key] = value
            encoded = _encode({k: v for k, v in result.items() if v is not None})
            return encoded.decode() + "\n"

    handler = LambdaHandler()
    if log.format == "JSON":
        handler.setFormatter(JsonFormatter())
    else:
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    if level in logging.getLevelNamesMapping():
        root.setLevel(level)


# -- the loop ------------------------------------------------------------------------------


def _load_handler(name: str) -> Callable[[Any, Any], Any]:
    module_name, dot, function = name.rpartition(".")
    if not dot or not module_name:
        raise Fault(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{name}': not enough values to unpack (expected 2, got 1)",
        )
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    # importlib.import_module, as awslambdaric: a failing import's stack reads the same.
    import importlib

    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}"
        ) from error
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
            trace,
        ) from error
    try:
        handler: Callable[[Any, Any], Any] = getattr(module, function)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound", f"Handler '{function}' missing on module '{module_name}'"
        ) from None
    return handler


class _RuntimeApi:
    """The Runtime API over one keep-alive connection (``AWS_LAMBDA_RUNTIME_API``)."""

    def __init__(self, address: str) -> None:
        from hotcore.aws.connection import Connection

        # No read timeout: /next blocks until the next event, however long that is.
        self._connection = Connection(f"http://{address}", read_timeout=None)

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        response = self._connection.send("POST", _API + path, headers, body)
        if response.status != 202:
            raise RuntimeError(
                f"the Runtime API answered {response.status} to POST {path}: "
                f"{response.body[:500].decode('utf-8', 'replace')}"
            )

    def next(self) -> tuple[dict[str, str], bytes]:
        response = self._connection.send("GET", _API + "/invocation/next", {})
        if response.status != 200:
            raise RuntimeError(f"the Runtime API answered {response.status} to /next")
        return response.headers, response.body

    def respond(self, request_id: str, body: bytes, content_type: str) -> None:
        self._post(f"/invocation/{request_id}/response", body, {"Content-Type": content_type})

    def fail(self, path: str, document: dict[str, Any], cause: dict[str, Any] | None) -> None:
        headers = {"Content-Type": "application/json", _ERROR_TYPE_HEADER: document["errorType"]}
        if cause is not None:
            encoded = _encode(cause).decode()
            if len(encoded) < _XRAY_CAUSE_LIMIT:
                headers[_XRAY_CAUSE_HEADER] = encoded
        self._post(path, _encode(document), headers)


def _json_header(value: str | None, what: str) -> Any:
    if not value:
        return None
    try:
        return _CODEC[0](value.encode())
    except ValueError as error:
        raise Fault(
            "Runtime.LambdaContextUnmarshalError", f"Unable to parse {what} JSON: {error}"
        ) from error


def _invoke(
    api: _RuntimeApi,
    handler: Callable[[Any, Any], Any],
    headers: dict[str, str],
    payload: bytes,
) -> None:
    decode, encode = _CODEC
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    _LOG.request_id = request_id
    trace_id = headers.get("lambda-runtime-trace-id")
    if trace_id is None:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    else:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    try:
        context = LambdaContext(
            request_id,
            int(headers.get("lambda-runtime-deadline-ms") or 0),
            headers.get("lambda-runtime-invoked-function-arn"),
            _json_header(headers.get("lambda-runtime-client-context"), "Client Context"),
            _json_header(headers.get("lambda-runtime-cognito-identity"), "Cognito Identity"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        if headers.get("content-type", "application/json") == "application/json":
            try:
                event = decode(payload)
            except (ValueError, RecursionError) as error:  # as awslambdaric: any decode failure
                raise Fault(
                    "Runtime.UnmarshalError", f"Unable to unmarshal input: {error}"
                ) from None
        else:
            event = payload
        result = handler(event, context)
        if isinstance(result, bytes):
            body, content_type = result, "application/unknown"
        else:
            try:
                body, content_type = encode(result), "application/json"
            except Exception as error:  # whatever the encoder refuses, as awslambdaric
                raise Fault(
                    "Runtime.MarshalError", f"Unable to marshal response: {error}"
                ) from None
        if len(body) > RESPONSE_LIMIT_BYTES:
            raise Fault(
                "Function.ResponseSizeTooLarge",
                "Response payload size exceeded maximum allowed payload size "
                f"({RESPONSE_LIMIT_BYTES} bytes).",
            )
    except Exception as error:
        document, cause = _failure(error, request_id)
        _LOG.error(document)
        _flush()
        api.fail(f"/invocation/{request_id}/error", document, cause)
        return
    _flush()
    api.respond(request_id, body, content_type)


def _flush() -> None:
    # What the invocation printed reaches the log before its answer does.
    sys.stdout.flush()
    sys.stderr.flush()


def main() -> None:
    """Init (import the handler), then answer events until Lambda stops the process."""
    global _LOG, _CODEC
    # Init allocates tens of thousands of objects (modules, classes, decoders) that live as
    # long as the process: a collection every 2000 allocations would walk them again and
    # again for nothing. Fewer passes during init (a handler making much cyclic garbage is
    # still collected), then what init built is frozen out of every later pass and the
    # usual thresholds come back.
    thresholds = gc.get_threshold()
    gc.set_threshold(_INIT_GC_THRESHOLD, *thresholds[1:])
    _prepare_path()
    _CODEC = _stdlib_codec()  # until the handler is imported: init errors need JSON too
    for stream in (sys.stdout, sys.stderr):
        # The wrapper's -u makes them write through; started otherwise, flush per line.
        if not getattr(stream, "write_through", False):
            getattr(stream, "reconfigure", lambda **_: None)(line_buffering=True)
    _LOG = _Log()
    api = _RuntimeApi(os.environ["AWS_LAMBDA_RUNTIME_API"])
    try:
        if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
            raise Fault(
                "Runtime.ConfigInvalid",
                "hotcore's bootstrap does not run SnapStart functions: the layer's wrapper "
                "(AWS_LAMBDA_EXEC_WRAPPER=/opt/hotcore-bootstrap) leaves them to awslambdaric",
            )
        handler = _load_handler(os.environ.get("_HANDLER", ""))
        if "msgspec" in sys.modules:  # the handler uses it: faster, and free now
            _CODEC = _msgspec_codec()
    except Exception as error:
        document, _ = _failure(error)
        _LOG.error(document)
        _flush()
        api.fail("/init/error", document, None)
        sys.exit(1)
    gc.freeze()
    gc.set_threshold(*thresholds)
    logging_configured = False
    while True:
        if not logging_configured and "logging" in sys.modules:
            _configure_logging()
            logging_configured = True
        headers, payload = api.next()
        _invoke(api, handler, headers, payload)


if __name__ == "__main__":
    main()

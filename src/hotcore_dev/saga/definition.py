"""Loading an Amazon States Language definition into a checked, typed model.

The loader is strict on purpose: the file that CDK deploys to Step Functions is
the file the local executor runs, so anything this engine would not execute
exactly as Step Functions does is refused at load time, never skipped:

* ``InvalidDefinition`` for what Step Functions itself would reject (missing
  ``Next``, a transition to an unknown state, an unreachable state, a
  ``States.ALL`` that is not alone and last, a malformed choice rule, ...);
* ``UnsupportedConstruct`` for valid ASL outside the supported subset (JSONata,
  variables, callbacks, service integrations other than Lambda invoke,
  distributed Map, heartbeats, full JSONPath beyond reference paths, ...);
* ``InvalidPath`` for a path that is not accepted where it appears.

Definition substitutions (``${Name}``, as CloudFormation's
DefinitionSubstitutions and CDK's ``definition_substitutions`` do) are applied
to the text before it is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

import msgspec

from hotcore_dev.saga.choice import Branch, parse_branch, parse_timestamp
from hotcore_dev.saga.errors import InvalidDefinition, UnsupportedConstruct
from hotcore_dev.saga.intrinsics import Call, is_intrinsic, parse_intrinsic
from hotcore_dev.saga.jsonpath import ReferencePath, parse_path
from hotcore_dev.saga.template import Template, compile_template
from hotcore_dev.saga.values import Json, decode

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
MAX_STATE_NAME = 80
MAX_SECONDS = 99_999_999
# MaxDelaySeconds tops out at one year in Step Functions.
MAX_DELAY_SECONDS = 31_622_400

_SUBSTITUTION = re.compile(r"\$\{([^{}\s]+)\}")
_LAMBDA_ARN = re.compile(r"arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[^:]+)?")

# Fields that exist in the States Language but that this engine does not run.
_UNSUPPORTED_FIELDS = {
    "Arguments": "JSONata 'Arguments' (this engine runs JSONPath definitions)",
    "Output": "JSONata 'Output' (this engine runs JSONPath definitions)",
    "Assign": "workflow variables ('Assign')",
    "Credentials": "cross-account task 'Credentials'",
    "HeartbeatSeconds": "task heartbeats ('HeartbeatSeconds')",
    "HeartbeatSecondsPath": "task heartbeats ('HeartbeatSecondsPath')",
    "TimeoutSecondsPath": "'TimeoutSecondsPath' (use a literal TimeoutSeconds)",
    "ItemReader": "distributed Map 'ItemReader'",
    "ItemBatcher": "distributed Map 'ItemBatcher'",
    "ResultWriter": "distributed Map 'ResultWriter'",
    "ToleratedFailurePercentage": "Map failure tolerance",
    "ToleratedFailurePercentagePath": "Map failure tolerance",
    "ToleratedFailureCount": "Map failure tolerance",
    "ToleratedFailureCountPath": "Map failure tolerance",
    "MaxConcurrencyPath": "'MaxConcurrencyPath'",
    "Label": "distributed Map 'Label'",
    "Items": "JSONata Map 'Items'",
}

_IO = ("InputPath", "OutputPath")
_FLOW = ("Next", "End")
_RESULT = ("Parameters", "ResultSelector", "ResultPath", "Retry", "Catch")
_ALLOWED: dict[str, frozenset[str]] = {
    "Pass": frozenset((*_IO, *_FLOW, "Parameters", "Result", "ResultPath")),
    "Task": frozenset((*_IO, *_FLOW, *_RESULT, "Resource", "TimeoutSeconds")),
    "Choice": frozenset((*_IO, "Choices", "Default")),
    "Wait": frozenset((*_IO, *_FLOW, "Seconds", "SecondsPath", "Timestamp", "TimestampPath")),
    "Succeed": frozenset(_IO),
    "Fail": frozenset(("Error", "ErrorPath", "Cause", "CausePath")),
    "Parallel": frozenset((*_IO, *_FLOW, *_RESULT, "Branches")),
    "Map": frozenset(
        (*_IO, *_FLOW, *_RESULT, "ItemsPath", "ItemSelector", "ItemProcessor", "Iterator")
    )
    | {"MaxConcurrency"},
}


@dataclass(frozen=True, slots=True)
class Retrier:
    """One element of a ``Retry`` array."""

    error_equals: tuple[str, ...]
    interval_seconds: int = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: int | None = None
    jitter: Literal["FULL", "NONE"] = "NONE"

    def delay(self, retry_number: int) -> float:
        """Seconds before retry number ``retry_number`` (1-based), before any jitter."""
        seconds = self.interval_seconds * self.backoff_rate ** (retry_number - 1)
        if self.max_delay_seconds is not None:
            seconds = min(seconds, self.max_delay_seconds)
        return float(seconds)


@dataclass(frozen=True, slots=True)
class Catcher:
    """One element of a ``Catch`` array; ``result_path`` None is ``"ResultPath": null``."""

    error_equals: tuple[str, ...]
    next: str
    result_path: ReferencePath | None


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Fields every state has; ``input_path``/``output_path`` None mean a JSON null."""

    name: str
    type: str
    input_path: ReferencePath | None
    output_path: ReferencePath | None
    next: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PassState(State):
    parameters: Template | None
    result: Json
    has_result: bool
    result_path: ReferencePath | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState(State):
    resource: str
    # "lambda:invoke": Parameters hold FunctionName and Payload; "function": a
    # plain Lambda function ARN whose input is the effective input.
    integration: Literal["lambda:invoke", "function"]
    function: str | None  # the function name or ARN when it is fixed in the file
    parameters: Template | None
    result_selector: Template | None
    result_path: ReferencePath | None
    retry: tuple[Retrier, ...]
    catch: tuple[Catcher, ...]
    timeout_seconds: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceState(State):
    choices: tuple[Branch, ...]
    default: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitState(State):
    seconds: int | None
    seconds_path: ReferencePath | None
    timestamp: str | None
    timestamp_path: ReferencePath | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SucceedState(State):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class FailState(State):
    error: str | None
    error_path: ReferencePath | Call | None
    cause: str | None
    cause_path: ReferencePath | Call | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelState(State):
    branches: tuple[Graph, ...]
    parameters: Template | None
    result_selector: Template | None
    result_path: ReferencePath | None
    retry: tuple[Retrier, ...]
    catch: tuple[Catcher, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MapState(State):
    items_path: ReferencePath
    item_selector: Template | None
    processor: Graph
    result_selector: Template | None
    result_path: ReferencePath | None
    retry: tuple[Retrier, ...]
    catch: tuple[Catcher, ...]


@dataclass(frozen=True, slots=True)
class Graph:
    """A set of states with a start: the machine itself, a Parallel branch or a Map processor."""

    start_at: str
    states: Mapping[str, State]


@dataclass(frozen=True, slots=True)
class StateMachine:
    """A loaded, checked definition, ready for the local executor."""

    name: str
    graph: Graph
    timeout_seconds: int | None
    definition: Json = field(repr=False)

    def tasks(self) -> Iterator[TaskState]:
        """Every Task state, including those inside Parallel branches and Map processors."""
        yield from _tasks(self.graph)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        substitutions: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> StateMachine:
        """Load the definition in ``path``; the name defaults to the file's stem."""
        file = Path(path)
        stem = file.name.split(".", 1)[0]
        return load_state_machine(
            file.read_text(encoding="utf-8"), substitutions=substitutions, name=name or stem
        )


def _tasks(graph: Graph) -> Iterator[TaskState]:
    for state in graph.states.values():
        if isinstance(state, TaskState):
            yield state
        elif isinstance(state, ParallelState):
            for branch in state.branches:
                yield from _tasks(branch)
        elif isinstance(state, MapState):
            yield from _tasks(state.processor)


def substitute(text: str, substitutions: Mapping[str, str]) -> str:
    """Replace ``${Name}`` placeholders; an unknown placeholder is an error, not left as is."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in substitutions:
            missing.append(key)
            return match.group(0)
        return substitutions[key]

    result = _SUBSTITUTION.sub(replace, text)
    if missing:
        raise InvalidDefinition(
            "no value for definition substitution(s) "
            + ", ".join(f"${{{key}}}" for key in sorted(set(missing)))
        )
    return result


def load_state_machine(
    source: str | bytes,
    *,
    substitutions: Mapping[str, str] | None = None,
    name: str = "StateMachine",
) -> StateMachine:
    """Substitute, parse and check a definition's JSON text."""
    text = source.decode("utf-8") if isinstance(source, bytes) else source
    text = substitute(text, substitutions or {})
    try:
        document = decode(text)
    except msgspec.DecodeError as exc:
        raise InvalidDefinition(f"the definition is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidDefinition("the definition must be a JSON object")
    loader = _Loader()
    _check_fields(
        document,
        {"StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"},
        "the state machine",
    )
    _check_query_language(document, "the state machine")
    version = document.get("Version", "1.0")
    if version != "1.0":
        raise InvalidDefinition(f'Version must be "1.0", got {version!r}')
    timeout = document.get("TimeoutSeconds")
    if timeout is not None:
        timeout = _positive_int(timeout, "TimeoutSeconds", "the state machine")
    graph = loader.graph(document, "")
    return StateMachine(name=name, graph=graph, timeout_seconds=timeout, definition=document)


def _check_fields(
    value: Mapping[str, Json], allowed: set[str] | frozenset[str], where: str
) -> None:
    for key in value:
        if key in allowed or key == "Comment":
            continue
        if key in _UNSUPPORTED_FIELDS:
            raise UnsupportedConstruct(f"{_UNSUPPORTED_FIELDS[key]} is not supported", where)
        raise InvalidDefinition(f"unknown field {key!r}", where)


def _check_query_language(value: Mapping[str, Json], where: str) -> None:
    language = value.get("QueryLanguage", "JSONPath")
    if language == "JSONata":
        raise UnsupportedConstruct("QueryLanguage JSONata is not supported (use JSONPath)", where)
    if language != "JSONPath":
        raise InvalidDefinition(f"unknown QueryLanguage {language!r}", where)


def _positive_int(value: Json, field_name: str, where: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidDefinition(
            f"{field_name} must be an integer >= {minimum}, got {value!r}", where
        )
    if value > MAX_SECONDS:
        raise InvalidDefinition(f"{field_name} must be at most {MAX_SECONDS}", where)
    return value


def _error_list(value: Json, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise InvalidDefinition("ErrorEquals must be a non-empty array of strings", where)
    names = tuple(v for v in value if isinstance(v, str))
    if "States.ALL" in names and len(names) > 1:
        raise InvalidDefinition("States.ALL must appear alone in ErrorEquals", where)
    return names


class _Common(TypedDict):
    name: str
    type: str
    input_path: ReferencePath | None
    output_path: ReferencePath | None
    next: str | None


class _ResultFields(TypedDict):
    result_selector: Template | None
    result_path: ReferencePath | None
    retry: tuple[Retrier, ...]
    catch: tuple[Catcher, ...]


class _Loader:
    """Builds graphs and enforces the rules that span states (names, transitions)."""

    def __init__(self) -> None:
        self.all_names: set[str] = set()

    def graph(self, value: Mapping[str, Json], where: str) -> Graph:
        start = value.get("StartAt")
        states = value.get("States")
        label = where or "the state machine"
        if not isinstance(start, str) or not start:
            raise InvalidDefinition("StartAt must be a state name", label)
        if not isinstance(states, dict) or not states:
            raise InvalidDefinition("States must be a non-empty object", label)
        built: dict[str, State] = {}
        for state_name, body in states.items():
            if state_name in self.all_names:
                raise InvalidDefinition(
                    f"state name {state_name!r} is used twice; names are unique in a machine"
                )
            if not state_name or len(state_name) > MAX_STATE_NAME:
                raise InvalidDefinition(
                    f"state name {state_name!r} must have 1 to {MAX_STATE_NAME} characters"
                )
            self.all_names.add(state_name)
            if not isinstance(body, dict):
                raise InvalidDefinition("a state must be an object", state_name)
            built[state_name] = self.state(state_name, body)
        if start not in built:
            raise InvalidDefinition(f"StartAt {start!r} is not a state of this scope", label)
        graph = Graph(start_at=start, states=built)
        _check_transitions(graph, label)
        return graph

    def state(self, name: str, body: Mapping[str, Json]) -> State:
        kind = body.get("Type")
        if not isinstance(kind, str) or kind not in _ALLOWED:
            raise InvalidDefinition(f"unknown or missing Type {kind!r}", name)
        _check_fields(body, _ALLOWED[kind] | {"Type", "QueryLanguage"}, name)
        _check_query_language(body, name)
        common = _Common(
            name=name,
            type=kind,
            input_path=self.io_path(body, "InputPath", name),
            output_path=self.io_path(body, "OutputPath", name),
            next=self.flow(body, kind, name),
        )
        if kind == "Pass":
            return PassState(
                **common,
                parameters=self.template(body, "Parameters", name),
                result=body.get("Result"),
                has_result="Result" in body,
                result_path=self.result_path(body, name),
            )
        if kind == "Task":
            return self.task(body, name, common)
        if kind == "Choice":
            return self.choice(body, name, common)
        if kind == "Wait":
            return self.wait(body, name, common)
        if kind == "Succeed":
            return SucceedState(**common)
        if kind == "Fail":
            return self.fail(body, name, common)
        if kind == "Parallel":
            branches = body.get("Branches")
            if not isinstance(branches, list) or not branches:
                raise InvalidDefinition("Branches must be a non-empty array", name)
            graphs = []
            for i, branch in enumerate(branches):
                if not isinstance(branch, dict):
                    raise InvalidDefinition("a branch must be an object", f"{name}.Branches[{i}]")
                _check_fields(branch, {"StartAt", "States"}, f"{name}.Branches[{i}]")
                graphs.append(self.graph(branch, f"{name}.Branches[{i}]"))
            return ParallelState(
                **common,
                branches=tuple(graphs),
                parameters=self.template(body, "Parameters", name),
                **self.result_fields(body, name),
            )
        return self.map(body, name, common)

    def io_path(self, body: Mapping[str, Json], key: str, where: str) -> ReferencePath | None:
        if key not in body:
            return parse_path("$", where)
        value = body[key]
        if value is None:
            return None
        return parse_path(value, f"{where}.{key}")

    def result_path(
        self, body: Mapping[str, Json], where: str, key: str = "ResultPath"
    ) -> ReferencePath | None:
        if key not in body:
            return parse_path("$", where)
        value = body[key]
        if value is None:
            return None
        return parse_path(value, f"{where}.{key}", kind="reference", allow_context=False)

    def template(self, body: Mapping[str, Json], key: str, where: str) -> Template | None:
        if key not in body:
            return None
        return compile_template(body[key], f"{where}.{key}")

    def flow(self, body: Mapping[str, Json], kind: str, where: str) -> str | None:
        if kind in ("Choice", "Succeed", "Fail"):
            return None
        target = body.get("Next")
        end = body.get("End", False)
        if not isinstance(end, bool):
            raise InvalidDefinition("End must be true or false", where)
        if end and target is not None:
            raise InvalidDefinition("a state cannot have both Next and End", where)
        if not end and target is None:
            raise InvalidDefinition("a non-terminal state needs Next (or End: true)", where)
        if target is not None and (not isinstance(target, str) or not target):
            raise InvalidDefinition("Next must be a state name", where)
        return target

    def retry_and_catch(
        self, body: Mapping[str, Json], where: str
    ) -> tuple[tuple[Retrier, ...], tuple[Catcher, ...]]:
        retriers: list[Retrier] = []
        raw_retry = body.get("Retry", [])
        if not isinstance(raw_retry, list):
            raise InvalidDefinition("Retry must be an array", where)
        for i, raw in enumerate(raw_retry):
            retriers.append(_retrier(raw, f"{where}.Retry[{i}]", last=i == len(raw_retry) - 1))
        catchers: list[Catcher] = []
        raw_catch = body.get("Catch", [])
        if not isinstance(raw_catch, list):
            raise InvalidDefinition("Catch must be an array", where)
        for i, raw in enumerate(raw_catch):
            at = f"{where}.Catch[{i}]"
            if not isinstance(raw, dict):
                raise InvalidDefinition("a catcher must be an object", at)
            _check_fields(raw, {"ErrorEquals", "Next", "ResultPath"}, at)
            errors = _error_list(raw.get("ErrorEquals"), at)
            if "States.ALL" in errors and i != len(raw_catch) - 1:
                raise InvalidDefinition("a catcher with States.ALL must be the last one", at)
            target = raw.get("Next")
            if not isinstance(target, str) or not target:
                raise InvalidDefinition("a catcher needs Next (a state name)", at)
            catchers.append(Catcher(errors, target, self.result_path(raw, at)))
        return tuple(retriers), tuple(catchers)

    def result_fields(self, body: Mapping[str, Json], where: str) -> _ResultFields:
        retry, catch = self.retry_and_catch(body, where)
        return _ResultFields(
            result_selector=self.template(body, "ResultSelector", where),
            result_path=self.result_path(body, where),
            retry=retry,
            catch=catch,
        )

    def task(self, body: Mapping[str, Json], name: str, common: _Common) -> TaskState:
        resource = body.get("Resource")
        if not isinstance(resource, str) or not resource:
            raise InvalidDefinition("a Task needs a Resource (an ARN)", name)
        fields = self.result_fields(body, name)
        timeout = body.get("TimeoutSeconds")
        timeout_seconds = (
            None if timeout is None else _positive_int(timeout, "TimeoutSeconds", name)
        )
        if resource == LAMBDA_INVOKE:
            integration: Literal["lambda:invoke", "function"] = "lambda:invoke"
            function = _lambda_invoke_function(body.get("Parameters"), name)
        elif resource.startswith(LAMBDA_INVOKE + "."):
            raise UnsupportedConstruct(
                f"Resource {resource!r}: the {resource.rsplit('.', 1)[1]} integration pattern "
                "is not supported (only request-response lambda:invoke)",
                name,
            )
        elif _LAMBDA_ARN.fullmatch(resource):
            integration = "function"
            function = resource
        elif resource.startswith("arn:"):
            raise UnsupportedConstruct(
                f"Resource {resource!r}: only Lambda tasks ({LAMBDA_INVOKE} or a function ARN) "
                "run locally",
                name,
            )
        else:
            raise InvalidDefinition(f"Resource {resource!r} is not an ARN", name)
        return TaskState(
            **common,
            resource=resource,
            integration=integration,
            function=function,
            timeout_seconds=timeout_seconds,
            parameters=self.template(body, "Parameters", name),
            **fields,
        )

    def choice(self, body: Mapping[str, Json], name: str, common: _Common) -> ChoiceState:
        choices = body.get("Choices")
        if not isinstance(choices, list) or not choices:
            raise InvalidDefinition("Choices must be a non-empty array", name)
        default = body.get("Default")
        if default is not None and (not isinstance(default, str) or not default):
            raise InvalidDefinition("Default must be a state name", name)
        return ChoiceState(
            **common,
            choices=tuple(parse_branch(c, f"{name}.Choices[{i}]") for i, c in enumerate(choices)),
            default=default,
        )

    def wait(self, body: Mapping[str, Json], name: str, common: _Common) -> WaitState:
        given = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in body]
        if len(given) != 1:
            raise InvalidDefinition(
                "a Wait needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath", name
            )
        seconds = body.get("Seconds")
        if seconds is not None:
            seconds = _positive_int(seconds, "Seconds", name, minimum=0)
        timestamp = body.get("Timestamp")
        if timestamp is not None and (
            not isinstance(timestamp, str) or parse_timestamp(timestamp) is None
        ):
            raise InvalidDefinition(f"Timestamp {timestamp!r} is not RFC 3339", name)
        seconds_path = body.get("SecondsPath")
        timestamp_path = body.get("TimestampPath")
        return WaitState(
            **common,
            seconds=seconds,
            timestamp=timestamp,
            seconds_path=None
            if seconds_path is None
            else parse_path(seconds_path, f"{name}.SecondsPath", kind="reference"),
            timestamp_path=None
            if timestamp_path is None
            else parse_path(timestamp_path, f"{name}.TimestampPath", kind="reference"),
        )

    def fail(self, body: Mapping[str, Json], name: str, common: _Common) -> FailState:
        error, error_path = self.fail_field(body, "Error", name)
        cause, cause_path = self.fail_field(body, "Cause", name)
        # A Fail state has no InputPath/OutputPath; ErrorPath/CausePath read its raw input.
        return FailState(
            **common, error=error, error_path=error_path, cause=cause, cause_path=cause_path
        )

    def fail_field(
        self, body: Mapping[str, Json], key: str, name: str
    ) -> tuple[str | None, ReferencePath | Call | None]:
        literal, path = body.get(key), body.get(key + "Path")
        if literal is not None and path is not None:
            raise InvalidDefinition(f"a Fail has either {key} or {key}Path, not both", name)
        if literal is not None and not isinstance(literal, str):
            raise InvalidDefinition(f"{key} must be a string", name)
        if path is None:
            return literal, None
        where = f"{name}.{key}Path"
        if not isinstance(path, str):
            raise InvalidDefinition(f"{key}Path must be a path or an intrinsic", where)
        if is_intrinsic(path):
            return None, parse_intrinsic(path, where)
        return None, parse_path(path, where, kind="reference")

    def map(self, body: Mapping[str, Json], name: str, common: _Common) -> MapState:
        processor_key = "ItemProcessor" if "ItemProcessor" in body else "Iterator"
        if "ItemProcessor" in body and "Iterator" in body:
            raise InvalidDefinition("a Map has ItemProcessor or Iterator, not both", name)
        if "ItemSelector" in body and "Parameters" in body:
            raise InvalidDefinition("a Map has ItemSelector or Parameters, not both", name)
        processor = body.get(processor_key)
        where = f"{name}.{processor_key}"
        if not isinstance(processor, dict):
            raise InvalidDefinition(f"a Map needs {processor_key} (an object)", name)
        _check_fields(processor, {"StartAt", "States", "ProcessorConfig"}, where)
        config = processor.get("ProcessorConfig", {})
        if not isinstance(config, dict) or config.get("Mode", "INLINE") != "INLINE":
            raise UnsupportedConstruct("only an INLINE Map processor is supported", where)
        _check_fields(config, {"Mode"}, f"{where}.ProcessorConfig")
        concurrency = body.get("MaxConcurrency", 0)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 0:
            raise InvalidDefinition("MaxConcurrency must be a non-negative integer", name)
        selector_key = "ItemSelector" if "ItemSelector" in body else "Parameters"
        fields = self.result_fields(body, name)
        return MapState(
            **common,
            items_path=parse_path(
                body.get("ItemsPath", "$"), f"{name}.ItemsPath", kind="reference"
            ),
            item_selector=self.template(body, selector_key, name),
            processor=self.graph(processor, where),
            **fields,
        )


def _retrier(raw: Json, where: str, *, last: bool) -> Retrier:
    if not isinstance(raw, dict):
        raise InvalidDefinition("a retrier must be an object", where)
    _check_fields(
        raw,
        {
            "ErrorEquals",
            "IntervalSeconds",
            "MaxAttempts",
            "BackoffRate",
            "MaxDelaySeconds",
            "JitterStrategy",
        },
        where,
    )
    errors = _error_list(raw.get("ErrorEquals"), where)
    if "States.ALL" in errors and not last:
        raise InvalidDefinition("a retrier with States.ALL must be the last one", where)
    interval = _positive_int(raw.get("IntervalSeconds", 1), "IntervalSeconds", where)
    attempts = _positive_int(raw.get("MaxAttempts", 3), "MaxAttempts", where, minimum=0)
    backoff = raw.get("BackoffRate", 2.0)
    if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 1.0:
        raise InvalidDefinition(f"BackoffRate must be a number >= 1.0, got {backoff!r}", where)
    max_delay = raw.get("MaxDelaySeconds")
    if max_delay is not None:
        max_delay = _positive_int(max_delay, "MaxDelaySeconds", where)
        if max_delay > MAX_DELAY_SECONDS:
            raise InvalidDefinition(f"MaxDelaySeconds must be at most {MAX_DELAY_SECONDS}", where)
    jitter = raw.get("JitterStrategy", "NONE")
    if jitter not in ("FULL", "NONE"):
        raise InvalidDefinition(f"JitterStrategy must be FULL or NONE, got {jitter!r}", where)
    return Retrier(
        error_equals=errors,
        interval_seconds=interval,
        max_attempts=attempts,
        backoff_rate=float(backoff),
        max_delay_seconds=max_delay,
        jitter="FULL" if jitter == "FULL" else "NONE",
    )


def _lambda_invoke_function(parameters: Json, where: str) -> str | None:
    """Check a lambda:invoke Parameters block; return the function when it is literal."""
    if not isinstance(parameters, dict):
        raise InvalidDefinition(f"{LAMBDA_INVOKE} needs Parameters with FunctionName", where)
    keys = set(parameters)
    for key in keys:
        base = key.removesuffix(".$")
        if base not in ("FunctionName", "Payload"):
            raise UnsupportedConstruct(
                f"lambda:invoke parameter {base!r} is not supported locally "
                "(only FunctionName and Payload)",
                f"{where}.Parameters",
            )
    if "FunctionName" in keys and "FunctionName.$" in keys:
        raise InvalidDefinition("FunctionName is given twice", f"{where}.Parameters")
    if not keys & {"Payload", "Payload.$"}:
        raise UnsupportedConstruct(
            "lambda:invoke without Payload is not supported; pass the input explicitly, "
            'e.g. "Payload.$": "$"',
            f"{where}.Parameters",
        )
    if "FunctionName" in keys:
        function = parameters["FunctionName"]
        if not isinstance(function, str) or not function:
            raise InvalidDefinition("FunctionName must be a non-empty string", where)
        return function
    if "FunctionName.$" not in keys:
        raise InvalidDefinition(f"{LAMBDA_INVOKE} needs Parameters.FunctionName", where)
    return None


def _targets(state: State) -> Iterator[str]:
    if state.next is not None:
        yield state.next
    if isinstance(state, ChoiceState):
        for branch in state.choices:
            yield branch.next
        if state.default is not None:
            yield state.default
    if isinstance(state, TaskState | ParallelState | MapState):
        for catcher in state.catch:
            yield catcher.next


def _check_transitions(graph: Graph, where: str) -> None:
    """Every transition stays inside its scope, and every state is reachable from StartAt."""
    for state in graph.states.values():
        for target in _targets(state):
            if target not in graph.states:
                raise InvalidDefinition(
                    f"transition to {target!r}, which is not a state of this scope", state.name
                )
    seen = {graph.start_at}
    todo = [graph.start_at]
    while todo:
        for target in _targets(graph.states[todo.pop()]):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    unreachable = [name for name in graph.states if name not in seen]
    if unreachable:
        raise InvalidDefinition(
            "state(s) not reachable from StartAt: " + ", ".join(repr(n) for n in unreachable),
            where,
        )

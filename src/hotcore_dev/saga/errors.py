"""Errors of the local Amazon States Language engine.

Two families, kept apart on purpose:

* ``AslLoadError`` and its subclasses are raised while a definition is loaded
  (or bound to task handlers). They mean "this file cannot be run here" and are
  never turned into an execution failure.
* ``StatesError`` is raised while an execution runs. It carries a Step
  Functions error name (``States.TaskFailed``, ``Lambda.ServiceException``, a
  handler's own name...) and a cause, and is what Retry and Catch match on.
"""

from __future__ import annotations

# Error names that Step Functions reports but that no Retry or Catch can match,
# not even an explicit ErrorEquals or States.ALL: the execution always fails.
TERMINAL_ERRORS = frozenset({"States.Runtime", "States.DataLimitExceeded"})


class AslLoadError(Exception):
    """A definition cannot be loaded; ``where`` names the state or field at fault."""

    def __init__(self, message: str, where: str = "") -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class InvalidDefinition(AslLoadError):
    """The definition breaks the Amazon States Language (Step Functions would reject it)."""


class UnsupportedConstruct(AslLoadError):
    """Valid Amazon States Language that this local engine deliberately does not execute."""


class InvalidPath(AslLoadError):
    """A path field is not a JSONPath that Step Functions accepts at that place."""


class MissingTaskHandler(AslLoadError):
    """A Task names a Lambda function for which no local handler was registered."""


class StatesError(Exception):
    """An error raised inside a running execution, named as Step Functions names it."""

    def __init__(self, error: str | None, cause: str | None = None) -> None:
        # None only for a Fail state without Error, as Step Functions allows.
        self.error = error
        self.cause = cause
        super().__init__(f"{error}: {cause}" if cause else str(error))

    @property
    def terminal(self) -> bool:
        """True when no Retry or Catch may handle this error."""
        return self.error in TERMINAL_ERRORS


class TaskError(Exception):
    """Raised by a task handler to fail its task with a chosen error name and cause.

    This is how a local handler reports what a Lambda function reports by raising
    an exception whose class name is the error name, e.g. a business rejection
    (``"InsufficientFunds"``) or a simulated transient service error
    (``"Lambda.ServiceException"``). Names starting with ``States.`` are reserved
    for the interpreter, as in Step Functions.
    """

    def __init__(self, error: str, cause: str | None = None) -> None:
        if not error:
            raise ValueError("TaskError needs a non-empty error name")
        if error.startswith("States."):
            raise ValueError(
                f"error name {error!r}: names starting with 'States.' are reserved "
                "for Step Functions itself; a task cannot report them"
            )
        self.error = error
        self.cause = cause
        super().__init__(f"{error}: {cause}" if cause else error)

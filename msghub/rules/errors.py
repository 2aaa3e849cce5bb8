"""Errors a rule run can end with.

Every failure of one rule is a RuleError, so the runner can report it against
that rule and carry on with the others. The message is one line meant for the
rule's author; the attributes give the same facts to code.
"""

from __future__ import annotations

from typing import Any

from msghub.errors import HubError

# Where in a run the error happened: the caller's prelude, the rule itself, the
# caller's finishing expression, or while handing the input to the engine.
PHASES = ("prelude", "rule", "finish", "input", "engine")


class RuleError(HubError):
    """A rule did not produce a result.

    detail: the engine's own wording (e.g. "TypeError: x is not a function").
    phase: one of PHASES.
    line, column: position in the rule's source (1-based) when known; for
    phase "prelude" they refer to the prelude instead.
    """

    def __init__(
        self,
        message: str,
        *,
        detail: str = "",
        phase: str = "rule",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.detail = detail
        self.phase = phase
        self.line = line
        self.column = column

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields would be lost by the default exception pickling.
        return (_rebuild, (type(self), str(self), self.detail, self.phase, self.line, self.column))


def _rebuild(
    cls: type[RuleError],
    message: str,
    detail: str,
    phase: str,
    line: int | None,
    column: int | None,
) -> RuleError:
    return cls(message, detail=detail, phase=phase, line=line, column=column)


class RuleTimeout(RuleError):
    """The rule used up its CPU-time limit (or its worker had to be killed)."""


class RuleMemoryError(RuleError):
    """The rule tried to use more memory than its limit allows."""


class RuleStackOverflow(RuleError):
    """The rule nested calls (or data) deeper than its stack limit allows."""


class RuleScriptError(RuleError):
    """The rule threw, had a syntax error, or its result was not a JSON object."""


class RuleEngineCrashed(RuleError):
    """The worker process running the rule died; it is restarted for the next call."""


# Names the pool accepts from a worker; anything else is treated as a crash.
ERROR_CLASSES: dict[str, type[RuleError]] = {
    cls.__name__: cls for cls in (RuleTimeout, RuleMemoryError, RuleStackOverflow, RuleScriptError, RuleEngineCrashed)
}

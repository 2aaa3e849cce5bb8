"""Declared settings of a connection kind.

Each kind lists its settings with a type, a default and validation. The same
declarations check `msghub connection add/edit`, fill the web forms, and
document the kind, so a bad setting is refused with a message that names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from msghub.errors import ConfigError

Validator = Callable[[Any], str | None]


@dataclass(frozen=True)
class Setting:
    name: str
    type: type  # str, int, float or bool
    help: str
    default: Any = None
    required: bool = False
    secret: bool = False
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    check: Validator | None = field(default=None, compare=False)

    def parse(self, raw: Any) -> Any:
        """Converts a value from the CLI or a form (often a string) and checks it."""
        value = self._convert(raw)
        if self.choices is not None and value not in self.choices:
            options = ", ".join(str(c) for c in self.choices)
            raise ConfigError(f"setting {self.name}: {value!r} is not one of {options}")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"setting {self.name}: {value} is below the minimum {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise ConfigError(f"setting {self.name}: {value} is above the maximum {self.maximum:g}")
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise ConfigError(f"setting {self.name}: {problem}")
        return value

    def _convert(self, raw: Any) -> Any:
        if self.type is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"setting {self.name}: {raw!r} is not a yes/no value")
        if self.type in (int, float):
            if isinstance(raw, bool):
                raise ConfigError(f"setting {self.name}: {raw!r} is not a number")
            try:
                return self.type(raw)
            except (TypeError, ValueError):
                kind = "whole number" if self.type is int else "number"
                raise ConfigError(f"setting {self.name}: {raw!r} is not a {kind}") from None
        text = str(raw)
        if self.required and not text.strip():
            raise ConfigError(f"setting {self.name}: must not be empty")
        return text


def validate_config(settings: tuple[Setting, ...], values: Mapping[str, Any],
                    *, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Checks values against declarations; returns the complete config.

    base is the current config when editing: unchanged settings keep their
    values. Unknown names are refused, so a typo never passes silently.
    """
    known = {s.name: s for s in settings}
    unknown = sorted(set(values) - set(known))
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise ConfigError(f"unknown setting {unknown[0]!r} (settings of this kind: {names})")
    config: dict[str, Any] = dict(base or {})
    for name, raw in values.items():
        config[name] = known[name].parse(raw)
    for setting in settings:
        if setting.name not in config:
            if setting.required:
                raise ConfigError(f"setting {setting.name} is required: {setting.help}")
            config[setting.name] = setting.default
    return config


def typed_settings_problems(settings_type: type, settings: tuple[Setting, ...]) -> list[str]:
    """Where a kind's settings TypedDict and its declarations disagree (names
    or types); empty when they agree. The contract tests run it per kind."""
    hints = get_type_hints(settings_type)
    declared = {s.name: s.type for s in settings}
    problems = [f"{name}: declared but not in {settings_type.__name__}" for name in declared if name not in hints]
    problems += [f"{name}: in {settings_type.__name__} but not declared" for name in hints if name not in declared]
    problems += [f"{name}: declared {declared[name].__name__}, typed {hints[name]!r}"
                 for name in declared if name in hints and hints[name] is not declared[name]]
    return problems

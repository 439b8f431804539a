"""The machinery behind configuration: declaring a setting, and reading one from text.

A setting is a dataclass field made with :func:`setting`. Its default, help text,
environment variable and allowed values live in that one place; :mod:`bananas.config`
walks the tree of sections and the loaders below turn YAML values and environment
strings into typed values, naming the key when they cannot.

YAML and the environment read alike: a YAML string is read as the environment's text
would be. Booleans are ``true/false/1/0/yes/no/on/off``; choices match in any case (plus
declared aliases such as ``warn`` for ``WARNING``); a setting typed :data:`Seconds`,
:data:`WholeSeconds` or :data:`Days` takes a plain number or a duration with a unit
(``100ms``, ``10s``, ``5m``, ``1h``), read by :func:`bananas.durations.parse_duration`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from .durations import HINT, parse_duration
from .errors import ConfigError

_MISSING = dataclasses.MISSING
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclasses.dataclass(frozen=True)
class Duration:
    """Marks a setting as a duration; a plain number counts in ``unit`` seconds."""

    unit: float = 1.0


Seconds = Annotated[float, Duration()]
"""A duration setting held in seconds (``0.5``, ``100ms``, ``10s``, ``5m``, ``1h``)."""
WholeSeconds = Annotated[int, Duration()]
"""A duration setting held in whole seconds (``86400``, ``24h``, ``7d``)."""
Days = Annotated[float, Duration(86400.0)]
"""A duration setting held in days: a plain number is days (``30``), a unit says otherwise (``12h``)."""


def setting(
    default: Any,
    help: str,
    *,
    env: str | None = None,
    choices: Sequence[Any] | None = None,
    minimum: float | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Any:
    """Declare one setting: its default, help text, environment variable and limits.

    ``env`` names the environment variable that overrides the YAML value; without it the
    variable is ``BANANAS_<SECTION>_<NAME>``. Text ``choices`` match in any case;
    ``aliases`` maps more spellings onto a choice (``{"warn": "WARNING"}``). Mutable
    defaults (lists, dicts) are copied.
    """
    meta = {"help": help, "env": env, "choices": tuple(choices) if choices else None, "minimum": minimum,
            "aliases": {k.lower(): v for k, v in (aliases or {}).items()}}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def is_section(tp: Any) -> bool:
    """True when ``tp`` is a dataclass type (a nested section of the config tree)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def env_name(path: str, field: dataclasses.Field[Any]) -> str:
    """The environment variable that overrides the setting at dotted ``path``."""
    explicit = field.metadata.get("env")
    return explicit or "BANANAS_" + path.replace(".", "_").upper()


def hints(cls: type) -> dict[str, Any]:
    """Resolved type annotations of a section class (``Annotated`` markers kept)."""
    return typing.get_type_hints(cls, include_extras=True)


def _duration(tp: Any) -> tuple[Any, Duration | None]:
    """Split ``Annotated[float, Duration()]`` into ``float`` and its marker."""
    if typing.get_origin(tp) is Annotated:
        base, *extras = typing.get_args(tp)
        return base, next((e for e in extras if isinstance(e, Duration)), None)
    return tp, None


def _optional_inner(tp: Any) -> tuple[Any, bool]:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return tp, False


def parse_text(key: str, text: str, tp: Any) -> Any:
    """Turn an environment/CLI string into a value of type ``tp``; errors name ``key``."""
    inner, optional = _optional_inner(tp)
    if optional and text.strip().lower() in ("", "none", "null"):
        return None
    inner, duration = _duration(inner)
    if duration is not None:
        return _read_duration(key, text, inner, duration)
    origin = typing.get_origin(inner)
    try:
        if inner is bool:
            low = text.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError("expected true/false, 1/0, yes/no or on/off")
        if inner is int:
            return int(text)
        if inner is float:
            return float(text)
        if inner is str:
            return text
        if origin is list:
            return [part.strip() for part in text.split(",") if part.strip()]
        if origin is dict:
            pairs = [p for p in text.split(",") if p.strip()]
            return dict(p.split("=", 1) for p in pairs)
    except ValueError as exc:
        raise ConfigError(f"{key}: cannot read {text!r} as {_type_name(inner)} ({exc})") from exc
    raise ConfigError(f"{key}: settings of type {tp} cannot be set from text")


def _read_duration(key: str, text: str, tp: Any, duration: Duration) -> Any:
    try:
        seconds = parse_duration(text, duration.unit)
    except ValueError:
        raise ConfigError(f"{key}: cannot read {text!r} as a duration ({HINT})") from None
    value = seconds / duration.unit
    if tp is int:
        if value != int(value):
            raise ConfigError(f"{key}: {text!r} is not a whole number of seconds")
        return int(value)
    return value


def check_value(key: str, value: Any, tp: Any, field: dataclasses.Field[Any]) -> Any:
    """Check a YAML value against the setting's type and limits; return it normalised.

    A string where a number, a boolean or a duration is expected is read like the
    environment's text (``"10s"``, ``"on"``).
    """
    inner, optional = _optional_inner(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{key}: must not be empty")
    base, duration = _duration(inner)
    if isinstance(value, str) and (duration is not None or base in (bool, int, float)):
        value = parse_text(key, value, inner)
    elif base is bool and isinstance(value, int) and value in (0, 1):
        value = bool(value)
    value = _check_type(key, value, base)
    choices = field.metadata.get("choices")
    if choices:
        value = _choose(key, value, choices, field.metadata.get("aliases") or {})
    minimum = field.metadata.get("minimum")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{key}: {value!r} is below the minimum {minimum}")
    return value


def _choose(key: str, value: Any, choices: Sequence[Any], aliases: Mapping[str, str]) -> Any:
    """The declared choice ``value`` names, matching text in any case and through ``aliases``."""
    if value in choices:
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in aliases:
            return aliases[low]
        for choice in choices:
            if isinstance(choice, str) and choice.lower() == low:
                return choice
    spelled = ", ".join(map(str, choices))
    extra = f" (or {', '.join(aliases)})" if aliases else ""
    raise ConfigError(f"{key}: {value!r} is not one of {spelled}{extra}")


def _check_type(key: str, value: Any, tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (bool, int, float, str):
        if isinstance(value, tp) and not (tp is int and isinstance(value, bool)):
            return value
    elif origin is list and isinstance(value, list):
        (item,) = typing.get_args(tp)
        return [_check_type(f"{key}[{i}]", v, item) for i, v in enumerate(value)]
    elif origin is dict and isinstance(value, Mapping):
        _, item = typing.get_args(tp)
        return {str(k): _check_type(f"{key}.{k}", v, item) for k, v in value.items()}
    elif tp is Any:
        return value
    raise ConfigError(f"{key}: expected {_type_name(tp)}, got {type(value).__name__} {value!r}")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def build(cls: type, tree: Mapping[str, Any], path: str = "") -> Any:
    """Build section ``cls`` from a nested mapping; unknown keys are errors naming the key."""
    if not isinstance(tree, Mapping):
        raise ConfigError(f"{path or 'config'}: expected a mapping, got {type(tree).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(tree) - set(fields))
    if unknown:
        where = f"{path}." if path else ""
        known = ", ".join(sorted(fields))
        raise ConfigError(f"unknown setting {where}{unknown[0]} (known here: {known})")
    types_ = hints(cls)
    kwargs: dict[str, Any] = {}
    for name, value in tree.items():
        key = f"{path}.{name}" if path else name
        if is_section(types_[name]):
            kwargs[name] = build(types_[name], value, key)
        else:
            kwargs[name] = check_value(key, value, types_[name], fields[name])
    return cls(**kwargs)


def leaves(cls: type, path: str = "") -> list[tuple[str, dataclasses.Field[Any], Any]]:
    """Every setting below section ``cls`` as ``(dotted path, field, type)``."""
    out = []
    types_ = hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{path}.{f.name}" if path else f.name
        if is_section(types_[f.name]):
            out.extend(leaves(types_[f.name], key))
        else:
            out.append((key, f, types_[f.name]))
    return out

"""The machinery behind configuration: declaring a setting, and reading one from text.

A setting is a dataclass field made with :func:`setting`. Its default, help text,
environment variable and allowed values live in that one place; :mod:`bananas.config`
walks the tree of sections and the loaders below turn YAML values and environment
strings into typed values, naming the key when they cannot.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ConfigError

_MISSING = dataclasses.MISSING


def setting(
    default: Any,
    help: str,
    *,
    env: str | None = None,
    choices: Sequence[Any] | None = None,
    minimum: float | None = None,
) -> Any:
    """Declare one setting: its default, help text, environment variable and limits.

    ``env`` names the environment variable that overrides the YAML value; without it the
    variable is ``BANANAS_<SECTION>_<NAME>``. Mutable defaults (lists, dicts) are copied.
    """
    meta = {"help": help, "env": env, "choices": tuple(choices) if choices else None, "minimum": minimum}
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
    """Resolved type annotations of a section class."""
    return typing.get_type_hints(cls)


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
    origin = typing.get_origin(inner)
    try:
        if inner is bool:
            low = text.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true/false")
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


def check_value(key: str, value: Any, tp: Any, field: dataclasses.Field[Any]) -> Any:
    """Check a YAML value against the setting's type and limits; return it normalised."""
    inner, optional = _optional_inner(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{key}: must not be empty")
    value = _check_type(key, value, inner)
    choices = field.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(map(str, choices))}")
    minimum = field.metadata.get("minimum")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{key}: {value!r} is below the minimum {minimum}")
    return value


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

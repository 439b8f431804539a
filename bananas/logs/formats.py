"""Render captured fields as one JSON line (orjson) or one human-readable text line."""

from __future__ import annotations

import time
from typing import Any

import orjson

# ANSI colours for level names only; messages are never coloured.
_COLOURS = {
    "DEBUG": "\x1b[36m",
    "INFO": "\x1b[32m",
    "WARNING": "\x1b[33m",
    "ERROR": "\x1b[31m",
    "CRITICAL": "\x1b[1;31m",
}
_RESET = "\x1b[0m"
# Fields the text format shows in its fixed prefix rather than as key=value pairs.
TEXT_FIXED = frozenset({"time", "level", "msg", "logger", "component", "worker_id", "traceback"})


class IsoTime:
    """Render epoch seconds as ``2026-11-28T05:57:05.123Z``, reusing the text of the last millisecond.

    A busy worker logs dozens of records per millisecond, so most calls are one comparison.
    """

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""
        self._millis = -1
        self._text = ""

    def render(self, created: float) -> str:
        """The UTC ISO-8601 text of ``created`` with milliseconds."""
        millis = int(created * 1000)
        if millis != self._millis:
            second, part = divmod(millis, 1000)
            if second != self._second:
                self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
                self._second = second
            self._text = f"{self._prefix}.{part:03d}Z"
            self._millis = millis
        return self._text


def indent_traceback(trace: str) -> str:
    """The lines of ``trace``, each indented by four spaces, after a newline (text format)."""
    return "\n" + "\n".join("    " + row for row in trace.splitlines())


def str_default(value: Any) -> str:
    """orjson fallback: anything it cannot encode becomes its ``str``."""
    return str(value)


class JsonFormat:
    """One JSON object per line, keys in capture order."""

    def __init__(self) -> None:
        self._time = IsoTime()

    def encode(self, fields: dict[str, Any]) -> bytes:
        """The record as a JSON line ending in a newline."""
        out = dict(fields)
        out["time"] = self._time.render(fields["time"])
        return orjson.dumps(out, default=str_default, option=orjson.OPT_APPEND_NEWLINE)


class TextFormat:
    """``time LEVEL component[worker] logger: msg key=value ...``, colour on the level name only."""

    def __init__(self, color: bool = False) -> None:
        self._time = IsoTime()
        self.color = color

    def level_text(self, level: str) -> str:
        """The padded level name, coloured when colour is on."""
        padded = f"{level:<8}"
        if self.color and level in _COLOURS:
            return f"{_COLOURS[level]}{padded}{_RESET}"
        return padded

    def encode(self, fields: dict[str, Any]) -> bytes:
        """The record as one text line (plus indented traceback lines) ending in a newline."""
        worker = fields.get("worker_id")
        where = f"{fields['component']}[{worker}]" if worker else fields["component"]
        parts = [
            self._time.render(fields["time"]), self.level_text(fields["level"]), where,
            f"{fields['logger']}: {fields['msg']}",
        ]
        parts.extend(f"{key}={value}" for key, value in fields.items() if key not in TEXT_FIXED)
        line = " ".join(parts)
        trace = fields.get("traceback")
        if trace:
            line += indent_traceback(trace)
        return (line + "\n").encode("utf-8", "replace")


def make_format(name: str, color: bool = False) -> JsonFormat | TextFormat:
    """The formatter called ``name`` (``json`` or ``text``); colour applies to text only."""
    return JsonFormat() if name == "json" else TextFormat(color)

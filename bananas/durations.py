"""Reading a duration written by a person: ``100ms``, ``10s``, ``5m``, ``1h``, ``1h30m``, ``2d``, ``0.5``.

The one parser of durations in Bananas: every interval and timeout setting (YAML and
environment alike) and the ``every`` of periodic jobs read their text with
:func:`parse_duration`. A plain number is in the caller's ``unit`` (seconds unless said
otherwise); a number with a unit may be fractional (``1.5s``), and parts add up from the
largest unit down, each unit once (``1h30m``, not ``30m1h``).
"""

from __future__ import annotations

import math
import re

UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"({_NUMBER})(ms|s|m|h|d)")
_PARTS = re.compile(rf"(?:{_NUMBER}(?:ms|s|m|h|d))+")
HINT = "seconds, or a number with a unit: 100ms, 10s, 5m, 1h, 1d, 1h30m"


def parse_duration(text: str, unit: float = 1.0) -> float:
    """The seconds ``text`` stands for; a plain number counts in ``unit`` seconds.

    Case and spaces do not matter (``10 S`` is ``10s``). Raises ``ValueError`` for anything
    else, negative and non-finite values included.
    """
    compact = text.replace(" ", "").lower()
    if not compact:
        raise ValueError(f"empty duration: use {HINT}")
    try:
        plain = float(compact)
    except ValueError:
        plain = None
    if plain is not None:
        if not math.isfinite(plain) or plain < 0:
            raise ValueError(f"{text!r} is not a duration: use {HINT}")
        return plain * unit
    parts = _PART.findall(compact) if _PARTS.fullmatch(compact) else []
    sizes = [UNITS[suffix] for _, suffix in parts]
    if not parts or sizes != sorted(set(sizes), reverse=True):
        raise ValueError(f"{text!r} is not a duration: use {HINT}")
    return sum(float(number) * size for (number, _), size in zip(parts, sizes))


def has_unit(text: str) -> bool:
    """True when ``text`` names its unit (``30s``), False for a plain number (``30``)."""
    try:
        float(text.replace(" ", ""))
    except ValueError:
        return True
    return False

"""Render a snapshot in the Prometheus text exposition format (version 0.0.4).

Each family gets its ``# HELP`` and ``# TYPE`` lines; counters keep their ``_total`` name;
histograms become cumulative ``_bucket{le=...}`` series plus ``_sum`` and ``_count``.
"""

from __future__ import annotations

from .families import BUCKETS, FAMILIES, HISTOGRAM, Family
from .store import Snapshot, Value, split_key

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BOUNDS = [repr(b) for b in BUCKETS] + ["+Inf"]


def escape(value: str) -> str:
    """A label value with backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float) -> str:
    """Integers without a decimal point; other floats in their shortest exact form."""
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _labels(names: tuple[str, ...], values: list[str], extra: str = "") -> str:
    parts = [f'{n}="{escape(v)}"' for n, v in zip(names, values)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _family_lines(family: Family, values: dict[str, Value]) -> list[str]:
    name = family.name
    out = [f"# HELP {name} {family.help}", f"# TYPE {name} {family.kind}"]
    for key in sorted(values):
        value = values[key]
        labels = split_key(key)
        if family.kind == HISTOGRAM and isinstance(value, list):
            running = 0.0
            for bound, count in zip(_BOUNDS, value[:-1]):
                running += count
                le = 'le="' + bound + '"'
                out.append(f"{name}_bucket{_labels(family.labels, labels, le)} {number(running)}")
            out.append(f"{name}_sum{_labels(family.labels, labels)} {number(value[-1])}")
            out.append(f"{name}_count{_labels(family.labels, labels)} {number(running)}")
        elif not isinstance(value, list):
            out.append(f"{name}{_labels(family.labels, labels)} {number(value)}")
    return out


def render(snapshot: Snapshot) -> str:
    """The whole snapshot as exposition text, families in declaration order; a family without
    samples still gets its ``# HELP`` and ``# TYPE`` lines."""
    lines: list[str] = []
    for name, family in FAMILIES.items():
        lines += _family_lines(family, snapshot.get(name) or {})
    return "\n".join(lines) + "\n"

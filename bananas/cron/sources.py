"""Where periodic jobs come from: the :func:`periodic` decorator and the YAML ``cron:`` list.

Both only describe schedules; :mod:`bananas.cron.rules` validates them and computes fire times.
Nothing here registers anything globally: the server collects schedules at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

from ..errors import ConfigError
from ..registry import MARK
from .rules import Schedule, parse_schedule

PERIODIC_ATTR = "__bananas_periodic__"
YAML_KEYS = frozenset({"name", "job", "cron", "every", "tz", "payload", "queue", "priority", "missed"})

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class PeriodicSpec:
    """The raw arguments of one :func:`periodic` decoration, validated when collected."""

    when: str
    tz: str = "UTC"
    name: str | None = None
    payload: Mapping[str, Any] | None = field(default=None, hash=False)
    queue: str = "default"
    priority: str = "normal"
    missed: str = "skip"


def periodic(
    when: str,
    *,
    tz: str = "UTC",
    name: str | None = None,
    payload: Mapping[str, Any] | None = None,
    queue: str = "default",
    priority: str = "normal",
    missed: str = "skip",
) -> Callable[[F], F]:
    """Mark a handler to run periodically; ``when`` is a cron expression, an alias or ``every 30s``.

    Only attaches metadata to the function (stacking several is allowed); nothing is
    registered or validated until :func:`collect_schedules` reads it at start-up. Put it
    below a decorator that wraps the function, or make that wrapper copy ``__dict__``
    (``functools.wraps`` does).
    """
    spec = PeriodicSpec(when, tz, name, payload, queue, priority, missed)

    def mark(func: F) -> F:
        specs: tuple[PeriodicSpec, ...] = getattr(func, PERIODIC_ATTR, ())
        setattr(func, PERIODIC_ATTR, (*specs, spec))
        return func

    return mark


def register(handler: F, when: str, *, tz: str = "UTC", name: str | None = None,
             payload: Mapping[str, Any] | None = None, queue: str = "default",
             priority: str = "normal", missed: str = "skip") -> F:
    """Attach a schedule to ``handler`` (see :func:`periodic`); returns it.

    ``when`` is a 5-field cron expression, an alias such as ``@hourly``, or ``every 30s``.
    Validation happens when the server starts (ConfigError naming the schedule).
    """
    return periodic(when, tz=tz, name=name, payload=payload, queue=queue, priority=priority,
                    missed=missed)(handler)


def default_job_name(func: Callable[..., Any]) -> str:
    """The job a schedule of ``func`` submits: its ``@job`` name, else ``module.qualname``."""
    spec = getattr(func, MARK, None)
    return spec.name if spec is not None else f"{func.__module__}.{func.__qualname__}"


def collect_schedules(
    sources: Iterable[ModuleType | Callable[..., Any]],
    job_name: Callable[[Callable[..., Any]], str] = default_job_name,
) -> tuple[Schedule, ...]:
    """Build the schedules of every :func:`periodic` function in ``sources``, sorted by name.

    A source is a module (its attributes are scanned) or a function. A function reached
    twice counts once. A schedule without ``name`` is named after its job.
    Raises ConfigError for a bad schedule or a duplicate name.
    """
    funcs: dict[int, Callable[..., Any]] = {}
    for source in sources:
        members = vars(source).values() if isinstance(source, ModuleType) else [source]
        for member in members:
            if callable(member) and getattr(member, PERIODIC_ATTR, None):
                funcs.setdefault(id(member), member)
    schedules = []
    for func in funcs.values():
        job = job_name(func)
        for spec in getattr(func, PERIODIC_ATTR):
            cron, every = _split_when(spec.when)
            fields = {"tz": spec.tz, "payload": spec.payload, "queue": spec.queue}
            fields |= {"priority": spec.priority, "missed": spec.missed}
            schedules.append(parse_schedule(spec.name or job, job, cron=cron, every=every, **fields))
    return unique_schedules(schedules)


def _split_when(when: str) -> tuple[str | None, str | None]:
    words = when.split(maxsplit=1) if isinstance(when, str) else []
    if len(words) == 2 and words[0].lower() == "every":
        return None, words[1]
    return when, None


def schedules_from_yaml(entries: object) -> tuple[Schedule, ...]:
    """Build schedules from the already-loaded YAML ``cron:`` list, sorted by name.

    Each entry is a mapping with ``name``, ``job``, one of ``cron`` and ``every``, and
    optionally ``tz``, ``payload``, ``queue``, ``priority``, ``missed``.
    Raises ConfigError naming the entry for unknown keys, missing keys or bad values.
    """
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise ConfigError(f"cron: must be a list of schedules, not {type(entries).__name__}")
    schedules = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"cron[{index}]: must be a mapping, not {type(entry).__name__}")
        label = f"cron[{index}] ({entry.get('name', 'no name')})"
        unknown = sorted(str(key) for key in entry if key not in YAML_KEYS)
        if unknown:
            raise ConfigError(
                f"{label}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(YAML_KEYS))}"
            )
        missing = [key for key in ("name", "job") if key not in entry]
        if missing:
            raise ConfigError(f"{label}: missing key(s) {', '.join(missing)}")
        fields = {key: value for key, value in entry.items() if key not in ("name", "job")}
        schedules.append(parse_schedule(entry["name"], entry["job"], **fields))
    return unique_schedules(schedules)


def unique_schedules(schedules: Iterable[Schedule]) -> tuple[Schedule, ...]:
    """Return the schedules sorted by name; raise ConfigError if two share a name.

    Use it to join YAML and decorated schedules: the name is the identity of a schedule in
    Redis and in every fire id.
    """
    by_name: dict[str, Schedule] = {}
    for schedule in schedules:
        if schedule.name in by_name:
            raise ConfigError(f"schedule {schedule.name!r} is defined twice; give one a distinct name")
        by_name[schedule.name] = schedule
    return tuple(by_name[name] for name in sorted(by_name))

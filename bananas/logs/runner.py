"""Background loops and blocking I/O, the same code under gevent and under plain threads.

Under gevent (``threading`` monkey-patched) a loop is a greenlet and blocking writes (a slow
pipe, a ``flock`` held by another process) run on the hub's native thread pool, so they never
stall the hub. Without gevent (tests, tools) a loop is a daemon thread and writes run inline.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def gevent_active() -> bool:
    """True when gevent has patched ``threading`` in this process."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("threading"))


class Runner:
    """Starts loops and runs blocking calls off the gevent hub; ``use_gevent=None`` detects it."""

    def __init__(self, use_gevent: bool | None = None) -> None:
        self.use_gevent = gevent_active() if use_gevent is None else use_gevent
        self._loops: list[threading.Thread] = []

    def start(self, target: Callable[[], None], name: str) -> threading.Thread:
        """Run ``target`` in the background (a greenlet under gevent, else a daemon thread)."""
        loop = threading.Thread(target=target, name=name, daemon=True)
        loop.start()
        self._loops.append(loop)
        return loop

    def offload(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(*args)``; under gevent on a native thread while this greenlet waits."""
        if not self.use_gevent:
            return fn(*args)
        import gevent

        result: T = gevent.get_hub().threadpool.apply(fn, args)
        return result

    def join(self, seconds: float, loops: list[threading.Thread] | None = None) -> bool:
        """Wait up to ``seconds`` in total for ``loops`` (default: all started); True if all ended."""
        end = time.monotonic() + seconds
        chosen = self._loops if loops is None else loops
        for loop in chosen:
            loop.join(max(0.0, end - time.monotonic()))
        return not any(loop.is_alive() for loop in chosen)


def guarded(step: Callable[[float], Any], now: float) -> int:
    """Run one loop iteration; 1 if it raised, else 0.

    A background loop must outlive any one bad iteration (a file rotated away under it, a
    client bug): if it died, its buffer would grow until everything is dropped.
    """
    try:
        step(now)
    except Exception:
        return 1
    return 0


class Ticker:
    """Calls ``step(now)`` every ``interval`` seconds until ``stop``, then ``final()`` once."""

    def __init__(
        self,
        step: Callable[[float], Any],
        interval: float,
        final: Callable[[], Any],
        clock: Callable[[], float],
        wake: threading.Event | None = None,
    ) -> None:
        self.step = step
        self.interval = interval
        self.final = final
        self.clock = clock
        self.wake = wake if wake is not None else threading.Event()
        self.stopping = False
        self.errors = 0

    def run(self) -> None:
        """The loop body for :meth:`Runner.start`; an iteration that raises is counted, not fatal."""
        while not self.stopping:
            self.wake.wait(self.interval)
            self.wake.clear()
            if not self.stopping:
                self.errors += guarded(self.step, self.clock())
        self.errors += guarded(lambda _: self.final(), 0.0)

    def stop(self) -> None:
        """End the loop after a last ``final()``."""
        self.stopping = True
        self.wake.set()

"""Raising an exception in another OS thread: real threads, no Redis needed."""

from __future__ import annotations

import threading
import time

import pytest

from bananas.server.jobs.interrupt import Overrun, clear_interrupt, interrupt, os_thread_id


class Victim:
    """An OS thread that runs ``body`` and records how it ended."""

    def __init__(self, body) -> None:
        self.ident: int | None = None
        self.started = threading.Event()
        self.ended: list[str] = []
        self.thread = threading.Thread(target=self._run, args=(body,), daemon=True)

    def _run(self, body) -> None:
        self.ident = os_thread_id()
        self.started.set()
        try:
            body()
            self.ended.append("returned")
        except Overrun:
            self.ended.append("overrun")

    def start(self) -> Victim:
        self.thread.start()
        assert self.started.wait(5)
        return self


def spin(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def test_a_pure_python_loop_is_stopped_at_once():
    victim = Victim(lambda: spin(30)).start()
    began = time.monotonic()
    assert interrupt(victim.ident) is True
    victim.thread.join(5)
    assert victim.ended == ["overrun"] and time.monotonic() - began < 2


def test_except_exception_in_the_handler_does_not_swallow_it():
    def stubborn() -> None:
        for _ in range(10_000):
            try:  # noqa: SIM105 - the handler's own catch-all is the point of the test
                spin(0.01)
            except Exception:
                pass

    victim = Victim(stubborn).start()
    interrupt(victim.ident)
    victim.thread.join(5)
    assert victim.ended == ["overrun"]


def test_a_sleeping_thread_gets_it_when_the_call_returns():
    victim = Victim(lambda: [time.sleep(0.3) for _ in range(100)]).start()
    began = time.monotonic()
    interrupt(victim.ident)
    victim.thread.join(5)
    assert victim.ended == ["overrun"] and time.monotonic() - began < 2


def test_a_withdrawn_interrupt_is_never_raised():
    release = threading.Event()
    victim = Victim(lambda: release.wait(5)).start()
    assert interrupt(victim.ident) and clear_interrupt(victim.ident)
    release.set()
    victim.thread.join(5)
    assert victim.ended == ["returned"]


def test_an_unknown_thread_is_reported_not_raised_anywhere():
    done = Victim(lambda: None).start()
    done.thread.join(5)
    assert interrupt(done.ident) is False


def test_only_exception_classes_are_accepted():
    with pytest.raises(TypeError, match="exception class"):
        interrupt(os_thread_id(), Overrun())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        interrupt(os_thread_id(), int)  # type: ignore[arg-type]


def test_os_thread_id_is_the_threads_real_id():
    assert os_thread_id() == threading.main_thread().ident

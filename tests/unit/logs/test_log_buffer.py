import time

from bananas.logs.buffer import ByteBuffer, FlushLoop
from bananas.logs.runner import Runner, Ticker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(flush_bytes=100, max_bytes=1000, interval=0.1):
    clock = Clock()
    out: list[bytes] = []
    buffer = ByteBuffer(flush_bytes, max_bytes)
    return clock, out, buffer, FlushLoop(buffer, out.append, interval, clock)


def test_buffer_is_written_after_the_interval_not_before():
    clock, out, buffer, loop = make()
    buffer.append(b"a\n")
    clock.now = 0.05
    assert loop.step(clock.now) == 0 and out == []
    clock.now = 0.1
    assert loop.step(clock.now) == 2
    assert out == [b"a\n"]


def test_buffer_is_written_at_once_when_it_holds_flush_bytes():
    clock, out, buffer, loop = make(flush_bytes=10)
    buffer.append(b"12345\n")
    assert not buffer.wake.is_set()
    buffer.append(b"67890\n")
    assert buffer.wake.is_set(), "a full buffer wakes the loop"
    assert loop.step(clock.now) == 12
    assert out == [b"12345\n67890\n"]


def test_full_buffer_drops_and_counts_instead_of_waiting():
    _, _, buffer, _ = make(max_bytes=10)
    assert buffer.append(b"123456789\n")
    assert not buffer.append(b"x\n")
    assert buffer.dropped == 1 and buffer.appended == 1


def test_write_errors_are_counted_not_raised():
    clock = Clock()
    buffer = ByteBuffer(1, 100)

    def broken(data: bytes) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    loop = FlushLoop(buffer, broken, 0.1, clock)
    buffer.append(b"a\n")
    assert loop.flush() == 0
    assert loop.write_errors == 1


def test_a_loop_outlives_an_iteration_that_raises():
    calls: list[float] = []

    def step(now: float) -> None:
        calls.append(now)
        if len(calls) == 1:
            raise FileNotFoundError("rotated away by another process")

    finals: list[bool] = []
    ticker = Ticker(step, 0.001, lambda: finals.append(True), Clock())
    runner = Runner(use_gevent=False)
    runner.start(ticker.run, "test-ticker")
    deadline = time.monotonic() + 2
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    ticker.stop()
    assert runner.join(2)
    assert len(calls) >= 3 and ticker.errors == 1 and finals == [True]

"""What a pure-Python CPU loop in the threads executor costs the hub: its wake-up delay.

    python -m bench.thread_gil [--seconds 2]

Patches first, like ``bananas-server``. A greenlet sleeps 10 ms in a loop and records how much
later than asked it woke, first with no thread job, then while 1 and 2 thread jobs spin the
CPU in pure Python for ``--seconds``. Prints the median and the largest extra delay.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402 - after the patch, as in the server
import statistics  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

from bananas.server.jobs.threads import ThreadExecutor  # noqa: E402


def spin(payload: dict, ctx: object) -> None:
    end = time.monotonic() + payload["seconds"]
    while time.monotonic() < end:
        pass


def extra_delays(executor: ThreadExecutor, spinners: int, seconds: float) -> list[float]:
    delays: list[float] = []

    def tick() -> None:
        while True:
            asked = time.monotonic()
            gevent.sleep(0.01)
            delays.append(time.monotonic() - asked - 0.01)

    ticker = gevent.spawn(tick)
    if spinners:
        gevent.joinall([gevent.spawn(executor.call, spin, {"seconds": seconds}, None, 60.0)
                        for _ in range(spinners)], raise_error=True)
    else:
        gevent.sleep(seconds)
    ticker.kill()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    executor = ThreadExecutor(2)
    print("| thread jobs spinning | hub wake-ups | extra delay median ms | largest ms |\n|---|---|---|---|")
    for spinners in (0, 1, 2):
        delays = extra_delays(executor, spinners, args.seconds)
        print(f"| {spinners} | {len(delays)} | {1000 * statistics.median(delays):.2f} | {1000 * max(delays):.1f} |")


if __name__ == "__main__":
    main()

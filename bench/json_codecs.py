"""Compare JSON codecs on Bananas job envelopes: encode + decode, best of several runs.

Run from the repository root:  ``.venv/bin/python bench/json_codecs.py [--runs 7] [--target 0.2]``

Each codec encodes the envelope the way Bananas would hand it to Redis and decodes the
bytes Redis hands back. Every codec is called with its defaults. ujson is optional: it is
not a dependency of Bananas, and the table says so when it is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import timeit
from collections.abc import Callable
from typing import Any

import orjson

try:
    import ujson
except ImportError:  # only a benchmark extra: Bananas itself never imports ujson
    ujson = None

Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def small_payload() -> dict[str, Any]:
    """About 200 bytes: what a typical email or webhook job carries."""
    return {
        "user_id": 48213,
        "email": "ana.souza@example.com",
        "template": "welcome",
        "locale": "pt-BR",
        "vars": {"first_name": "Ana", "plan": "pro", "trial_days": 14, "amount": 29.9},
        "tags": ["signup", "email", "transactional"],
        "send_after": None,
    }


def large_payload(target_bytes: int = 10_240) -> dict[str, Any]:
    """About 10 KB: an order export with many lines of mixed strings, ints and floats."""
    lines: list[dict[str, Any]] = []
    payload: dict[str, Any] = {"order_id": "ord_7f3a9c", "customer": 99120, "lines": lines}
    n = 0
    while len(orjson.dumps(payload)) < target_bytes:
        lines.append(
            {
                "sku": f"SKU-{n:05d}",
                "name": f"Item number {n}",
                "qty": n % 7 + 1,
                "price": round(3.1 * n + 0.99, 2),
            }
        )
        n += 1
    return payload


def envelope(payload: dict[str, Any]) -> dict[str, Any]:
    """A job envelope as the client submits it."""
    return {
        "id": "01JD3X7Q2W9K5M8N4P6R0T1V3Y",
        "name": "emails.send_welcome",
        "queue": "default",
        "priority": "normal",
        "attempt": 0,
        "max_retries": 3,
        "timeout": 300.0,
        "enqueued_at": 1764316800.123456,
        "eta": None,
        "payload": payload,
    }


def codecs() -> dict[str, Codec]:
    """Encoders produce what goes to Redis (bytes or str); decoders read the bytes back."""
    found: dict[str, Codec] = {"orjson": (orjson.dumps, orjson.loads)}
    if ujson is not None:
        found["ujson"] = (ujson.dumps, ujson.loads)
    found["json (stdlib)"] = (json.dumps, json.loads)
    return found


def best_seconds_per_op(func: Callable[[], object], runs: int, target: float) -> float:
    """Calibrate loops to about ``target`` seconds per run; return the best run's time per op."""
    timer = timeit.Timer(func)
    loops, _ = timer.autorange()
    loops = max(1, int(loops * target / 0.2))
    return min(timer.repeat(repeat=runs, number=loops)) / loops


def measure(doc: dict[str, Any], codec: Codec, runs: int, target: float) -> tuple[float, float, float]:
    """Return best seconds per encode, per decode and per encode+decode of ``doc``."""
    encode, decode = codec
    wire = encode(doc)
    raw = wire if isinstance(wire, bytes) else wire.encode()
    if decode(raw) != doc:
        raise SystemExit(f"{codec!r} does not round-trip the document")
    enc = best_seconds_per_op(lambda: encode(doc), runs, target)
    dec = best_seconds_per_op(lambda: decode(raw), runs, target)
    both = best_seconds_per_op(lambda: decode(encode(doc)), runs, target)
    return enc, dec, both


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load}"
    )


def versions() -> str:
    parts = [f"orjson {orjson.__version__}"]
    parts.append(f"ujson {ujson.__version__}" if ujson is not None else "ujson NOT INSTALLED")
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement; the best counts")
    parser.add_argument("--target", type=float, default=0.2, help="seconds per run")
    args = parser.parse_args(argv)
    print(machine())
    print(versions())
    if ujson is None:
        print("ujson is not installed: its rows are missing (pip install ujson to compare).")
    docs = {"small": envelope(small_payload()), "10 KB": envelope(large_payload())}
    header = (
        f"{'envelope':<9}{'bytes':>7}  {'codec':<14}{'enc µs':>9}{'dec µs':>9}{'enc+dec µs':>12}{'ops/s':>11}"
    )
    print(header)
    print("-" * len(header))
    for label, doc in docs.items():
        size = len(orjson.dumps(doc))
        for name, codec in codecs().items():
            enc, dec, both = measure(doc, codec, args.runs, args.target)
            print(
                f"{label:<9}{size:>7}  {name:<14}{enc * 1e6:>9.2f}{dec * 1e6:>9.2f}"
                f"{both * 1e6:>12.2f}{1 / both:>11,.0f}"
            )
    print(f"best of {args.runs} runs of about {args.target}s each; ops/s counts one encode+decode")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

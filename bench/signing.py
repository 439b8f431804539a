"""What signed envelopes cost: submit and worker microseconds per job, with and without signing.

Starts a private redis-server and measures, in alternating rounds (unsigned, signed,
unsigned, ...) so that load drifting on the machine hits both alike:

- submit: ``Client.submit_job`` one job per call, and ``Client.submit_jobs`` in batches;
- worker: ``Runner.run`` of a delivery (noop handler, decode included), with and without the
  signature check, for payloads of about 100 B, 10 KB and 1 MB;
- the refusal of a forged MAC whose first or last character is wrong (constant-time compare).

Prints the median of each over the rounds.

    .venv/bin/python bench/signing.py [--rounds 7] [--jobs 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson

from bananas import Client
from bananas.envelope import Delivery, Limits
from bananas.registry import HandlerSpec, Registry
from bananas.server.jobs.runner import Runner, RunPolicy
from bananas.signing import Signer, Signing, Verifier
from tests.support.redis_proc import RedisProcess

SECRET = b"bench-secret-0123456789abcdef0123"
PAYLOADS = {"100 B": {"to": "ana@example.org", "subject": "hello", "n": 42, "tags": ["a", "b", "c"]},
            "10 KB": {"rows": [{"id": i, "name": f"row-{i}", "v": i * 0.5} for i in range(250)]},
            "1 MB": {"blob": "x" * (1024 * 1024 - 100)}}


def per_job_us(seconds: float, jobs: int) -> float:
    return seconds / jobs * 1e6


def submit_round(url: str, signing: Signing | None, jobs: int, batch: int) -> tuple[float, float]:
    payload = PAYLOADS["100 B"]
    with Client(url, signing=signing) as client:
        client.submit_job("warm", payload)
        started = time.perf_counter()
        for _ in range(jobs):
            client.submit_job("bench", payload)
        single = per_job_us(time.perf_counter() - started, jobs)
        specs = [{"name": "bench", "payload": payload}] * batch
        started = time.perf_counter()
        for _ in range(jobs // batch):
            client.submit_jobs(specs)
        many = per_job_us(time.perf_counter() - started, jobs // batch * batch)
        client.redis.flushall()
    return single, many


def worker_round(verifier: Verifier | None, label: str, jobs: int) -> float:
    registry = Registry()
    registry.add(HandlerSpec("bench", lambda payload, ctx: None))
    runner = Runner(registry, RunPolicy(Limits(2 * 1024 * 1024), 60.0, 3, 1.0, 60.0, False, verifier=verifier))
    payload = orjson.dumps(PAYLOADS[label]).decode()
    sig = Signer("k1", SECRET, "bananas").sign("default", "j1", "bench", "normal", None, None, payload)
    d = Delivery("default", "j1", "1", 1, "bench", payload, "normal", None, None, 0, signature=sig)
    n = max(20, jobs if label != "1 MB" else jobs // 100)
    started = time.perf_counter()
    for _ in range(n):
        outcome = runner.run(d)
    assert outcome.kind == "ok", outcome
    return per_job_us(time.perf_counter() - started, n)


def refusal_us(verifier: Verifier, where: int, count: int) -> float:
    payload = orjson.dumps(PAYLOADS["100 B"]).decode()
    good = Signer("k1", SECRET, "bananas").sign("default", "j1", "bench", "normal", None, None, payload)
    head, mac = good.rsplit(":", 1)
    wrong = mac[:where] + ("A" if mac[where] != "A" else "B") + mac[where + 1:]
    forged = f"{head}:{wrong}"
    started = time.perf_counter()
    for _ in range(count):
        refused = verifier.check("default", "j1", "bench", "normal", None, None, payload, forged)
    assert refused is not None and refused.reason == "bad_signature"
    return per_job_us(time.perf_counter() - started, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    signing = Signing({"k1": SECRET}, sign_with="k1", require=True)
    verifier = signing.verifier("bananas")
    assert verifier is not None
    rows: dict[tuple[str, str], list[float]] = {}

    def add(what: str, mode: str, value: float) -> None:
        rows.setdefault((what, mode), []).append(value)

    with tempfile.TemporaryDirectory() as tmp:
        redis_proc = RedisProcess(Path(tmp), aof=False).start()
        try:
            for _ in range(args.rounds):
                for mode, sign in (("unsigned", None), ("signed", signing)):
                    single, many = submit_round(redis_proc.url, sign, args.jobs, args.batch)
                    add("submit_job, 1 job a call (100 B payload)", mode, single)
                    add(f"submit_jobs, {args.batch} a call (100 B payload)", mode, many)
                    for label in PAYLOADS:
                        add(f"worker Runner.run, {label} payload", mode,
                            worker_round(verifier if sign else None, label, args.jobs * 5))
                add("refuse a forged MAC: first character wrong", "signed", refusal_us(verifier, 0, 20_000))
                add("refuse a forged MAC: last character wrong", "signed", refusal_us(verifier, 42, 20_000))
        finally:
            redis_proc.stop()

    print(f"rounds: {args.rounds} (alternating), jobs per round: {args.jobs}; median µs per job")
    print(f"{'what':<48} {'unsigned':>10} {'signed':>10} {'added':>10}")
    for what in dict.fromkeys(w for w, _ in rows):
        plain, signed = rows.get((what, "unsigned")), rows.get((what, "signed"))
        a = statistics.median(plain) if plain else None
        b = statistics.median(signed) if signed else None
        cells = [f"{a:10.2f}" if a is not None else f"{'-':>10}", f"{b:10.2f}" if b is not None else f"{'-':>10}",
                 f"{b - a:+10.2f}" if a is not None and b is not None else f"{'-':>10}"]
        print(f"{what:<48} {' '.join(cells)}")


if __name__ == "__main__":
    main()

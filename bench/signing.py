"""What signed envelopes cost: submit and worker microseconds per job, with and without signing.

Starts a private redis-server and measures in short alternating chunks (unsigned, signed,
signed, unsigned, ...) so that load drifting on this shared machine hits both alike:

- submit: ``Client.submit_job`` one job per call, and ``Client.submit_jobs`` in batches
  (chunks of 100 calls, or one batch);
- worker: ``Runner.run`` of a delivery (noop handler, decode included), with and without the
  signature check, for payloads of about 100 B, 10 KB and 1 MB;
- the refusal of a forged MAC whose first or last character is wrong (constant-time compare).

Prints the median of each over the chunks, and the median of the paired differences.

    .venv/bin/python bench/signing.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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


def paired(plain: Callable[[], float], signed: Callable[[], float], chunks: int) -> tuple[list[float], list[float]]:
    """µs per job of each side, chunk after chunk, alternating (which side goes first
    alternates too), so both meet the same load: this machine is shared."""
    a: list[float] = []
    b: list[float] = []
    for i in range(chunks):
        if i % 2:
            b.append(signed())
            a.append(plain())
        else:
            a.append(plain())
            b.append(signed())
    return a, b


def submit_one(client: Client, jobs: int) -> Callable[[], float]:
    payload = PAYLOADS["100 B"]

    def chunk() -> float:
        started = time.perf_counter()
        for _ in range(jobs):
            client.submit_job("bench", payload)
        return per_job_us(time.perf_counter() - started, jobs)
    return chunk


def submit_many(client: Client, batch: int) -> Callable[[], float]:
    specs = [{"name": "bench", "payload": PAYLOADS["100 B"]}] * batch

    def chunk() -> float:
        started = time.perf_counter()
        client.submit_jobs(specs)
        return per_job_us(time.perf_counter() - started, batch)
    return chunk


def run_jobs(verifier: Verifier | None, label: str, jobs: int) -> Callable[[], float]:
    registry = Registry()
    registry.add(HandlerSpec("bench", lambda payload, ctx: None))
    runner = Runner(registry, RunPolicy(Limits(2 * 1024 * 1024), 60.0, 3, 1.0, 60.0, False, verifier=verifier))
    payload = orjson.dumps(PAYLOADS[label]).decode()
    sig = Signer("k1", SECRET, "bananas").sign("default", "j1", "bench", "normal", None, None, payload)
    d = Delivery("default", "j1", "1", 1, "bench", payload, "normal", None, None, 0, signature=sig)
    assert runner.run(d).kind == "ok"

    def chunk() -> float:
        started = time.perf_counter()
        for _ in range(jobs):
            runner.run(d)
        return per_job_us(time.perf_counter() - started, jobs)
    return chunk


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


def pending_hash_bytes(url: str) -> list[tuple[str, str, int, int]]:
    """MEMORY USAGE of a waiting job's hash, unsigned and signed (key id ``web2026``), for a
    12-byte and a 70-byte payload: (payload, encoding unsigned/signed, bytes unsigned, signed)."""
    rows = []
    with Client(url) as plain, Client(url, signing=Signing({"web2026": SECRET}, sign_with="web2026")) as signed:
        for payload in ({"to": "ana"}, PAYLOADS["100 B"]):
            sizes, encodings = [], []
            for client in (plain, signed):
                key = client.broker.keys("default").job(client.submit_job("send_email", payload))
                sizes.append(int(client.redis.memory_usage(key) or 0))
                encodings.append(str(client.redis.object("encoding", key)))
            label = f"{len(orjson.dumps(payload))} B payload"
            rows.append((label, "/".join(encodings), sizes[0], sizes[1]))
        plain.redis.flushall()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="tens of chunk pairs per row")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    signing = Signing({"k1": SECRET}, sign_with="k1", require=True)
    verifier = signing.verifier("bananas")
    assert verifier is not None
    rows: dict[str, tuple[list[float], list[float]]] = {}
    chunks = args.rounds * 10
    with tempfile.TemporaryDirectory() as tmp:
        redis_proc = RedisProcess(Path(tmp), aof=False).start()
        try:
            with Client(redis_proc.url) as plain, Client(redis_proc.url, signing=signing) as signed:
                plain.submit_job("warm", {})
                signed.submit_job("warm", {})
                rows["submit_job, 1 job a call (100 B payload)"] = paired(
                    submit_one(plain, 100), submit_one(signed, 100), chunks)
                rows[f"submit_jobs, {args.batch} a call (100 B payload)"] = paired(
                    submit_many(plain, args.batch), submit_many(signed, args.batch), chunks)
                plain.redis.flushall()
            memory = pending_hash_bytes(redis_proc.url)
            for label, jobs in (("100 B", 500), ("10 KB", 20), ("1 MB", 2)):
                rows[f"worker Runner.run, {label} payload"] = paired(
                    run_jobs(None, label, jobs), run_jobs(verifier, label, jobs), chunks)
            first = [refusal_us(verifier, 0, 2000) for _ in range(chunks)]
            last = [refusal_us(verifier, 21, 2000) for _ in range(chunks)]
            rows["refuse a forged MAC: 1st / last character wrong"] = (first, last)
        finally:
            redis_proc.stop()

    print(f"{chunks} alternating chunks per row; median µs per job (the last row: first vs last character)")
    print(f"{'what':<48} {'unsigned':>10} {'signed':>10} {'added':>10}")
    for what, (a, b) in rows.items():
        ma, mb = statistics.median(a), statistics.median(b)
        diff = statistics.median([y - x for x, y in zip(a, b)])
        print(f"{what:<48} {ma:10.2f} {mb:10.2f} {diff:+10.2f}")
    print("\nRedis memory of a waiting job's hash (MEMORY USAGE, bytes; signed with key id web2026)")
    print(f"{'payload':<24} {'encoding':<22} {'unsigned':>10} {'signed':>10} {'added':>10}")
    for label, encodings, a_bytes, b_bytes in memory:
        print(f"{label:<24} {encodings:<22} {a_bytes:10d} {b_bytes:10d} {b_bytes - a_bytes:+10d}")


if __name__ == "__main__":
    main()

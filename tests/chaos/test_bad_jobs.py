"""Jobs that try to take the workers down: poison, bad input, a CPU spinner."""

from __future__ import annotations

import time

import pytest
import redis

from bananas import Client, HandlerNotFound, InvalidJob
from tests.chaos.harness import children, job_states, wait_settled, write_result

CONFIG = {"worker": {"mode": "thin", "concurrency": 4, "lease_seconds": 30, "max_recoveries": 3,
                     "watchdog_grace": 0.5}}


def others(client: Client, n: int) -> list[str]:
    return client.submit_jobs([{"name": "chaos_work", "payload": {"ms": 10}} for _ in range(n)])


def test_poison_jobs_go_dead_after_exactly_max_recoveries_and_others_flow(chaos_servers, chaos_redis, raw,
                                                                         ledger, scale):
    # One crasher at a time, each among half the other jobs: a neighbour lost twice beside a
    # crasher never runs beside it again, but two crashers at once could still charge it twice
    # each (docs/RELIABILITY.md), which this scenario is not about.
    server = chaos_servers(CONFIG)
    poison: dict[str, str] = {}
    normal: list[str] = []
    states: dict[str, str] = {}
    with Client(chaos_redis.url) as client:
        for how in ("exit", "SIGSEGV"):
            poison[how] = client.submit_job("chaos_crash", {"how": how}, job_id=f"poison-{how}")
            batch = others(client, scale.poison_others // 2)
            normal += batch
            states |= wait_settled(raw, [poison[how], *batch], 60, server.log)
    runs = {how: ledger._read(f"SELECT COUNT(*) FROM executions WHERE job_id = '{job_id}'")[0][0]
            for how, job_id in poison.items()}
    reasons = {how: raw.hget(f"{{bananas:default}}:job:{job_id}", "reason") for how, job_id in poison.items()}
    normal_ok = sum(states[i] == "succeeded" for i in normal)
    measured = {"runs_os_exit": runs["exit"], "runs_sigsegv": runs["SIGSEGV"], "reasons": reasons,
                "max_recoveries": 3, "other_jobs": len(normal), "other_jobs_succeeded": normal_ok}
    passed = runs == {"exit": 4, "SIGSEGV": 4} and set(reasons.values()) == {"poison"} and normal_ok == len(normal)
    write_result("poison", "dead after exactly max_recoveries; other jobs unaffected", measured, passed)
    assert set(reasons.values()) == {"poison"}
    assert runs == {"exit": 4, "SIGSEGV": 4}, "3 recoveries, dead at the 4th loss"
    failed = {i: raw.hmget(f"{{bananas:default}}:job:{i}", "reason", "recoveries", "error")
              for i in normal if states[i] != "succeeded"}
    assert normal_ok == len(normal), failed


BIG = "x" * 10_000_000
DEEP_TEXT = "[" * 100_000 + "]" * 100_000
PICKLE = b"\x80\x04\x95\x13\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94."


def deep_value():
    value: object = []
    for _ in range(100_000):
        value = [value]
    return {"deep": value}


AT_THE_DOOR = [
    ("10 MB payload", "chaos_work", lambda: {"blob": BIG}, InvalidJob, "above the limit"),
    ("100,000-deep nesting", "chaos_work", deep_value, InvalidJob, "nested deeper"),
    ("huge number", "chaos_work", lambda: {"n": 10 ** 30}, InvalidJob, "not JSON-serialisable"),
    ("pickle blob", "chaos_work", lambda: {"p": PICKLE}, InvalidJob, "bytes is not a JSON type"),
    ("non-UTF-8 text", "chaos_work", lambda: {"s": PICKLE.decode("utf-8", "surrogateescape")}, InvalidJob,
     "not JSON-serialisable"),
    ("NaN", "chaos_work", lambda: {"f": float("nan")}, InvalidJob, "finite"),
    ("unknown handler", "no_such_handler", lambda: {}, HandlerNotFound, "no handler"),
]

IN_REDIS = [  # written around the client, as a buggy producer in another language could
    ("malformed JSON", "chaos_work", b"{not json", "invalid"),
    ("non-UTF-8", "chaos_work", b'{"s": "\xff\xfe"}', "invalid"),
    ("pickle blob", "chaos_work", PICKLE, "invalid"),
    ("unknown handler", "no_such_handler", b"{}", "unknown_handler"),
    ("10 MB payload", "chaos_work", ('{"b": "' + BIG + '"}').encode(), "invalid"),
    ("100,000-deep nesting", "chaos_work", ('{"d": ' + DEEP_TEXT + "}").encode(), "invalid"),
    ("huge number", "chaos_work", b'{"n": 123456789012345678901234567890}', "invalid"),
    ("bad field", "chaos_work", b"{}", "invalid"),
]


def test_bad_input_is_refused_at_submit_or_dead_lettered_with_its_reason(chaos_servers, chaos_redis, raw,
                                                                         ledger, scale):
    server = chaos_servers(CONFIG)
    workers = children(server.proc.pid)
    refused = {}
    with Client(chaos_redis.url, known_handlers=["chaos_work", "chaos_crash", "chaos_spin"]) as client:
        for label, name, payload, error, message in AT_THE_DOOR:
            with pytest.raises(error, match=message):
                client.submit_job(name, payload())
            refused[label] = error.__name__
        normal = others(client, scale.bad_input_others)
    binary = redis.Redis.from_url(chaos_redis.url)
    for n, (label, name, payload, _) in enumerate(IN_REDIS):
        fields = {"id": f"bad{n}", "name": name, "payload": payload, "state": "queued",
                  "priority": "normal", "queue": "default", "attempts": 0, "token": 0}
        if label == "bad field":
            fields["timeout"] = "forever"
        binary.hset(f"{{bananas:default}}:job:bad{n}", mapping=fields)
        binary.lpush("{bananas:default}:lane:normal", f"bad{n}")
    binary.lpush("{bananas:default}:lane:normal", "no-hash")
    binary.lpush("{bananas:default}:wake:normal", "1")
    binary.close()
    bad_ids = [f"bad{n}" for n in range(len(IN_REDIS))] + ["no-hash"]
    states = wait_settled(raw, normal + bad_ids, 30, server.log)
    reasons = {label: raw.hget(f"{{bananas:default}}:job:bad{n}", "reason") for n, (label, *_) in enumerate(IN_REDIS)}
    reasons["id without a job hash"] = raw.hget("{bananas:default}:job:no-hash", "reason")
    crashes = server.log().count(" died: ")
    expected = {label: reason for label, _, _, reason in IN_REDIS} | {"id without a job hash": "missing"}
    normal_ok = sum(states[i] == "succeeded" for i in normal)
    measured = {"refused_at_submit": refused, "dead_lettered_with_reason": reasons, "worker_crashes": crashes,
                "worker_pids_unchanged": children(server.proc.pid) == workers, "good_jobs_succeeded": normal_ok}
    passed = reasons == expected and crashes == 0 and normal_ok == len(normal)
    write_result("bad_input", "0 worker crashes; each refused at submit or dead-lettered with its reason",
                 measured, passed)
    assert reasons == expected
    assert {states[i] for i in bad_ids} == {"dead"}
    assert crashes == 0 and children(server.proc.pid) == workers
    assert normal_ok == len(normal)
    assert ledger.executed_ids() == set(normal), "no bad job reached a handler"


def test_cpu_spinning_handler_is_interrupted_failed_as_timeout_and_its_process_kept(
        chaos_servers, chaos_redis, raw, ledger):
    server = chaos_servers(CONFIG)
    (old,) = children(server.proc.pid)
    with Client(chaos_redis.url) as client:
        spinner = client.submit_job("chaos_spin", {"seconds": 60}, timeout=1.0, job_id="spinner")
        server.wait_for(lambda: ledger.executions() == 1, 10, "the spinner to start")
        started = time.monotonic()
        normal = others(client, 40)
        server.wait_for(lambda: job_states(raw, [spinner])[spinner] == "dead", 15, "the spinner to fail")
        stopped_after = time.monotonic() - started
        states = wait_settled(raw, normal, 20, server.log)
    new = children(server.proc.pid)
    info = raw.hgetall("{bananas:default}:job:spinner")
    measured = {"timeout_s": 1.0, "grace_s": 0.5, "failed_after_s": round(stopped_after, 2),
                "reason": info.get("reason"), "attempts": int(info["attempts"]),
                "process_kept": new == [old],
                "others_succeeded": sum(s == "succeeded" for s in states.values()), "others": len(normal)}
    passed = (info.get("reason") == "timeout" and measured["process_kept"]
              and measured["others_succeeded"] == len(normal))
    write_result("cpu_spin", "interrupted at its timeout, job failed with timeout, process kept, others unaffected",
                 measured, passed)
    assert info["reason"] == "timeout" and "JobTimeout" in info["error"]
    assert stopped_after < 1.0 + 2.0, "stopped at its timeout, not at timeout + grace"
    assert measured["process_kept"], "the process was not killed for it"
    assert set(states.values()) == {"succeeded"}

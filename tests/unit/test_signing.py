"""Signed envelopes as pure code: what a signature covers, how a worker refuses, where keys come from."""

from __future__ import annotations

import dataclasses
import hmac
import logging

import pytest

from bananas.config import load_config
from bananas.envelope import Delivery, Limits, prepare
from bananas.errors import ConfigError
from bananas.metrics.store import counter_total
from bananas.registry import HandlerSpec, Registry
from bananas.server.jobs.runner import Runner, RunPolicy
from bananas.server.observe.events import Events
from bananas.signing import Signer, Signing, Verifier, canonical, same_mac

OLD = b"old-secret-0123456789abcdef"
NEW = b"new-secret-0123456789abcdef"
FIELDS = dict(queue="mail", job_id="j1", name="send_email", priority="high", max_retries=2, timeout=1.5,
              payload='{"to":"ana@example.org"}')


def signed(signer: Signer, **changes: object) -> dict[str, object]:
    fields = {**FIELDS, **changes}
    sig = signer.sign(fields["queue"], fields["job_id"], fields["name"], fields["priority"],  # type: ignore[arg-type]
                      fields["max_retries"], fields["timeout"], fields["payload"])  # type: ignore[arg-type]
    return {**fields, "sig": sig}


def check(verifier: Verifier, job: dict[str, object]) -> str | None:
    refused = verifier.check(job["queue"], job["job_id"], job["name"], job["priority"],  # type: ignore[arg-type]
                             job["max_retries"], job["timeout"], job["payload"], job["sig"])  # type: ignore[arg-type]
    return None if refused is None else refused.reason


def test_a_signed_job_passes_and_every_covered_field_changed_after_signing_fails():
    signer = Signer("k1", OLD, "bananas", clock=lambda: 1_700_000_000.0)
    verifier = Verifier({"k1": OLD}, "bananas", require=True)
    job = signed(signer)
    assert job["sig"].startswith("v1:k1:1700000000000:")  # type: ignore[union-attr]
    assert check(verifier, job) is None
    for name, forged in [("queue", "other"), ("job_id", "j2"), ("name", "delete_all"), ("priority", "low"),
                         ("max_retries", 99), ("max_retries", None), ("timeout", 3600.0), ("timeout", None),
                         ("payload", '{"to":"eve@example.org"}'), ("payload", '{"to": "ana@example.org"}')]:
        assert check(verifier, {**job, name: forged}) == "bad_signature", name
    assert check(Verifier({"k1": OLD}, "other-namespace", True), job) == "bad_signature"
    issued = str(job["sig"]).split(":")
    assert check(verifier, {**job, "sig": ":".join([*issued[:2], "1800000000000", issued[3]])}) == "bad_signature"


def test_unsigned_jobs_are_refused_only_when_required_and_a_bad_signature_always():
    lenient = Verifier({"k1": OLD}, "bananas", require=False)
    strict = Verifier({"k1": OLD}, "bananas", require=True)
    unsigned = {**FIELDS, "sig": ""}
    assert check(lenient, unsigned) is None
    assert check(strict, unsigned) == "unsigned"
    forged = {**FIELDS, "sig": "v1:k1:1700000000000:" + "A" * 22}
    assert check(lenient, forged) == check(strict, forged) == "bad_signature"


def test_rotation_accepts_every_held_key_and_names_an_unknown_one():
    both = Verifier({"old": OLD, "new": NEW}, "bananas", require=True)
    new_only = Verifier({"new": NEW}, "bananas", require=True)
    by_old, by_new = signed(Signer("old", OLD, "bananas")), signed(Signer("new", NEW, "bananas"))
    assert check(both, by_old) is None and check(both, by_new) is None
    refused = new_only.check("mail", "j1", "send_email", "high", 2, 1.5, FIELDS["payload"], str(by_old["sig"]))
    assert refused is not None and (refused.reason, refused.key_id) == ("unknown_key", "old")
    # the same key id with another secret is a bad signature, not an unknown key
    assert check(Verifier({"old": NEW}, "bananas", True), by_old) == "bad_signature"


@pytest.mark.parametrize("sig", ["v1", "v1:k1:12", "v2:k1:1:abc", "v1:k1:soon:abc", "v1:k1:1:a:b", "v1::1:abc",
                                 "v1:k1:1:\udcff\udcfe", "v1:k1:1:é" * 3, "\x00" * 100])
def test_a_malformed_signature_is_refused_without_raising(sig):
    refused = Verifier({"k1": OLD}, "bananas", require=True).check("q", "j", "n", "normal", None, None, "{}", sig)
    assert refused is not None and refused.reason in ("bad_signature", "unknown_key")


def test_a_signature_with_a_short_key_id_fits_a_redis_listpack_value():
    # 64 bytes is Redis' hash-max-listpack-value: past it a small job's hash takes 3x the memory
    signer = Signer("web2026", OLD, "bananas", clock=lambda: 1_796_000_000.0)
    sig = signer.sign("q", "j", "n", "normal", None, None, "{}")
    assert len(sig) == 40 + len("web2026") <= 64


def test_macs_are_compared_in_constant_time():
    # hmac.compare_digest's time does not depend on where the first difference is (its
    # documented contract); bench/signing.py prints both cases side by side.
    assert same_mac is hmac.compare_digest


def test_the_timeout_is_signed_by_value_so_2_and_2_0_agree_and_tiny_changes_show():
    base = ("ns", "q", "j", "n", "normal", None)
    assert canonical(*base, 2, 1, "k", "{}") == canonical(*base, 2.0, 1, "k", "{}")
    assert canonical(*base, 1.5, 1, "k", "{}") != canonical(*base, 1.5000000000000002, 1, "k", "{}")
    # length prefixes: moving a character from one field to the next changes the bytes
    assert canonical("ns", "q", "ab", "c", "normal", None, None, 1, "k", "{}") != \
        canonical("ns", "q", "a", "bc", "normal", None, None, 1, "k", "{}")


def test_prepare_signs_what_it_sends():
    signer = Signer("k1", OLD, "bananas")
    job = prepare("send_email", {"to": "ana"}, limits=Limits(), queue="mail", priority="high", max_retries=2,
                  timeout=1.5, job_id="j9", signer=signer)
    verifier = Verifier({"k1": OLD}, "bananas", require=True)
    assert verifier.check("mail", "j9", "send_email", "high", 2, 1.5, job.payload, job.signature) is None
    assert prepare("send_email", {}, limits=Limits()).signature == ""


def delivery(sig: str, payload: str = "{}") -> Delivery:
    return Delivery("default", "id1", "1", 1, "ran", payload, "normal", None, None, 0, signature=sig)


def test_the_runner_dead_letters_a_refused_job_without_running_it_and_events_log_and_count_it(caplog):
    ran: list[object] = []
    registry = Registry()
    registry.add(HandlerSpec("ran", lambda payload, ctx: ran.append(payload)))
    policy = RunPolicy(Limits(), 5.0, 3, 1.0, 60.0, False,
                       verifier=Verifier({"k1": OLD}, "bananas", require=True))
    runner, events = Runner(registry, policy), Events()
    good = Signer("k1", OLD, "bananas").sign("default", "id1", "ran", "normal", None, None, "{}")
    with caplog.at_level(logging.WARNING, "bananas.server.security"):
        unsigned = events.run(runner, delivery(""), "w1")
        tampered = events.run(runner, delivery(good, '{"x":1}'), "w1")
        unknown = events.run(runner, delivery(good.replace("v1:k1:", "v1:k9:")), "w1")
    assert [(o.kind, o.reason) for o in (unsigned, tampered, unknown)] == [
        ("dead", "unsigned"), ("dead", "bad_signature"), ("dead", "unknown_key")]
    assert unsigned.data.startswith("SignatureError: ") and ran == []
    snapshot = events.metrics.snapshot()
    for reason in ("unsigned", "bad_signature", "unknown_key"):
        assert counter_total(snapshot, "bananas_jobs_refused_total", queue="default", reason=reason) == 1
    refusals = [r for r in caplog.records if r.name == "bananas.server.security"]
    assert [r.__dict__["reason"] for r in refusals] == ["unsigned", "bad_signature", "unknown_key"]
    assert all(r.__dict__["event"] == "job.refused" and r.levelno == logging.WARNING for r in refusals)
    assert events.run(runner, delivery(good), "w1").kind == "ok" and ran == [{}]


def test_secrets_never_show_in_a_repr(tmp_path):
    (tmp_path / "k2").write_text("file-secret-0123456789\n")
    config = load_config(tree={"security": {"signing": {
        "keys": {"k1": "literal-secret-0123456789", "k2": {"secret_file": str(tmp_path / "k2")}},
        "sign_with": "k1", "require": True}}})
    signing = Signing.from_config(config.security.signing)
    assert signing.keys == {"k1": b"literal-secret-0123456789", "k2": b"file-secret-0123456789"}
    shown = " ".join(map(repr, (config, config.security, signing, signing.signer("bananas"),
                                signing.verifier("bananas"))))
    assert "k1" in shown and "secret-0123456789" not in shown


def test_keys_come_from_the_environment_a_file_or_a_named_variable(tmp_path):
    keyfile = tmp_path / "keys"
    keyfile.write_text("k1=from-a-file-0123456789,k2=second-key-0123456789\n")
    env = {"BANANAS_SECURITY_SIGNING_KEYS_FILE": str(keyfile), "BANANAS_SECURITY_SIGNING_SIGN_WITH": "k2",
           "BANANAS_SECURITY_SIGNING_REQUIRE": "true"}
    signing = Signing.from_config(load_config(environ=env).security.signing)
    assert signing.keys == {"k1": b"from-a-file-0123456789", "k2": b"second-key-0123456789"}
    assert (signing.sign_with, signing.require) == ("k2", True)
    tree = {"security": {"signing": {"keys": {"k3": {"secret_env": "MY_KEY"}}}}}
    named = load_config(tree=tree, environ={"MY_KEY": "from-a-variable-0123"}).security.signing
    assert Signing.from_config(named).keys == {"k3": b"from-a-variable-0123"}


@pytest.mark.parametrize(("signing", "message"), [
    ({"keys": {"k1": "short"}}, "at least 16 bytes"),
    ({"keys": {"k 1": "long-enough-secret-123"}}, "key id"),
    ({"keys": {"k1": "long-enough-secret-123"}, "sign_with": "k2"}, "sign_with: 'k2' is not among"),
    ({"require": True}, "needs at least one key"),
    ({"keys": {"k1": "long-enough-secret-123"}, "require": True}, "sign_with: required"),
    ({"keys": {"k1": {"secret_file": "/nonexistent/key"}}}, "cannot read /nonexistent/key"),
    ({"keys": {"k1": {"secret_env": "NOT_SET_ANYWHERE"}}}, "NOT_SET_ANYWHERE is not set"),
    ({"keys": {"k1": {"secret_file": "a", "secret_env": "B"}}}, "give the secret, or one of"),
    ({"keys": {"k1": 12345678901234567890}}, "give the secret, or one of"),
])
def test_bad_signing_settings_are_refused_naming_the_key(signing, message):
    with pytest.raises(ConfigError, match=r"security\.signing") as info:
        load_config(tree={"security": {"signing": signing}}, environ={})
    assert message in str(info.value)
    assert "long-enough-secret-123" not in str(info.value)


def test_a_signing_value_is_frozen_and_sign_with_none_signs_nothing():
    signing = Signing({"k1": OLD})
    assert signing.signer("bananas") is None and signing.verifier("bananas") is not None
    assert Signing({}).verifier("bananas") is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        signing.require = True  # type: ignore[misc]

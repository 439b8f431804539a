"""submit_on_commit on a real PostgreSQL transaction: rollback never submits, commit submits once."""

from __future__ import annotations

import pytest
from django.db import transaction

import bananas
from bananas import Client, InvalidJob
from bananas.contrib.django import submit_on_commit


@pytest.fixture
def Order(site_env):
    from tests.integration.with_django.site.shop.models import Order

    return Order


def queued_ids(r) -> list[str]:
    return r.lrange("{bananas:default}:lane:normal", 0, -1)


def test_rollback_never_submits(site_env, Order, r):
    with pytest.raises(RuntimeError), transaction.atomic():
        order = Order.objects.create(item="pear")
        submit_on_commit("shop.ship", {"order": order.pk})
        raise RuntimeError("payment declined")
    assert queued_ids(r) == []
    assert r.keys("{bananas:default}:job:*") == []


def test_commit_submits_once_with_the_id_returned_up_front(site_env, Order, r, redis_url):
    with transaction.atomic():
        order = Order.objects.create(item="apple")
        job_id = submit_on_commit("shop.ship", {"order": order.pk}, priority="high")
        order.job_id = job_id
        order.save()
        assert r.keys("{bananas:default}:job:*") == []  # nothing before the commit
    assert r.lrange("{bananas:default}:lane:high", 0, -1) == [job_id]
    assert r.keys("{bananas:default}:job:*") == [f"{{bananas:default}}:job:{job_id}"]  # one job, this id
    assert r.hget("{bananas:default}:stats", "submitted") == "1"  # submitted exactly once
    with Client(redis_url) as client:
        info = client.get_job(job_id)
    assert (info.name, info.payload, info.priority) == ("shop.ship", {"order": order.pk}, "high")
    assert Order.objects.get(pk=order.pk).job_id == job_id


def test_nested_savepoint_rollback_drops_only_its_own_job(site_env, Order, r):
    with transaction.atomic():
        kept = submit_on_commit("shop.ship", {"order": 1})
        with pytest.raises(ValueError), transaction.atomic():
            submit_on_commit("shop.ship", {"order": 2})
            raise ValueError("inner")
    assert queued_ids(r) == [kept]


def test_outside_a_transaction_it_submits_at_once(site_env, Order, r):
    job_id = submit_on_commit("shop.ship", {"order": 3})
    assert queued_ids(r) == [job_id]


def test_bad_payload_raises_in_the_caller_and_submits_nothing(site_env, Order, r):
    with transaction.atomic():
        with pytest.raises(InvalidJob, match="not JSON-serialisable"):
            submit_on_commit("shop.ship", {"when": object()})
        with pytest.raises(InvalidJob, match="unique"):
            submit_on_commit("shop.ship", {}, unique_for=60)
        with pytest.raises(InvalidJob, match="unknown options"):
            submit_on_commit("shop.ship", {}, prioritty="high")
    assert queued_ids(r) == []


@bananas.job("shop.by_reference", queue="mail", priority="low")
def by_reference(payload, ctx):
    return None


def test_submit_by_reference_uses_the_handlers_name_and_defaults(site_env, Order, r):
    with transaction.atomic():
        job_id = submit_on_commit(by_reference, {"to": "a@example.com"})
    assert r.lrange("{bananas:mail}:lane:low", 0, -1) == [job_id]
    with pytest.raises(bananas.HandlerNotFound, match="not a @job handler"):
        submit_on_commit(lambda payload, ctx: None)


def test_redis_down_at_commit_raises_from_the_commit_and_keeps_the_rows(site_env, Order, redis_factory):
    proc = redis_factory(aof=False)
    url = proc.url
    proc.stop()
    with Client(url, socket_timeout=0.5) as client:
        with pytest.raises(bananas.RedisUnavailable), transaction.atomic():
            Order.objects.create(item="kept")
            submit_on_commit("shop.ship", {"order": 9}, client=client)
        with transaction.atomic():
            Order.objects.create(item="robust")
            submit_on_commit("shop.ship", {"order": 10}, client=client, robust=True)
    assert sorted(Order.objects.values_list("item", flat=True)) == ["kept", "robust"]


def test_site_client_takes_the_servers_durability_and_retention(site_env, redis_url, r):
    from django.conf import settings
    from django.test import override_settings

    from bananas import NotReplicated
    from bananas.contrib.django import get_client

    kept = {**settings.BANANAS, "retention": {"dead_seconds": 5}}
    with override_settings(BANANAS=kept):
        job_id = submit_on_commit("shop.ship", {"order": 1})
        assert get_client().cancel(job_id) == "cancelled"
        assert 0 < r.ttl(f"{{bananas:default}}:job:{job_id}") <= 5  # the servers' dead retention
    replicated = {**settings.BANANAS, "redis": {"url": redis_url, "durability": "replicated",
                                                "durability_timeout": 0.05}}
    with override_settings(BANANAS=replicated), pytest.raises(NotReplicated):  # no replica here
        submit_on_commit("shop.ship", {"order": 2})

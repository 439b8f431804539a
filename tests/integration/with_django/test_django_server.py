"""``manage.py bananas_server`` against a real PostgreSQL: ORM handlers, green drivers, connections."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from bananas import Client
from tests.integration.with_django.conftest import manage
from tests.support.waiting import wait_until

DRIVERS = ["psycopg", "psycopg2"]


def client_connections(postgres) -> int:
    """Client backends connected to the shop database, other than the one asking."""
    with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'shop' AND backend_type = 'client backend'"
        ).fetchone()
    return int(count)


class Sampler:
    """Counts the shop database's connections every 20 ms in a thread (bounded by time)."""

    def __init__(self, postgres, seconds: float) -> None:
        self.postgres, self.seconds, self.samples = postgres, seconds, []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline and len(self.samples) < 1000:
            self.samples.append(client_connections(self.postgres))
            time.sleep(0.02)


@pytest.mark.parametrize("driver", DRIVERS)
def test_fifty_orm_sleeps_overlap_on_one_process_with_bounded_connections(django_server, postgres, redis_url,
                                                                          driver):
    from django.db import connections

    connections.close_all()  # the test process's own connection must not count
    server = django_server("--set", "worker.concurrency=50",
                           env={"BANANAS_TEST_PG_DRIVER": driver, "BANANAS_TEST_QUERY_AT_IMPORT": "1"})
    with Client(redis_url) as client:
        assert client.submit_and_wait("shop.driver", timeout=10) == driver
        assert client.submit_and_wait("shop.sleep", {"seconds": 0.01}, timeout=10) == "postgresql"
        sampler = Sampler(postgres, 4.0)
        sampler.thread.start()
        started = time.monotonic()
        ids = client.submit_jobs([{"name": "shop.sleep", "payload": {"seconds": 0.2}}] * 50)
        for job_id in ids:
            assert client.get_result(job_id, timeout=10) == "postgresql"
        elapsed = time.monotonic() - started
        sampler.thread.join(6)
    assert elapsed < 1.5, f"50 concurrent pg_sleep(0.2) took {elapsed:.2f} s with {driver}"
    assert max(sampler.samples) <= 50 + 1, sampler.samples  # one per executor (+ the sampler itself)
    assert max(sampler.samples) >= 10, sampler.samples  # the sleeps really overlapped
    assert sampler.samples[-1] <= 1, sampler.samples  # CONN_MAX_AGE=0: closed after each job
    assert "server closed the connection" not in server.log()


def test_psycopg2_without_green_drivers_blocks_the_whole_process(django_server, redis_url):
    django_server("--set", "worker.green_drivers=false", env={"BANANAS_TEST_PG_DRIVER": "psycopg2"})
    with Client(redis_url) as client:
        assert client.submit_and_wait("shop.driver", timeout=10) == "psycopg2"
        started = time.monotonic()
        ids = client.submit_jobs([{"name": "shop.sleep", "payload": {"seconds": 0.2}}] * 8)
        for job_id in ids:
            client.get_result(job_id, timeout=20)
        elapsed = time.monotonic() - started
    assert elapsed >= 8 * 0.2 * 0.95, f"8 blocking sleeps overlapped ({elapsed:.2f} s): nothing to fix?"


def test_a_blocking_psycopg2_in_the_threads_executor_overlaps_with_a_connection_per_thread(
        django_server, postgres, redis_url):
    from django.db import connections

    connections.close_all()  # the test process's own connection must not count
    server = django_server("--set", "worker.green_drivers=false", "--set", "worker.executor=threads",
                           "--set", "worker.concurrency=20", env={"BANANAS_TEST_PG_DRIVER": "psycopg2"})
    with Client(redis_url) as client:
        assert client.submit_and_wait("shop.driver", timeout=10) == "psycopg2"
        sampler = Sampler(postgres, 4.0)
        sampler.thread.start()
        started = time.monotonic()
        ids = client.submit_jobs([{"name": "shop.sleep", "payload": {"seconds": 0.2}}] * 20)
        for job_id in ids:
            assert client.get_result(job_id, timeout=20) == "postgresql"
        elapsed = time.monotonic() - started
        sampler.thread.join(6)
    # On the hub the same 20 queries take 20 x 0.2 s (the test above, with 8).
    assert elapsed < 1.5, f"20 blocking pg_sleep(0.2) in threads took {elapsed:.2f} s"
    assert max(sampler.samples) <= 20 + 1, sampler.samples  # one per thread (+ the sampler itself)
    assert max(sampler.samples) >= 5, sampler.samples  # the queries really overlapped
    assert sampler.samples[-1] <= 1, sampler.samples  # closed after each job, in its thread
    assert "Cannot switch" not in server.log()


def test_orm_handler_from_an_apps_jobs_module_updates_the_row(django_server, site_env, redis_url):
    from tests.integration.with_django.site.shop.models import Order

    order = Order.objects.create(item="banana")
    django_server()
    with Client(redis_url) as client:
        assert client.submit_and_wait("shop.ship", {"order": order.pk}, timeout=10) == {
            "order": order.pk, "item": "banana"}
    order.refresh_from_db()
    assert order.shipped


def test_manage_py_bananas_talks_to_the_sites_redis(site_env, redis_url):
    submitted = manage("bananas", "submit", "shop.ship", '{"order": 1}', env=site_env)
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    shown = manage("bananas", "job", job_id, env=site_env)
    assert shown.returncode == 0 and "queued" in shown.stdout, shown.stdout + shown.stderr
    assert manage("bananas", "stats", env=site_env).returncode == 0


def test_bad_bananas_setting_stops_the_server_with_the_key_named(site_env):
    result = manage("bananas_server", "--set", "worker.mode=fast", env=site_env)
    assert result.returncode == 2
    assert "worker.mode: 'fast' is not one of thin, thin_plus, default, scaled" in result.stderr


def test_bananas_server_check_lists_discovered_handlers(site_env):
    result = manage("bananas_server", "--check", env=site_env)
    assert result.returncode == 0, result.stderr
    assert "django.task" in result.stdout + result.stderr
    assert "shop.ship" in result.stdout + result.stderr


def running_sleeps(postgres) -> int:
    with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as conn:
        (count,) = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'shop' "
                                "AND state = 'active' AND query LIKE 'SELECT pg_sleep%'").fetchone()
    return int(count)


def test_timed_out_psycopg2_query_is_cancelled_on_the_server(django_server, postgres, redis_url):
    from bananas import JobFailed

    django_server(env={"BANANAS_TEST_PG_DRIVER": "psycopg2"})
    with Client(redis_url) as client:
        job_id = client.submit_job("shop.sleep", {"seconds": 30}, timeout=0.5, max_retries=0)
        with pytest.raises(JobFailed, match="timed out"):
            client.get_result(job_id, timeout=10)
        wait_until(lambda: running_sleeps(postgres) == 0, 5, "the interrupted pg_sleep to be cancelled")
        assert client.submit_and_wait("shop.sleep", {"seconds": 0.01}, timeout=10) == "postgresql"

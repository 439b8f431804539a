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


def test_connections_stay_within_the_pool_and_drop_back_after_the_burst(django_server, postgres, redis_url):
    from django.db import connections

    connections.close_all()
    django_server("--set", "worker.concurrency=10")
    with Client(redis_url) as client:
        assert client.submit_and_wait("shop.sleep", {"seconds": 0.01}, timeout=10) == "postgresql"
        sampler = Sampler(postgres, 3.0)
        sampler.thread.start()
        started = time.monotonic()
        ids = client.submit_jobs([{"name": "shop.sleep", "payload": {"seconds": 0.2}}] * 50)
        for job_id in ids:
            client.get_result(job_id, timeout=15)
        elapsed = time.monotonic() - started
        sampler.thread.join(5)
    assert elapsed >= 5 * 0.2 * 0.9, f"50 sleeps on 10 executors took only {elapsed:.2f} s"
    assert 5 <= max(sampler.samples) <= 10, sampler.samples  # one connection per executor at most
    assert sampler.samples[-1] == 0, sampler.samples  # CONN_MAX_AGE=0: none left once the burst is over


def terminate_shop_connections(postgres) -> int:
    """What a PostgreSQL restart does to its clients: every shop backend ended."""
    with psycopg.connect(postgres.dsn("postgres"), autocommit=True) as conn:
        ended = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'shop' "
                             "AND backend_type = 'client backend'").fetchall()
    return len(ended)


@pytest.mark.parametrize("health_checks", [True, False])
def test_terminated_database_connections_are_replaced_without_a_worker_restart(django_server, postgres, redis_url,
                                                                               health_checks):
    from django.db import connections

    connections.close_all()
    server = django_server("--set", "worker.concurrency=2", env={
        "BANANAS_TEST_CONN_MAX_AGE": "300", "BANANAS_TEST_CONN_HEALTH_CHECKS": "1" if health_checks else "0"})
    workers = server.worker_pids()
    with Client(redis_url) as client:
        for _ in range(4):
            assert client.submit_and_wait("shop.sleep", {"seconds": 0.01}, timeout=10) == "postgresql"
        assert 1 <= client_connections(postgres) <= 2  # persistent: kept between jobs, one per executor
        assert terminate_shop_connections(postgres) >= 1
        wait_until(lambda: client_connections(postgres) == 0, 5, "the terminated backends to go")
        ids = [client.submit_job("shop.sleep", {"seconds": 0.01}) for _ in range(4)]
        assert [client.get_result(job_id, timeout=10) for job_id in ids] == ["postgresql"] * 4
        attempts = [client.get_job(job_id).attempts for job_id in ids]
    if health_checks:
        assert attempts == [1] * 4  # CONN_HEALTH_CHECKS: the dead connection is replaced before use
    else:
        assert max(attempts) <= 2, attempts  # a job that met the dead connection ran again on a new one
    assert server.worker_pids() == workers  # the same worker process throughout


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


@pytest.mark.parametrize("conn_max_age", ["0", "300"])
def test_blocking_psycopg2_in_the_threads_executor_overlaps_and_leaves_the_hub_free(django_server, postgres,
                                                                                    redis_url, conn_max_age):
    from django.db import connections

    connections.close_all()
    django_server("--set", "worker.green_drivers=false", "--set", "worker.concurrency=10",
                  env={"BANANAS_TEST_PG_DRIVER": "psycopg2", "BANANAS_TEST_CONN_MAX_AGE": conn_max_age})
    with Client(redis_url) as client:
        assert client.submit_and_wait("shop.driver", timeout=10) == "psycopg2"
        for _ in range(2):  # the second round reuses the pool's threads
            before = client_connections(postgres)  # persistent: those the hub's jobs kept
            sampler = Sampler(postgres, 1.0)
            sampler.thread.start()
            started = time.monotonic()
            ids = client.submit_jobs([{"name": "shop.sleep_in_thread", "payload": {"seconds": 0.3}}] * 8)
            time.sleep(0.1)
            hub_started = time.monotonic()
            assert client.submit_and_wait("shop.driver", timeout=10) == "psycopg2"  # on the hub, meanwhile
            hub_elapsed = time.monotonic() - hub_started
            assert [client.get_result(job_id, timeout=10) for job_id in ids] == ["postgresql"] * 8
            elapsed = time.monotonic() - started
            sampler.thread.join(3)
            assert elapsed < 8 * 0.3 * 0.5, f"8 blocking sleeps in threads took {elapsed:.2f} s"
            assert hub_elapsed < 0.25, f"a hub job waited {hub_elapsed:.2f} s behind the thread jobs"
            assert 4 <= max(sampler.samples) <= before + 8 + 1, sampler.samples  # a thread each, the hub job
            # a thread job's connections are closed when it ends, even when persistent (unreachable after)
            wait_until(lambda kept=before + 1: client_connections(postgres) <= kept, 5,
                       "the threads' connections to close")


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

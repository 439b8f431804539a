"""A real PostgreSQL cluster and the test Django project, set up once per session.

Django can be set up once per process, so the database and the Redis URL are fixed for the
session; each test gets the session's Redis flushed and its tables emptied.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("django")
from tests.support.postgres_proc import PostgresProcess, pg_bin_dir
from tests.support.server_proc import ServerProcess

SITE = Path(__file__).parent / "site"
MANAGE = SITE / "manage.py"
SETTINGS = "tests.integration.with_django.site.settings"


@pytest.fixture(scope="session")
def postgres(tmp_path_factory) -> PostgresProcess:
    if pg_bin_dir() is None:
        pytest.fail("PostgreSQL binaries are missing: `make install` installs Debian's postgresql")
    proc = PostgresProcess(tmp_path_factory.mktemp("pg")).start()
    proc.create_database("shop")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def django_site(postgres, redis_proc):
    """Django set up in this process on the session's PostgreSQL and Redis, tables created."""
    env = {**postgres.environ("shop"), "BANANAS_TEST_REDIS_URL": redis_proc.url,
           "DJANGO_SETTINGS_MODULE": SETTINGS}
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)
    return env


@pytest.fixture
def site_env(django_site, redis_url):
    """The project's environment for this test; its rows emptied, its Redis flushed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE shop_order, shop_event RESTART IDENTITY")
    from bananas.contrib.django import conf

    conf.reset()
    return dict(django_site)


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` of the test project in a subprocess."""
    return subprocess.run([sys.executable, str(MANAGE), *args], env={**os.environ, **env}, cwd=SITE,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def django_server(tmp_path, site_env, redis_url):
    """Start ``manage.py bananas_server`` processes for the test project; killed at the end."""
    started: list[ServerProcess] = []

    def make(*flags: str, env: dict[str, str] | None = None, expect_processes: int = 1) -> ServerProcess:
        command = [sys.executable, str(MANAGE), "bananas_server", *flags]
        server = ServerProcess(tmp_path / f"django{len(started)}", redis_url, env={**site_env, **(env or {})},
                               command=command, cwd=SITE)
        started.append(server)
        return server.start(expect_processes, timeout=30)

    yield make
    for server in started:
        server.kill_all()

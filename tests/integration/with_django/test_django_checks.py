"""``manage.py check`` on the test project: a bad BANANAS value is an error, an unserved task queue a warning."""

from __future__ import annotations

from tests.integration.with_django.conftest import manage


def test_bad_bananas_value_fails_the_check_with_its_source_named(site_env):
    done = manage("check", env={**site_env, "WORKER_MODE": "fast"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "(bananas.E001) BANANAS: WORKER_MODE: 'fast' is not one of" in done.stderr  # the override named


def test_task_queue_no_server_serves_is_a_warning_with_the_fix(site_env):
    done = manage("check", env=site_env)  # TASKS["default"]["QUEUES"] has "reports"; worker.queues does not
    assert done.returncode == 0, done.stderr
    assert "(bananas.W001) TASKS['default']['QUEUES'] lists reports" in done.stderr
    assert "BANANAS['worker']['queues'] = ['default', 'reports']" in done.stderr
    served = manage("check", env={**site_env, "WORKER_QUEUES": "default,reports"})
    assert served.returncode == 0 and "bananas.W001" not in served.stdout + served.stderr, served.stderr

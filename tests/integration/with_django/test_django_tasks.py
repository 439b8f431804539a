"""The django.tasks backend, through the installed Django's own tasks API, run by a real server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from bananas.contrib.django.compat import InvalidTask, TaskResultDoesNotExist, TaskResultStatus, task_backends
from tests.support.waiting import wait_until


@pytest.fixture
def shop(site_env):
    from tests.integration.with_django.site.shop import models, tasks

    return tasks, models


def finished(result, timeout: float = 10.0):
    def done() -> bool:
        result.refresh()
        return result.is_finished

    wait_until(done, timeout, f"task {result.id} to finish")
    return result


def test_backend_declares_what_it_supports(site_env):
    backend = task_backends["default"]
    assert (backend.supports_defer, backend.supports_get_result, backend.supports_priority) == (True, True, True)
    assert backend.supports_async_task is False


def test_enqueued_task_runs_and_its_result_reads_back(django_server, shop):
    tasks, models = shop
    django_server()
    before = timezone.now()
    result = tasks.add.enqueue(2, 3)
    assert result.status == TaskResultStatus.READY and result.enqueued_at >= before
    finished(result)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert result.args == [2, 3] and result.errors == []
    assert result.attempts == 1 and len(result.worker_ids) == 1 and result.worker_ids[0]
    assert result.enqueued_at <= result.started_at <= result.finished_at
    again = tasks.add.get_result(result.id)
    assert (again.id, again.return_value, again.task.func) == (result.id, 5, tasks.add.func)
    kinds = sorted(models.Event.objects.filter(ref=result.id).values_list("kind", "detail"))
    assert kinds == [("task_enqueued", "READY"), ("task_finished", "SUCCESSFUL"), ("task_started", "RUNNING")]


def test_failure_keeps_the_exception_path_and_traceback(django_server, shop, r):
    tasks, _ = shop
    django_server()
    result = tasks.always_fails.using(priority=-5).enqueue("out of bananas")
    assert r.hget(f"{{bananas:default}}:job:{result.id}", "priority") == "low"
    finished(result, 20)
    assert result.status == TaskResultStatus.FAILED
    (error,) = result.errors
    assert error.exception_class_path == "tests.integration.with_django.site.shop.tasks.Flaky"
    assert error.exception_class is tasks.Flaky
    assert "out of bananas" in error.traceback and "Traceback" in error.traceback
    assert result.attempts == 4  # the first attempt and the servers' 3 retries
    with pytest.raises(ValueError):
        result.return_value  # noqa: B018


def test_retried_task_sees_its_attempt_and_keeps_a_worker_per_attempt(django_server, shop):
    tasks, _ = shop
    django_server()
    result = finished(tasks.attempt_number.enqueue(3), 20)
    assert result.return_value == 3
    assert result.attempts == 3 and all(result.worker_ids)


def test_queue_priority_and_run_after_map_onto_the_job(django_server, shop, r):
    tasks, _ = shop
    later = timezone.now() + timedelta(seconds=1.5)
    result = tasks.report.using(run_after=later).enqueue("daily")
    fields = r.hgetall(f"{{bananas:reports}}:job:{result.id}")
    assert (fields["priority"], fields["state"]) == ("high", "scheduled")
    django_server("--set", "worker.queues=default,reports")
    finished(result, 15)
    assert result.return_value == {"report": "daily"}
    assert result.started_at >= later - timedelta(milliseconds=50)


def test_unknown_queue_and_bad_arguments_are_refused_at_enqueue(site_env, shop):
    tasks, _ = shop
    with pytest.raises(InvalidTask):
        tasks.add.using(queue_name="nowhere").enqueue(1, 2)
    with pytest.raises(TypeError):
        tasks.add.enqueue(object(), 2)
    with pytest.raises(TaskResultDoesNotExist):
        task_backends["default"].get_result("0" * 32)


def test_enqueue_on_commit_backend_submits_only_when_committed(django_server, shop, r):
    tasks, models = shop
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.noted.enqueue("rolled-back")
        raise RuntimeError
    with transaction.atomic():
        result = tasks.noted.enqueue("committed")
        assert result.enqueued_at is None and r.keys("{bananas:default}:job:*") == []
    assert result.enqueued_at is not None
    django_server()
    finished(result)
    assert result.return_value == "committed"
    assert list(models.Event.objects.filter(kind="noted").values_list("ref", flat=True)) == ["committed"]


def test_enqueue_on_commit_backend_outside_a_transaction_submits_at_once(django_server, shop, r):
    tasks, models = shop
    result = tasks.noted.enqueue("autocommit")
    assert result.enqueued_at is not None and r.exists(f"{{bananas:default}}:job:{result.id}")
    assert list(models.Event.objects.filter(kind="task_enqueued").values_list("ref", flat=True)) == [result.id]
    django_server()
    assert finished(result).return_value == "autocommit"

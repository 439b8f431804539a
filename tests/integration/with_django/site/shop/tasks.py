"""Django tasks of the test shop (django.tasks API, run by the Bananas backend)."""

from bananas.contrib.django.compat import task_finished, task_started, tasks_module

from .models import Event

task = tasks_module.task


@task
def add(a, b):
    return a + b


@task(queue_name="reports", priority=10)
def report(name):
    return {"report": name}


class Flaky(Exception):
    pass


@task
def always_fails(message):
    raise Flaky(message)


@task(takes_context=True)
def attempt_number(context, fail_until):
    if context.attempt < fail_until:
        raise Flaky(f"attempt {context.attempt}")
    return context.attempt


@task(backend="on_commit")
def noted(ref):
    Event.objects.create(kind="noted", ref=ref)
    return ref


def _record(signal_name):
    def receiver(sender, task_result, **kwargs):
        Event.objects.create(kind=signal_name, ref=task_result.id, detail=str(task_result.status))

    return receiver


_started = _record("task_started")
_finished = _record("task_finished")
task_started.connect(_started, dispatch_uid="shop-started")
task_finished.connect(_finished, dispatch_uid="shop-finished")
_enqueued = _record("task_enqueued")
tasks_module_signals = __import__(tasks_module.__name__ + ".signals", fromlist=["task_enqueued"])
tasks_module_signals.task_enqueued.connect(_enqueued, dispatch_uid="shop-enqueued")

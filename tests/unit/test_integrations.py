"""Pure parts of the framework integrations: settings trees, job references, argv, error paths."""

from __future__ import annotations

import pytest

import bananas
from bananas.config import load_config
from bananas.contrib.django.management._argv import own_arguments
from bananas.errors import ConfigError, HandlerNotFound
from bananas.registry import job_name


def test_settings_tree_is_checked_like_the_yaml_file(tmp_path):
    (tmp_path / "c.yaml").write_text("worker:\n  concurency: 5\n")
    with pytest.raises(ConfigError) as from_file:
        load_config(tmp_path / "c.yaml")
    with pytest.raises(ConfigError) as from_tree:
        load_config(tree={"worker": {"concurency": 5}})
    assert str(from_tree.value) == str(from_file.value)
    assert "unknown setting worker.concurency" in str(from_tree.value)


def test_environment_overrides_the_settings_tree_and_the_tree_is_not_changed():
    tree = {"worker": {"mode": "thin", "concurrency": 5}, "routes": {"mail.*": "mail"}}
    config = load_config(environ={"WORKER_CONCURRENCY": "9"}, tree=tree)
    assert (config.worker.mode, config.worker.concurrency, config.routes) == ("thin", 9, {"mail.*": "mail"})
    assert tree == {"worker": {"mode": "thin", "concurrency": 5}, "routes": {"mail.*": "mail"}}


def test_a_file_and_a_tree_together_are_refused(tmp_path):
    (tmp_path / "c.yaml").write_text("{}\n")
    with pytest.raises(ConfigError, match="not both"):
        load_config(tmp_path / "c.yaml", tree={})


@bananas.job("mail.send")
def send(payload, ctx):
    return None


def test_job_reference_is_the_handlers_registered_name():
    assert job_name(send) == "mail.send"
    assert job_name("mail.send") == "mail.send"
    with pytest.raises(HandlerNotFound, match="not a @job handler"):
        job_name(len)


def test_manage_py_arguments_lose_djangos_own_options():
    argv = ["manage.py", "bananas_server", "--settings", "x.settings", "--mode", "thin",
            "--pythonpath=/srv", "--set", "worker.concurrency=5"]
    assert own_arguments(argv) == ["--mode", "thin", "--set", "worker.concurrency=5"]


def test_task_error_path_comes_from_the_traceback():
    pytest.importorskip("django_tasks")
    from bananas.contrib.django.tasks import exception_path, lane_for

    tb = "Traceback (most recent call last):\n  File \"x.py\", line 1\nshop.errors.OutOfStock: none left\n"
    assert exception_path("OutOfStock: none left", tb) == "shop.errors.OutOfStock"
    assert exception_path("ValueError: bad", "Traceback...\nValueError: bad\n") == "builtins.ValueError"
    assert exception_path("JobTimeout: timed out after 1 s", None) == "bananas.errors.JobTimeout"
    assert exception_path("InvalidResult: the handler's result is not JSON-serialisable", None) == \
        "bananas.errors.InvalidResult"
    assert [lane_for(p) for p in (100, 1, 0, -1, -100)] == ["high", "high", "normal", "low", "low"]

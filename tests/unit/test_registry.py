import pytest

from bananas import job
from bananas.errors import ConfigError, HandlerNotFound
from bananas.registry import Registry, load_registry


def test_decorator_marks_without_registering_anything():
    @job("x", max_retries=2)
    def handler(payload, ctx):
        return 1

    registry = Registry()
    assert len(registry) == 0
    assert handler({}, None) == 1


def test_handlers_load_from_a_directory(tmp_path):
    (tmp_path / "mail.py").write_text(
        "from bananas import job\n@job('send_email', timeout=3)\ndef send(p, ctx):\n    return p\n")
    registry = load_registry([str(tmp_path)])
    assert registry.names() == ["send_email"]
    assert registry.get("send_email").timeout == 3


def test_missing_handler_is_a_clear_error():
    with pytest.raises(HandlerNotFound, match="nope"):
        Registry().get("nope")


def test_two_handlers_with_one_name_stop_the_start(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.py").write_text(
            "from bananas import job\n@job('same')\ndef f(p, ctx):\n    return 1\n")
    with pytest.raises(ConfigError, match="two handlers for job 'same'"):
        load_registry([str(tmp_path)])


def test_a_module_that_fails_to_import_names_the_file(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(ConfigError, match=r"broken\.py"):
        load_registry([str(tmp_path)])

from bananas.queue.broker import _load


def test_the_shared_library_goes_after_the_flags_line_which_stays_first():
    settle = _load("settle")
    assert settle.startswith("#!lua flags=allow-oom\n")
    assert "local function end_job" in settle and "local function now_ms" in settle


def test_scripts_without_flags_start_with_the_shared_library():
    assert _load("submit").startswith("-- Shared by the lifecycle scripts")

import os
import time

from bananas.logs.config import FileLogConfig
from bananas.logs.files import FileTier, component_path, expired_backups, split_batches
from bananas.logs.runner import Runner


def test_split_batches_cuts_only_at_line_ends():
    data = b"".join(b"line %04d\n" % i for i in range(1000))
    pieces = split_batches(data, limit=1000)
    assert b"".join(pieces) == data
    assert all(piece.endswith(b"\n") and len(piece) <= 1000 for piece in pieces)


def test_a_line_longer_than_the_limit_stays_whole():
    data = b"short\n" + b"x" * 50 + b"\nend\n"
    assert split_batches(data, limit=10) == [b"short\n", b"x" * 50 + b"\n", b"end\n"]


def test_component_path_inserts_the_component_before_the_extension():
    assert component_path("logs/bananas.log", "worker") == "logs/bananas.worker.log"
    assert component_path("logs/bananas", "redis") == "logs/bananas.redis.log"


def test_only_old_rotated_files_expire():
    entries = [("l/b.log", 0.0), ("l/b.log.1", 0.0), ("l/b.log.2.gz", 0.0), ("l/b.log.3", 500.0),
               ("l/b.log.lock", 0.0), ("l/other.log.1", 0.0)]
    assert expired_backups(entries, "l/b.log", cutoff=100.0) == ["l/b.log.1", "l/b.log.2.gz"]


def test_file_tier_writes_one_file_per_component_and_sweeps_expired_backups(tmp_path):
    config = FileLogConfig(enabled=True, path=str(tmp_path / "b.log"), per_component=True, max_age_days=1)
    tier = FileTier(config, Runner(use_gevent=False))
    tier.accept({"time": time.time(), "level": "INFO", "msg": "w", "logger": "x", "component": "worker"})
    tier.accept({"time": time.time(), "level": "INFO", "msg": "s", "logger": "x", "component": "scheduler"})
    tier.flush()
    assert '"msg":"w"' in (tmp_path / "b.worker.log").read_text()
    assert '"msg":"s"' in (tmp_path / "b.scheduler.log").read_text()
    old = tmp_path / "b.worker.log.1"
    old.write_text("old\n")
    os.utime(old, (time.time() - 3 * 86400,) * 2)
    assert tier.sweep(time.time()) == [str(old)]
    assert not old.exists() and (tmp_path / "b.worker.log").exists()
    tier.close()
    assert tier.snapshot()["written"] == 2

"""``bananas es-init`` / ``bananas es-clean`` as commands, against the fake Elasticsearch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("bananas")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=30,
                          env={**os.environ, **env})


def test_es_init_and_es_clean_read_the_config_file(fake_es, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"logging:\n  es:\n    addresses: ['{fake_es.url}']\n    index_prefix: cmd-logs\n")
    done = run("es-init", "-c", str(config), env={})
    assert done.returncode == 0, done.stderr
    assert "cmd-logs-policy" in fake_es.policies and fake_es.templates["cmd-logs"]["data_stream"] == {}
    done = run("es-clean", "-c", str(config), env={})
    assert done.returncode == 0, done.stderr
    assert fake_es.policies == {} and fake_es.templates == {}


def test_es_init_reports_an_unreachable_cluster_without_a_traceback(dead_url):
    done = run("es-init", env={"LOG_ES_ADDRESSES": dead_url, "LOG_ES_REQUEST_TIMEOUT": "2"})
    assert done.returncode == 1
    assert "refused or failed" in done.stderr and "Traceback" not in done.stderr


def test_es_commands_mask_the_password_of_an_address_with_user_info(fake_es, dead_url):
    with_user = dead_url.replace("http://", "http://elastic:s3cret-pw@")
    failed = run("es-init", env={"LOG_ES_ADDRESSES": with_user, "LOG_ES_REQUEST_TIMEOUT": "2"})
    assert failed.returncode == 1
    assert "http://elastic:***@127.0.0.1:" in failed.stderr and "s3cret-pw" not in failed.stderr + failed.stdout
    worked = run("es-init", env={"LOG_ES_ADDRESSES": fake_es.url.replace("http://", "http://elastic:s3cret-pw@")})
    assert worked.returncode == 0, worked.stderr
    assert "http://elastic:***@127.0.0.1:" in worked.stdout and "s3cret-pw" not in worked.stdout + worked.stderr

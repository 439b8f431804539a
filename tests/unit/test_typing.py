"""The public API's types catch mistakes before they run: mypy on a small user module."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api

USER_CODE = '''
from bananas import Client, JobContext, job

@job("emails.send")
def send_email(payload: dict, ctx: JobContext) -> None:
    return None

client = Client("redis://127.0.0.1:6379/0")
client.submit_job(send_email, {"to": "a@example.com"}, priority="high")
client.submit_job("emails.send", {"to": "a@example.com"}, priority="low")
client.submit_job(send_email, {"to": "a@example.com"}, priority="urgent")
'''


def test_mypy_refuses_a_wrong_priority_and_accepts_a_handler_reference(tmp_path: Path) -> None:
    module = tmp_path / "user_jobs.py"
    module.write_text(textwrap.dedent(USER_CODE))
    out, err, status = api.run([str(module), "--no-incremental", "--cache-dir", str(tmp_path / "cache"),
                                "--config-file", str(Path(__file__).parents[2] / "mypy.ini")])
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1 and len(errors) == 1, out + err
    assert "user_jobs.py:11:" in errors[0] and "'urgent'" in errors[0] and "priority" in errors[0], errors

"""``flask --app yourapp bananas-server [flags]``: Bananas workers for a Flask app."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask.cli import ScriptInfo


@click.command("bananas-server", context_settings={"ignore_unknown_options": True,
                                                   "allow_extra_args": True, "help_option_names": []})
@click.pass_context
def server_command(ctx: click.Context) -> None:
    """Run bananas-server with app.config["BANANAS"] (flags: those of bananas-server)."""
    info = ctx.find_object(ScriptInfo)
    path = getattr(info, "app_import_path", None) or os.environ.get("FLASK_APP")
    if not path:
        raise click.UsageError("name the app: flask --app yourapp bananas-server")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    sys.stdout.flush()
    sys.stderr.flush()
    # A fresh process patches gevent before Flask, redis and ssl are imported (see server.py).
    os.execve(sys.executable, [sys.executable, "-m", "bananas.contrib.flask.server", "--app", path,
                               *ctx.args], env)


def load_app(path: str) -> Any:
    """The Flask app at ``path`` (``module``, ``module:app`` or ``module:create_app()``)."""
    return ScriptInfo(app_import_path=path).load_app()

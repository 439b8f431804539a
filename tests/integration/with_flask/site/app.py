"""The Flask app the integration tests run (database file and Redis from the environment)."""

import os

from flask import Flask, current_app, redirect, request, session
from flask_sqlalchemy import SQLAlchemy

import bananas
from bananas.contrib.flask import Bananas
from bananas.contrib.flask.dashboard import mount_dashboard

db = SQLAlchemy()
queue = Bananas()


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(100))


def create_app() -> Flask:
    app = Flask("notes")
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("NOTES_DB", "sqlite://")
    app.config["GREETING"] = "hello from the app config"
    app.config["BANANAS"] = {
        "redis": {"url": os.environ.get("BANANAS_TEST_REDIS_URL", "redis://127.0.0.1:1/0")},
        "handlers": {"modules": ["tests.integration.with_flask.site.app"]},
        "worker": {"mode": "thin", "concurrency": 1, "lease_seconds": 5, "grace_seconds": 5},
        "http": {"port": 0},
    }
    app.secret_key = "notes-test-key"
    db.init_app(app)
    queue.init_app(app)
    with app.app_context():
        db.create_all()
    mount_dashboard(app, "/ops/bananas", authorize=signed_in_user)

    @app.post("/login")
    def login():  # the app's own (toy) login: the dashboard trusts whatever it decides
        session["user"] = request.form["user"]
        return "ok"

    return app


ROLES = {"ada": "operator", "vera": "viewer"}


def signed_in_user():
    """The app's rule for the dashboard: its signed-in users, with their role; others to /login."""
    name = session.get("user")
    if name is None:
        return redirect("/login")
    return (name, ROLES[name]) if name in ROLES else None


@bananas.job("notes.add")
def add_note(payload, ctx):
    db.session.add(Note(text=payload["text"]))
    db.session.commit()
    return {"app": current_app.name, "greeting": current_app.config["GREETING"], "notes": Note.query.count()}


@bananas.job("notes.leave_pending")
def leave_pending(payload, ctx):
    db.session.add(Note(text="never committed"))
    return len(db.session.new)


@bananas.job("notes.pending")
def pending(payload, ctx):
    return len(db.session.new)

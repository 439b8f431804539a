"""The example Flask app: a route submits a job; the job writes with Flask-SQLAlchemy.

Run it:  flask --app app init-db        (once: creates the tables)
         flask --app app run            (the web app)
         flask --app app bananas-server (the workers; same config, same handlers)

The tables are made by a command of their own, not when the app starts: the web app and the
workers start the app at the same time, and two processes creating the same tables race.
"""

import os

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy

from bananas.contrib.flask import Bananas

db = SQLAlchemy()
bananas_ext = Bananas()


class Thumbnail(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    image = db.Column(db.String(200), nullable=False)
    size = db.Column(db.Integer, nullable=False)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("THUMBS_DB", "sqlite:///thumbs.sqlite3")
    app.config["THUMBNAIL_SIZE"] = 128
    app.config["BANANAS"] = {
        "redis": {"url": "redis://127.0.0.1:6379/0"},  # REDIS_URL overrides it
        "handlers": {"modules": ["jobs"]},
        "worker": {"mode": "thin", "concurrency": 10},
        "http": {"port": 0},
    }
    db.init_app(app)
    bananas_ext.init_app(app)

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the tables."""
        db.create_all()

    @app.post("/thumbnails")
    def make_thumbnail():
        from jobs import make_thumbnail

        job_id = bananas_ext.submit_job(make_thumbnail, {"image": request.get_json()["image"]})
        return jsonify(job=job_id), 202

    @app.get("/jobs/<job_id>")
    def job_state(job_id: str):
        info = bananas_ext.client.get_job(job_id)
        return jsonify(state=info.state, result=info.result)

    return app

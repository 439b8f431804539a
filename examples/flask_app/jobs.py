"""Handlers of the example Flask app: they run inside app.app_context()."""

from flask import current_app

import bananas
from app import Thumbnail, db


@bananas.job("thumbnails.make", max_retries=3)
def make_thumbnail(payload, ctx):
    size = current_app.config["THUMBNAIL_SIZE"]
    thumb = Thumbnail(image=payload["image"], size=size)
    db.session.add(thumb)
    db.session.commit()  # the session is removed after the job by bananas.contrib.flask
    return {"thumbnail": thumb.id, "size": size}

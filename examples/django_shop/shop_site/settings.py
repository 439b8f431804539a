"""Settings of the example shop. SHOP_DB, REDIS_URL and DATABASE_ENGINE come from the environment."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "example-only-not-secret")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "bananas.contrib.django",
    "shop",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "shop_site.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SHOP_DB", str(BASE_DIR / "shop.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The same tree as a bananas-server YAML file; REDIS_URL, WORKER_MODE, BANANAS_* still override.
BANANAS = {
    "redis": {"url": "redis://127.0.0.1:6379/0"},
    "worker": {"mode": "thin", "concurrency": 20},
    "http": {"port": 0},
}

# Django's own tasks API (django.tasks on Django 6, the django-tasks backport before), run by Bananas.
TASKS = {"default": {"BACKEND": "bananas.contrib.django.tasks.BananasBackend"}}

"""Settings of the Django project the integration tests run (database and Redis from the environment)."""

import os
import sys
from pathlib import Path

if os.environ.get("BANANAS_TEST_PG_DRIVER") == "psycopg2":
    sys.modules["psycopg"] = None  # type: ignore[assignment]  # Django then picks psycopg2

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-only"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "bananas.contrib.django",
    "tests.integration.with_django.site.shop",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PGDATABASE", "shop"),
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
        "USER": os.environ.get("PGUSER", "postgres"),
        "CONN_MAX_AGE": int(os.environ.get("BANANAS_TEST_CONN_MAX_AGE", "0")),
        "CONN_HEALTH_CHECKS": os.environ.get("BANANAS_TEST_CONN_HEALTH_CHECKS") == "1",
    }
}
BANANAS = {
    "redis": {"url": os.environ.get("BANANAS_TEST_REDIS_URL", "redis://127.0.0.1:1/0")},
    "worker": {"mode": "thin", "concurrency": 50, "lease_seconds": 5, "grace_seconds": 5},
    "retry": {"backoff_base": 0.1, "jitter": False},
    "http": {"port": 0},
}
TASKS = {
    "default": {
        "BACKEND": "bananas.contrib.django.tasks.BananasBackend",
        "QUEUES": ["default", "reports"],
    },
    "on_commit": {
        "BACKEND": "bananas.contrib.django.tasks.BananasBackend",
        "OPTIONS": {"ENQUEUE_ON_COMMIT": True},
    },
}
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages",
                                                 "django.template.context_processors.request"]}}]
ROOT_URLCONF = "tests.integration.with_django.site.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Bananas server image. Build: docker build -t bananas .   (or: podman build -t bananas .)
# Run against your Redis: docker run -e REDIS_URL=redis://redis:6379/0 -v $PWD/handlers:/app/handlers bananas
# Without REDIS_URL it starts the embedded redis-server (data in /app/.bananas; mount a volume to keep it).
# SIGTERM drains: fetching stops, running jobs get worker.grace_seconds (30 s) to finish, the rest
# goes back to Redis; give the container a stop timeout above the grace (docker stop -t 45).

# BASE: any Debian-based image with Python 3.11+ and pip (make image-smoke builds one offline).
ARG BASE=python:3.11-slim
FROM ${BASE} AS build
WORKDIR /src
COPY pyproject.toml setup.cfg README.md ./
COPY bananas ./bananas
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${BASE}
# redis-server only serves the embedded mode (no REDIS_URL); Debian's version is the one tested.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
 && groupadd --gid 10001 bananas && useradd --uid 10001 --gid 10001 --create-home bananas
WORKDIR /app
COPY handlers ./handlers
COPY config ./config
RUN mkdir -p /app/.bananas && chown 10001:10001 /app/.bananas
USER 10001:10001
EXPOSE 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9090/health/live', timeout=2).status != 200)"]
STOPSIGNAL SIGTERM
CMD ["bananas-server", "-c", "config/example.yaml"]

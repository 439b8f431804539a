# Bananas server image. Build: docker build -t bananas .
# Run against your Redis: docker run -e REDIS_URL=redis://redis:6379/0 -v $PWD/handlers:/app/handlers bananas
# Without REDIS_URL it starts the embedded redis-server (data in /app/.bananas; mount a volume to keep it).
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml setup.cfg README.md ./
COPY bananas ./bananas
RUN pip install --no-cache-dir .
COPY handlers ./handlers
COPY config ./config

RUN useradd --create-home bananas && mkdir -p /app/.bananas && chown bananas /app/.bananas
USER bananas
STOPSIGNAL SIGTERM
CMD ["bananas-server", "-c", "config/example.yaml"]

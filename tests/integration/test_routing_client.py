"""A client routes jobs to queues by its routes, handler defaults and per-call queue."""

import redis
import yaml

from bananas import Client
from bananas.registry import Registry


def test_routes_send_jobs_to_their_queues_and_a_per_call_queue_wins(redis_url):
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    with Client(redis_url, routes={"image.*": "gpu", "send_email": "email"}) as client:
        gpu = client.submit_job("image.resize", {})
        email = client.submit_job("send_email", {})
        plain = client.submit_job("other", {})
        forced = client.submit_job("image.crop", {}, queue="cpu")
        batch = client.submit_jobs([{"name": "image.blur"}, {"name": "image.blur", "queue": "cpu"}])
        assert client.get_job(gpu).queue == "gpu" and client.get_job(email).queue == "email"
        assert client.get_job(plain).queue == "default" and client.get_job(forced).queue == "cpu"
        assert [client.get_job(i).queue for i in batch] == ["gpu", "cpu"]
    assert r.exists("{bananas:gpu}:job:" + gpu) and r.llen("{bananas:gpu}:lane:normal") == 2
    assert r.smembers("bananas:queues") == {"gpu", "email", "default", "cpu"}


def test_client_from_config_takes_url_namespace_routes_and_handler_defaults(redis_url, tmp_path):
    handlers = tmp_path / "handlers"
    handlers.mkdir()
    (handlers / "jobs.py").write_text(
        "from bananas import job\n\n"
        "@job('thumbnail', queue='images', priority='high')\n"
        "def thumbnail(payload, ctx):\n    return None\n")
    path = tmp_path / "bananas.yaml"
    path.write_text(yaml.safe_dump({"redis": {"url": redis_url, "namespace": "app"},
                                    "handlers": {"paths": [str(handlers)]},
                                    "routes": {"report.*": "reports"}}))
    with Client.from_config(path, environ={}, load_handlers=True) as client:
        assert isinstance(client.router.handlers, Registry)
        thumb = client.submit_job("thumbnail", {})
        report = client.submit_job("report.daily", {})
        info = client.get_job(thumb)
        assert (info.queue, info.priority) == ("images", "high")
        assert client.get_job(report).queue == "reports"
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    assert r.exists("{app:images}:job:" + thumb)

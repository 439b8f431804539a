"""Redis URLs with ACL users, passwords and TLS are passed through to redis-py as they are."""

import shutil
import subprocess

import pytest

from bananas import Client, RedisAuthError
from tests.support.redis_proc import RedisProcess, free_port


def test_acl_user_and_password_in_the_url(redis_factory):
    proc = redis_factory(aof=False)
    admin = proc.client()
    admin.acl_setuser("app", enabled=True, passwords=["+s3cret"], keys=["*"], channels=["*"], commands=["+@all"])
    admin.acl_setuser("default", enabled=False)
    with Client(f"redis://app:s3cret@127.0.0.1:{proc.port}/0") as client:
        job_id = client.submit_job("hello", {"n": 1})
        assert client.get_job(job_id).state == "queued"
    with Client(f"redis://app:wrong@127.0.0.1:{proc.port}/0", socket_timeout=2) as client, \
            pytest.raises(RedisAuthError):
        client.submit_job("hello", {})


@pytest.fixture
def tls_redis(tmp_path):
    assert shutil.which("openssl"), "openssl is needed to make a test certificate"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    port = free_port()
    proc = RedisProcess(tmp_path / "redis", port=free_port(), aof=False,
                        extra=("--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
                               "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no")).start()
    yield f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={cert}"
    proc.stop()


def test_tls_url(tls_redis):
    with Client(tls_redis) as client:
        job_id = client.submit_job("hello", {"n": 2})
        assert client.get_job(job_id).payload == {"n": 2}

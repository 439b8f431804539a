"""Redis with TLS and client certificates (`tls-auth-clients yes`): the server and a client
that present a certificate signed by the CA work; a client without one is refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bananas import BananasError, Client
from tests.support.redis_proc import RedisProcess, free_port
from tests.support.server_proc import ServerProcess
from tests.support.waiting import wait_until


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def issue(ca: Path, ca_key: Path, name: str, tmp: Path) -> tuple[Path, Path]:
    """A key and a certificate for ``name`` signed by the test CA."""
    key, csr, cert = tmp / f"{name}.key", tmp / f"{name}.csr", tmp / f"{name}.crt"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={name}")
    ext = tmp / f"{name}.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
            "-out", str(cert), "-days", "1", "-extfile", str(ext))
    return cert, key


@pytest.fixture
def mtls(tmp_path):
    assert shutil.which("openssl"), "openssl makes the test certificates"
    ca, ca_key = tmp_path / "ca.crt", tmp_path / "ca.key"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
            "-days", "1", "-subj", "/CN=bananas-test-ca")
    server_cert, server_key = issue(ca, ca_key, "redis", tmp_path)
    client_cert, client_key = issue(ca, ca_key, "bananas-worker", tmp_path)
    port = free_port()
    proc = RedisProcess(tmp_path / "redis", aof=False,
                        extra=("--tls-port", str(port), "--tls-cert-file", str(server_cert),
                               "--tls-key-file", str(server_key), "--tls-ca-cert-file", str(ca),
                               "--tls-auth-clients", "yes")).start()
    base = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}"
    yield base, f"{base}&ssl_certfile={client_cert}&ssl_keyfile={client_key}", proc
    proc.stop()


def test_server_and_client_with_certificates_run_a_job(mtls, tmp_path):
    _, with_cert, proc = mtls
    server = ServerProcess(tmp_path / "server", with_cert, env={"BANANAS_TEST_REDIS_URL": proc.url})
    server.redis_url = proc.url  # the test reads the status over the plain port
    server.start()
    try:
        with Client(with_cert) as client:
            job_id = client.submit_job("record", {})
            assert client.get_result(job_id, timeout=10) == 1
        wait_until(lambda: proc.client().llen("test:ran") == 1, 5, "the job to be recorded")
    finally:
        server.stop()


def test_a_client_without_a_certificate_is_refused(mtls):
    without, _, _ = mtls
    with Client(without, socket_timeout=2) as client, pytest.raises(BananasError):
        client.submit_job("record", {})

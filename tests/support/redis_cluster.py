"""A small Redis Cluster of private redis-server processes on free loopback ports."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis
from redis.cluster import ClusterNode

from tests.support.redis_proc import RedisProcess, free_port


def cluster_info(node: RedisProcess) -> dict[str, object]:
    """``CLUSTER INFO`` of one node, as a dict (``cluster_state``, ``cluster_slots_ok``, ...)."""
    client = node.client(socket_timeout=1, decode_responses=True)
    try:
        return dict(client.cluster("INFO"))
    finally:
        client.close()


class RedisCluster:
    """``masters`` cluster-enabled servers with ``replicas`` replicas each, all 16384 slots assigned.

    Start with :meth:`start` or as a context manager; :meth:`stop` ends every process.
    """

    def __init__(self, base_dir: Path, masters: int = 3, *, node_timeout_ms: int = 2000,
                 replicas: int = 0, aof: bool = False) -> None:
        self.base_dir = Path(base_dir)
        self.replicas = replicas
        cluster_args = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", str(node_timeout_ms))
        # The bus port defaults to port + 10000, which overflows for a free port above 55535
        # or may be taken: give each node its own free bus port.
        self.nodes = [RedisProcess(self.base_dir / f"node{n}", aof=aof,
                                   extra=(*cluster_args, "--cluster-port", str(free_port())))
                      for n in range(masters * (1 + replicas))]

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", node.port) for node in self.nodes]

    @property
    def url(self) -> str:
        """URL of the first node; a cluster client discovers the others from it."""
        return self.nodes[0].url

    def start(self, timeout: float = 30.0) -> RedisCluster:
        """Start the nodes, assign slots (``redis-cli --cluster create``), wait for ``cluster_state:ok``."""
        deadline = time.monotonic() + timeout
        try:
            for node in self.nodes:
                node.start()
            self._create(deadline)
            self._wait_ok(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _create(self, deadline: float) -> None:
        binary = shutil.which("redis-cli")
        assert binary, "redis-cli must be on PATH"
        args = [binary, "--cluster", "create", *(f"{h}:{p}" for h, p in self.addresses),
                "--cluster-replicas", str(self.replicas), "--cluster-yes"]
        result = subprocess.run(args, capture_output=True, text=True,
                                timeout=max(1.0, deadline - time.monotonic()))
        if result.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {result.stdout}{result.stderr}")

    def _wait_ok(self, deadline: float) -> None:
        pending = list(self.nodes)
        while pending:
            info = cluster_info(pending[0])
            if info.get("cluster_state") == "ok" and str(info.get("cluster_slots_ok")) == "16384":
                pending.pop(0)
            elif time.monotonic() > deadline:
                raise RuntimeError(f"cluster not ok on port {pending[0].port}: {info}")
            else:
                time.sleep(0.05)

    def wait_replicas_linked(self, timeout: float = 30.0) -> None:
        """Return once every replica's link to its master is up (a failover can then promote it)."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            while True:
                client = node.client(socket_timeout=1, decode_responses=True)
                try:
                    info = client.info("replication")
                finally:
                    client.close()
                if info.get("role") == "master" or info.get("master_link_status") == "up":
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"replica on port {node.port} never linked: {info}")
                time.sleep(0.05)

    def masters(self) -> list[RedisProcess]:
        """The nodes that are masters right now (by each live node's own ``ROLE``)."""
        out = []
        for node in self.nodes:
            if node.proc is None or node.proc.poll() is not None:
                continue
            client = node.client(socket_timeout=1, decode_responses=True)
            try:
                if client.execute_command("ROLE")[0] == "master":
                    out.append(node)
            except redis.RedisError:
                pass
            finally:
                client.close()
        return out

    def master_of(self, key: str) -> RedisProcess:
        """The live master serving ``key``'s slot."""
        probe = self.client(decode_responses=True)
        try:
            node = probe.get_node_from_key(key)
            port = node.port
        finally:
            probe.close()
        return next(n for n in self.nodes if n.port == port)

    def client(self, **kwargs: object) -> redis.RedisCluster:
        """A redis-py cluster client that knows every node."""
        nodes = [ClusterNode(host, port) for host, port in self.addresses]
        return redis.RedisCluster(startup_nodes=nodes, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        """Stop every node; safe to call twice."""
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> RedisCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

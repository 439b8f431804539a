"""A Redis Sentinel setup of private processes: one master, 1-2 replicas, 1-3 sentinels."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import redis
from redis.sentinel import Sentinel

from tests.support.redis_proc import RedisProcess, free_port


class SentinelProcess:
    """One ``redis-server --sentinel`` on 127.0.0.1 watching ``master_name``."""

    def __init__(self, data_dir: Path, master_name: str, master_port: int, quorum: int, *,
                 down_after_ms: int, failover_timeout_ms: int) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config = self.data_dir / "sentinel.conf"  # sentinel rewrites it: it must be its own file
        self.config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.data_dir}\n"
            f"logfile {self.data_dir / 'sentinel.log'}\n"
            f"sentinel monitor {master_name} 127.0.0.1 {master_port} {quorum}\n"
            f"sentinel down-after-milliseconds {master_name} {down_after_ms}\n"
            f"sentinel failover-timeout {master_name} {failover_timeout_ms}\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SentinelProcess:
        binary = shutil.which("redis-server")
        assert binary, "redis-server must be on PATH"
        self.proc = subprocess.Popen([binary, str(self.config), "--sentinel"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def client(self, **kwargs: object) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class RedisSentinelSetup:
    """Master + ``replicas`` replicas + ``sentinels`` sentinels (quorum = majority), on loopback."""

    def __init__(self, base_dir: Path, sentinels: int = 1, *, master_name: str = "bananas",
                 down_after_ms: int = 1000, failover_timeout_ms: int = 5000, replicas: int = 1,
                 aof: bool = False) -> None:
        base_dir = Path(base_dir)
        self.master_name = master_name
        # Redis waits repl-diskless-sync-delay (5 s) before a full sync, for more replicas to
        # join; either node may be the master after a failover.
        no_delay = ("--repl-diskless-sync-delay", "0")
        self.master = RedisProcess(base_dir / "master", aof=aof, extra=no_delay)
        self.replicas = [RedisProcess(base_dir / f"replica{n}", aof=aof,
                                      extra=(*no_delay, "--replicaof", "127.0.0.1", str(self.master.port)))
                         for n in range(replicas)]
        self.dead: list[RedisProcess] = []
        quorum = sentinels // 2 + 1
        self.sentinels = [
            SentinelProcess(base_dir / f"sentinel{n}", master_name, self.master.port, quorum,
                            down_after_ms=down_after_ms, failover_timeout_ms=failover_timeout_ms)
            for n in range(sentinels)]

    @property
    def replica(self) -> RedisProcess:
        """The first replica (the one :meth:`failover` promotes)."""
        return self.replicas[0]

    @replica.setter
    def replica(self, proc: RedisProcess) -> None:
        self.replicas[0] = proc

    @property
    def url(self) -> str:
        """The ``redis+sentinel://`` URL of this setup, for servers and clients."""
        hosts = ",".join(f"{h}:{p}" for h, p in self.sentinel_addresses)
        return f"redis+sentinel://{hosts}/{self.master_name}"

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", sentinel.port) for sentinel in self.sentinels]

    def start(self, timeout: float = 20.0) -> RedisSentinelSetup:
        """Start everything; return once every sentinel reports the master and sees the replica
        and the other sentinels (so a failover can reach its quorum)."""
        deadline = time.monotonic() + timeout
        try:
            self.master.start()
            for replica in self.replicas:
                replica.start()
            for sentinel in self.sentinels:
                sentinel.start()
            self._wait(deadline, self._replica_linked, "replica never linked to the master")
            self._wait(deadline, self._sentinels_ready, "sentinels never agreed on the setup")
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _wait(deadline: float, ready: Callable[[], bool], message: str) -> None:
        while not ready():
            if time.monotonic() > deadline:
                raise RuntimeError(message)
            time.sleep(0.05)

    def _replica_linked(self) -> bool:
        return all(self._linked(replica) for replica in self.replicas)

    def _linked(self, replica: RedisProcess) -> bool:
        client = replica.client(socket_timeout=1)
        try:
            info = client.info("replication")
        except redis.RedisError:
            return False
        finally:
            client.close()
        return bool(info.get("role") == "slave" and info.get("master_port") == self.master.port
                    and info.get("master_link_status") == "up")

    def _sentinels_ready(self) -> bool:
        for sentinel in self.sentinels:
            client = sentinel.client(socket_timeout=1)
            try:
                state: Any = client.sentinel_master(self.master_name)
                replicas: Any = client.sentinel_slaves(self.master_name)
            except redis.RedisError:
                return False  # not listening yet, or not monitoring yet
            finally:
                client.close()
            if (int(state["port"]) != self.master.port
                    or int(state["num-other-sentinels"]) < len(self.sentinels) - 1
                    or not any(self._promotable(replica) for replica in replicas)):
                return False
        return True

    def _promotable(self, replica: dict[str, object]) -> bool:
        """The sentinel has talked to the replica itself and sees its link to the master up;
        until then ``SENTINEL FAILOVER`` answers NOGOODSLAVE."""
        flags = replica.get("flags")
        flag_set = set(flags) if isinstance(flags, (list, tuple, set)) else set(str(flags).split(","))
        return (replica.get("port") in {r.port for r in self.replicas} and flag_set == {"slave"}
                and replica.get("master-link-status") == "ok")

    def master_address(self) -> tuple[str, int]:
        """The master as the first sentinel reports it right now."""
        client = self.sentinels[0].client(socket_timeout=1)
        try:
            address: Any = client.sentinel_get_master_addr_by_name(self.master_name)
        finally:
            client.close()
        return str(address[0]), int(address[1])

    def failover(self, timeout: float = 15.0) -> RedisProcess:
        """``SENTINEL FAILOVER``: promote the replica; return the new master once the sentinel
        reports it and the old master has become its replica.

        Left alone, Sentinel demotes a reachable old master only when it next notices it
        (``+convert-to-slave``, measured about 10 s after ``+switch-master`` here); meanwhile
        the old master still accepts writes that its resync then throws away. This helper
        demotes it at once with the same ``REPLICAOF`` Sentinel would send, so tests start
        from a settled topology. ``master`` and ``replica`` swap. Writes the replica had not
        received yet are lost, as in a real failover: use ``WAIT`` first to rule that out.
        """
        client = self.sentinels[0].client(socket_timeout=2)
        try:
            client.execute_command("SENTINEL FAILOVER", self.master_name)
        finally:
            client.close()
        self.master, self.replica = self.replica, self.master
        deadline = time.monotonic() + timeout
        self._wait(deadline, lambda: self.master_address()[1] == self.master.port,
                   "sentinel never reported the promoted replica")
        demoted = self.replica.client(socket_timeout=2)
        try:
            demoted.replicaof("127.0.0.1", self.master.port)
        finally:
            demoted.close()
        self._wait(deadline, self._replica_linked, "the old master never followed the new one")
        return self.master

    def kill_master(self, timeout: float = 30.0) -> float:
        """SIGKILL the master, as a crashed host; wait until the sentinels promote a replica.

        Replicas the test paused (to make them lag) are continued right after the kill, so
        whatever the master had not sent them yet is gone, as with a real lagging replica.

        Returns the seconds from the kill to the first sentinel reporting the new master.
        ``master`` becomes the promoted replica; the killed one moves to ``dead``.
        """
        old = self.master
        killed_at = time.monotonic()
        old.kill()
        for replica in self.replicas:
            if replica.paused:  # a lagging replica (SIGSTOPped by the test) catches up now
                replica.resume()
        deadline = killed_at + timeout
        ports = {r.port: r for r in self.replicas}

        def promoted() -> bool:
            try:
                return self.master_address()[1] in ports
            except redis.RedisError:
                return False

        self._wait(deadline, promoted, "no replica was promoted")
        took = time.monotonic() - killed_at
        self.master = ports[self.master_address()[1]]
        self.replicas = [r for r in self.replicas if r is not self.master]
        self.dead.append(old)
        return took

    def sentinel(self, **kwargs: object) -> Sentinel:
        """A redis-py ``Sentinel`` that knows every sentinel; ``.master_for(name)`` gives a client."""
        return Sentinel(self.sentinel_addresses, **kwargs)

    def stop(self) -> None:
        """Stop sentinels first (so they start no failover), then the data nodes; safe twice."""
        for sentinel in self.sentinels:
            sentinel.stop()
        for proc in [*self.replicas, self.master, *self.dead]:
            proc.stop()

    def __enter__(self) -> RedisSentinelSetup:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

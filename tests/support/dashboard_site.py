"""A bananas-server with the dashboard on, and a small form-speaking HTTP client for it."""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bananas.auth import hash_secret
from tests.support.redis_proc import free_port
from tests.support.server_proc import ServerProcess

USERS = {"olga": ("o-secret-1", "operator"), "vic": ("v-secret-2", "viewer")}


def dashboard_config(port: int, cron: list[dict[str, Any]] | None = None, **dashboard: Any) -> dict[str, Any]:
    users = [{"name": n, "secret_hash": hash_secret(s, n=2**10), "role": role} for n, (s, role) in USERS.items()]
    return {"http": {"port": port, "host": "127.0.0.1"},
            "dashboard": {"users": users, **dashboard},
            "worker": {"queues": ["default", "dash", "dashb"]}, "cron": cron or []}


def start_dashboard_server(tmp: Path, redis_url: str, cron: list[dict[str, Any]] | None = None,
                           **dashboard: Any) -> tuple[ServerProcess, int]:
    port = free_port()
    server = ServerProcess(tmp, redis_url, dashboard_config(port, cron, **dashboard))
    server.start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if Browserless(port).get("/dashboard/login").status == 200:
                return server, port
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the dashboard did not come up:\n" + server.log())


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    text: str

    def csrf(self) -> str:
        match = re.search(r'name=csrf value="([^"]+)"', self.text)
        assert match, "no CSRF field on the page"
        return match.group(1)


@dataclass
class Browserless:
    """Speaks to the dashboard like a browser does: cookies kept, forms posted, no redirects followed."""

    port: int
    jar: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        body = raw
        hdrs = {"Accept": "text/html", "Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if self.jar:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        cookies = resp.headers.get_all("Set-Cookie") or []
        for c in cookies:
            name, _, rest = c.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in c:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        conn.close()
        return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, cookies, text)

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, form: Any, **kw: Any) -> Reply:
        return self.request("POST", path, form=form, **kw)

    def login(self, name: str, secret: str | None = None) -> Reply:
        page = self.get("/dashboard/login")
        return self.post("/dashboard/login", {"csrf": page.csrf(), "name": name,
                                              "secret": secret if secret is not None else USERS[name][0]})

"""Masking credentials in URLs before Bananas prints or logs them.

Every URL that reaches a log line, a status page or an error message goes through
:func:`redact_url` (one URL) or :func:`redact_text` (free text that may hold URLs, such as a
redis-py or Elasticsearch exception message). The password of the user info becomes ``***``,
and so does the value of any query parameter that carries a secret (``?password=``,
``sentinel_password=``, ``token=``, …). Everything else is left exactly as written, so the
masked URL still tells an operator which host, port, database and user were used.
"""

from __future__ import annotations

import re

MASK = "***"

_SECRET_PARAMS = re.compile(
    r"(?P<lead>(?:^|[?&;])(?P<key>[^=&;#]*(?:password|passwd|pwd|secret|token|api_?key|auth)[^=&;#]*)=)"
    r"(?P<value>[^&;#]*)",
    re.IGNORECASE,
)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` with its password (user info and secret query parameters) replaced by ``***``.

    Works for every form Bananas reads: ``redis://user:pw@host:port/db``,
    ``redis://:pw@host``, ``unix:///tmp/redis.sock?password=pw``, Sentinel and Cluster URLs
    with several hosts (``redis+sentinel://:pw@h1:26379,h2:26379/mymaster``) and
    ``https://elastic:pw@es:9200``. A string that is not a URL is returned unchanged; a user
    name without a password is kept (it is not a secret).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    body, mark, tail = _split_query(rest)
    return f"{scheme}{sep}{_mask_user_info(body)}{mark}{_mask_params(tail) if mark == '?' else tail}"


def redact_text(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


def _split_query(rest: str) -> tuple[str, str, str]:
    """Split after ``://`` into (authority and path, ``?``/``#``/"", the rest)."""
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=-1)
    if cut < 0:
        return rest, "", ""
    return rest[:cut], rest[cut], rest[cut + 1:]


def _mask_user_info(body: str) -> str:
    """Mask ``user:password@`` at the front of ``host[:port][,host:port...]/path``.

    The user info ends at the last ``@`` (a password may hold an unescaped ``@``). An ``@``
    that only appears after the first ``/`` belongs to the path (``host:9200/logs@2026``),
    unless what lies between a ``:`` and that ``/`` is no port number: then it is a password
    holding a ``/`` and is masked whole.
    """
    at = body.rfind("@")
    if at < 0:
        return body
    info, host = body[:at], body[at + 1:]
    slash = info.find("/")
    colon = info.find(":")
    if slash >= 0 and (not 0 <= colon < slash or info[colon + 1:slash].isdigit()):
        return body  # '@' inside the path, no user info
    user, has_password, password = info.partition(":")
    if not has_password or not password:
        return body
    return f"{user}:{MASK}@{host}"


def _mask_params(query: str) -> str:
    fragment = ""
    if "#" in query:
        query, _, rest = query.partition("#")
        fragment = "#" + rest
    masked = _SECRET_PARAMS.sub(lambda m: m.group("lead") + (MASK if m.group("value") else ""), query)
    return masked + fragment

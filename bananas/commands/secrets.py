"""``bananas hash-secret``: read a secret on stdin, print the stored form for the config."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ..auth import hash_secret
from .exits import UsageError


def add_commands(sub: Any) -> None:
    p = sub.add_parser("hash-secret", help="read a secret on stdin; print its stored form "
                       "(scrypt) for http.tokens or dashboard.users")
    p.set_defaults(func=cmd_hash_secret)


def cmd_hash_secret(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        secret = getpass.getpass("secret: ")
        if getpass.getpass("again: ") != secret:
            raise UsageError("the two secrets differ")
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    try:
        print(hash_secret(secret))
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return 0

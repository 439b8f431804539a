"""Rewrite the configuration table in README.md from the settings declared in the code."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bananas.config import reference

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- config-reference:start -->\n).*?(<!-- config-reference:end -->)", re.S)


def render(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + reference() + "\n" + m.group(2), text)


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
    sys.exit(0)

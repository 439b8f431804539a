"""Does compiling Bananas' hot modules with mypyc pay? ``.venv/bin/python bench/mypyc_study.py``.

Copies ``bananas/`` twice into a temporary folder, compiles ``envelope.py`` (validation and
payload decoding), ``logs/joblog.py`` and ``logs/buffer.py`` (the job-end record) of one copy
with ``mypyc`` (it ships with mypy, already a dev dependency; needs a C compiler), then times
``prepare`` (the client's per-submit validation) and ``decode_payload`` (the worker's per-job
decode) in each copy, in a fresh interpreter each, best of 5 x 100,000 calls. The decision it
informed is in docs/decisions.md.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPILED = ["bananas/envelope.py", "bananas/logs/joblog.py", "bananas/logs/buffer.py"]
TIMING = """
import timeit
import bananas.envelope as e
lim = e.Limits()
p = {"sent_ns": 123456789, "user": {"id": 42, "name": "x" * 20, "tags": ["a", "b", "c"]}}
text = e.encode_payload(p, lim)
for name, f in [("prepare", lambda: e.prepare("send_email", p, limits=lim, queue="bench")),
                ("decode_payload", lambda: e.decode_payload(text, lim))]:
    print(name, round(min(timeit.repeat(f, number=100000, repeat=5)) / 100000 * 1e6, 2))
"""


def timings(tree: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", TIMING], cwd=tree, capture_output=True, text=True, check=True,
                         timeout=600, env={"PYTHONPATH": str(tree)})
    return {name: float(us) for name, us in (line.split() for line in out.stdout.splitlines())}


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="bananas-mypyc-"))
    try:
        pure, compiled = tmp / "pure", tmp / "compiled"
        for tree in (pure, compiled):
            shutil.copytree(ROOT / "bananas", tree / "bananas")
        mypyc = Path(sys.executable).with_name("mypyc")
        subprocess.run([str(mypyc), *COMPILED], cwd=compiled, check=True, timeout=900, capture_output=True)
        print("| build | prepare µs | decode_payload µs |\n|---|---|---|")
        for label, tree in (("pure Python", pure), ("mypyc", compiled)) * 2:
            t = timings(tree)
            print(f"| {label} | {t['prepare']:.2f} | {t['decode_payload']:.2f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Turn the chaos result rows into the table of ``docs/RELIABILITY.md``.

``python -m tests.chaos.report <results dir> <markdown file>`` replaces what lies between the
``chaos-table`` markers of the file with a table of every row, and exits 1 if a scenario is
missing or did not hold (so ``make chaos`` fails with the table still written).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ORDER = ["kill_workers", "kill_server", "redis_restart", "partition_past_lease", "submit_reply_lost",
         "poison", "bad_input", "maxmemory", "cpu_spin"]
START, END = "<!-- chaos-table:start -->", "<!-- chaos-table:end -->"


def cell(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell(v)}" for k, v in value.items())
    return str(value).replace("|", "\\|")


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| scenario | must hold | measured | holds |", "|---|---|---|---|"]
    for row in rows:
        measured = "<br>".join(f"{k} = {cell(v)}" for k, v in row["measured"].items())
        lines.append(f"| `{row['scenario']}` ({row['scale']}, {row['at']}) | {row['must_hold']} | "
                     f"{measured} | {'yes' if row['passed'] else '**no**'} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    results, target = Path(argv[0]), Path(argv[1])
    rows = {p.stem: json.loads(p.read_text()) for p in sorted(results.glob("*.json"))}
    ordered = [rows[name] for name in ORDER if name in rows]
    text = target.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{target} has no {START} … {END} markers")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    target.write_text(f"{head}{START}\n{table(ordered)}\n{END}{tail}")
    missing = [name for name in ORDER if name not in rows]
    failed = [row["scenario"] for row in ordered if not row["passed"]]
    if missing or failed:
        print(f"chaos: missing {missing}, did not hold {failed}", file=sys.stderr)
        return 1
    print(f"chaos: all {len(ordered)} scenarios held; table written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

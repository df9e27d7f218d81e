"""``python -m bench``: every benchmark, each figure a ratio against a baseline of the same run.

    python -m bench                 # the full run (minutes)
    python -m bench --smoke         # seconds: every section once, tiny sizes, no verdicts
    python -m bench --only read,write --json bench-result.json

Sections: ``read`` (queries against a raw endpoint), ``write`` (sendTestEmail against a
direct aiosmtplib send), ``diagnosis`` (time to a failure's answer against plain
aiosmtplib), ``scale`` (large tables: statements and server time per request),
``footprint`` (memory and time to ready against the raw server), ``notifications``
(letters/s through sendNotification and the workers against raw aiosmtplib on one
connection). See bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MODULES = {
    "read": "bench.read_path",
    "write": "bench.write_path",
    "diagnosis": "bench.diagnosis",
    "scale": "bench.scale",
    "footprint": "bench.footprint",
    "notifications": "bench.notifications",
}


def _runner(name: str) -> Callable[..., list[dict[str, Any]]]:
    run: Callable[..., list[dict[str, Any]]] = importlib.import_module(MODULES[name]).run
    return run


def _format(rows: list[dict[str, Any]], smoke: bool) -> str:
    headers = ("section", "metric", "measured", "ratio", "target", "holds")
    table = [headers]
    for row in rows:
        ratio = row["ratio"]
        holds = row["holds"]
        table.append(
            (
                row["section"],
                row["metric"],
                row["value"],
                "-"
                if ratio is None or (isinstance(ratio, float) and math.isnan(ratio))
                else f"{ratio:.3f}x",
                row["target"] or "-",
                "-" if holds is None or smoke else ("yes" if holds else "NO"),
            )
        )
    widths = [max(len(str(line[i])) for line in table) for i in range(len(headers))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="seconds, tiny sizes, no verdicts")
    parser.add_argument("--only", default=",".join(MODULES), help="comma-separated sections")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5)")
    parser.add_argument("--json", type=Path, default=Path("bench-result.json"))
    arguments = parser.parse_args(argv)
    chosen = [name.strip() for name in arguments.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(MODULES))
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")
    rounds = arguments.rounds or (1 if arguments.smoke else 5)
    # The in-process SMTP peers log every refused handshake; the figures are what matters.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    for name in chosen:
        print(f"== {name}", file=sys.stderr, flush=True)
        section = _runner(name)(rounds=rounds, smoke=arguments.smoke)
        rows += section
        # Each section's figures as soon as they are known, and the JSON so far.
        print(_format(section, arguments.smoke), file=sys.stderr, flush=True)
        result = {
            "smoke": arguments.smoke,
            "rounds": rounds,
            "seconds": round(time.monotonic() - started, 1),
            "rows": rows,
        }
        arguments.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(_format(rows, arguments.smoke))
    print(f"\nwritten: {arguments.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

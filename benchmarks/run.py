"""Run the benchmarks in docs/architecture.md (Performance targets) and print one table.

    python -m benchmarks.run [--quick] [--only P9,P11] [--markdown FILE]

Each scenario measures its floor in the same run and reports a ratio or a percentile.
Scenarios that cannot run here (no rootless Podman, say) print why instead of a number.
Exit status 1 when any target that ran was missed or a scenario failed (the others
still run; each row is also printed on stderr as soon as it is measured).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import tempfile
import traceback
from pathlib import Path

from benchmarks import scenarios
from benchmarks.harness import Context, Row, Unavailable

HEADER = "| # | what | floor (same run) | measured | result | target | ok |"


def discover() -> list[object]:
    modules = [importlib.import_module(f"benchmarks.scenarios.{info.name}")
               for info in pkgutil.iter_modules(scenarios.__path__)]
    return sorted(modules, key=lambda m: int(str(getattr(m, "ID", "P999"))[1:]))


def table(rows: list[Row]) -> str:
    lines = [HEADER, "|---|---|---|---|---|---|---|"]
    for row in rows:
        mark = "yes" if row.ok else "**no**"
        note = f" ({row.note})" if row.note else ""
        lines.append(f"| {row.id} | {row.what}{note} | {row.floor} | {row.measured} | "
                     f"{row.result} | {row.target} | {mark} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", default="", help="comma-separated ids, e.g. P9,P11")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    wanted = {part.strip().upper() for part in args.only.split(",") if part.strip()}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="wrapix-bench-") as tmp:
        ctx = Context(quick=args.quick, workdir=Path(tmp))
        for module in discover():
            ident = str(getattr(module, "ID", "?"))
            if wanted and ident not in wanted:
                continue
            print(f"running {ident}: {getattr(module, 'WHAT', '')} …", file=sys.stderr)
            try:
                rows.extend(module.run(ctx))  # type: ignore[attr-defined]
            except Unavailable as why:
                rows.append(Row(ident, str(getattr(module, "WHAT", "")), "—", "—",
                                f"not run: {why}", "—", True))
            except Exception:  # one broken scenario must not lose the others' results
                traceback.print_exc()
                rows.append(Row(ident, str(getattr(module, "WHAT", "")), "—", "—",
                                "failed (traceback above)", "—", False))
            else:
                print(table(rows[-1:]).splitlines()[-1], file=sys.stderr)  # as it comes
    text = table(rows)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

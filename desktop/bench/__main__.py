"""``python -m desktop.bench SECTION --db URL --out FILE [--quick]``: one Qt section of the
benchmark, offscreen, in this process; its figures go to FILE as JSON.

Run by :mod:`desktop.bench.runner`; the database is the runner's scratch copy, never the
user's.
"""
from __future__ import annotations

import argparse
import sys
import traceback

SECTIONS = ("queue", "map", "screen", "startup", "blank", "shift")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.bench")
    parser.add_argument("section", choices=SECTIONS)
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--spawned-ns", type=int, default=0,
                        help="startup: time.monotonic_ns() just before this process was started")
    args = parser.parse_args(argv)
    from desktop.bench import harness  # sets the Qt environment up before anything imports Qt

    try:
        if args.section == "queue":
            from desktop.bench.queue import run
        elif args.section == "map":
            from desktop.bench.map import run
        elif args.section == "screen":
            from desktop.bench.screen import run
        elif args.section == "shift":
            from desktop.bench.shift import run
        else:
            from desktop.bench import startup

            figures, detail = startup.probe(args.db, args.section, args.spawned_ns)
            harness.write_result(args.out, figures, detail)
            return 0
        figures, detail = run(args.db, args.quick)
    except Exception:
        traceback.print_exc()
        return 1
    harness.write_result(args.out, figures, detail)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # QtWebEngine's teardown at interpreter exit can take seconds or complain; the figures
    # are written, the scratch database belongs to the runner.
    import os

    os._exit(code)

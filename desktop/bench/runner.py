"""``cityops bench [--db URL] [--quick] [--json FILE]``: every section, one table, one JSON.

This module imports no Qt: the command runs on a machine without a display. Sections that
need the window run in ``python -m desktop.bench SECTION`` child processes, offscreen
(``QT_QPA_PLATFORM=offscreen``), one process per section so that each starts clean and its
memory figures are its own.

Databases: the one named by ``--db`` is never opened. Every section works on a scratch copy
beside it (same engine, same server): the benchmark city (:mod:`db.bench.city`: a million cases
with 20,000 open; ``--quick``: 20,000 with 2,000 open), cached between runs and copied for each
use; the demo database for start-up (100,000 cases; ``--quick``: 10,000); a fresh scratch
database for the workflow figures.

Sections (``--only`` picks some): ``workflow`` (throughput of the closed loop, :mod:`db.bench.workflow`),
``trust`` (the same loop with and without the database's loop triggers and audit hash chain,
:mod:`db.bench.trust`), ``sqlite`` (the same loop on SQLite with ``synchronous=FULL`` against
``NORMAL``, :mod:`db.bench.sqlite`; on any ``--db``, in the folder of the SQLite file named or of
the default one), ``screen`` (1, event to screen), ``queue`` (2, the queue at a million), ``map`` (3, the map
under load), ``startup`` (4), ``shift`` (5, a compressed shift), ``ingest`` (6),
``replication`` (7, failover: a primary and its standby of its own, made by
``scripts/pg-cluster.sh`` whatever ``--db`` names, :mod:`db.bench.replication`; skipped under
``--quick``, where the failover test in the suite runs the same drill, and where PostgreSQL's
server programs are missing).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from db.bench.city import FULL_CITY, QUICK_CITY, CitySpec, bench_city
from db.bench.report import Figure, format_table, machine

SECTIONS = ("workflow", "trust", "sqlite", "screen", "queue", "map", "startup", "shift", "ingest",
            "replication")
SECTION_TIMEOUT_S = 1800
REPO = Path(__file__).resolve().parent.parent.parent


def _demo_spec(quick: bool) -> CitySpec:
    n = 10_000 if quick else 100_000
    return CitySpec(cases=n, open_cases=0, demo_cases=n)


def _env(scratch: Path) -> dict:
    """The environment of a Qt child: offscreen, and its caches and settings in ``scratch``
    (the map page, QSettings), never the user's."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    root = hasattr(os, "geteuid") and os.geteuid() == 0  # Chromium's sandbox refuses root
    flags = "--disable-gpu" + (" --no-sandbox" if root else "")
    env.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", flags)
    for name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        folder = scratch / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["CITYOPS_DB"] = ""
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _qt_section(name: str, url: str, quick: bool, scratch: Path, *,
                spawned: bool = False) -> dict:
    """Run one Qt section in its own process; return its JSON (figures, detail)."""
    out = scratch / f"{name}-{time.monotonic_ns()}.json"
    cmd = [sys.executable, "-m", "desktop.bench", name, "--db", url, "--out", str(out)]
    if quick:
        cmd.append("--quick")
    env = _env(scratch)
    if spawned:
        cmd += ["--spawned-ns", str(time.monotonic_ns())]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=str(REPO))
    try:
        stdout, stderr = proc.communicate(timeout=SECTION_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        raise RuntimeError(f"{name}: no result after {SECTION_TIMEOUT_S} s") from None
    for line in stdout.splitlines():
        if line.startswith("  "):  # the section's own progress lines
            print(line, flush=True)
    if proc.returncode != 0 or not out.exists():
        tail = "\n".join(line for line in stderr.splitlines()
                         if "dbus" not in line and "zygote" not in line)[-3000:]
        raise RuntimeError(f"{name} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(out.read_text(encoding="utf-8"))


def evict(paths: list[Path]) -> int:
    """Ask the kernel to drop these files (and everything under these folders) from the page
    cache, so the next start reads them from disk: a cold start without root. Pages that a
    running process has mapped (another Qt application's libraries) stay. Returns the files
    touched."""
    count = 0
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                count += 1
            except (OSError, AttributeError):
                pass
            finally:
                os.close(fd)
    return count


def _startup(url: str, quick: bool, scratch: Path, database_file: Path | None) -> tuple[list, dict]:
    from importlib.util import find_spec

    from db.bench.report import summary

    libs = [REPO / "desktop", REPO / "db", REPO / "resources"]
    for package in ("PySide6", "shiboken6"):  # located, not imported: no Qt in this process
        spec = find_spec(package)
        libs += [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    evicted = evict(libs + ([database_file] if database_file else []))
    cold = _qt_section("startup", url, quick, scratch / "cold", spawned=True)["detail"]
    warm_runs = [_qt_section("startup", url, quick, scratch / "warm", spawned=True)["detail"]
                 for _ in range(1 if quick else 3)]
    blank_runs = [_qt_section("blank", url, quick, scratch / "blank", spawned=True)["detail"]
                  for _ in range(1 if quick else 3)]
    warm = summary([r["usable_ms"] for r in warm_runs])["p50"]
    blank = summary([r["usable_ms"] for r in blank_runs])["p50"]
    figures = [
        Figure("4 start-up", "cold start to a usable window", round(cold["usable_ms"], 1), "ms",
               baseline=round(blank, 1), baseline_label="an empty QtWebEngine window (warm)"),
        Figure("4 start-up", "warm start to a usable window (median)", round(warm, 1), "ms",
               baseline=round(blank, 1), baseline_label="an empty QtWebEngine window (warm)"),
    ]
    return figures, {"cold": cold, "warm": warm_runs, "blank": blank_runs,
                     "files_evicted": evicted,
                     "note": "cold: page cache emptied of the database file and the Qt "
                             "libraries (posix_fadvise); a PostgreSQL server's own cache stays"}


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return Path(parsed.database)
    return None


def run_bench(url: str, *, quick: bool = False, json_path: str | None = None,
              only: list[str] | None = None, cache: bool = True) -> int:
    """Run the sections; print the table; write the JSON. Returns the exit code (1 when a
    section failed: the others still ran and are reported)."""
    chosen = [s for s in SECTIONS if not only or s in only]
    engine = make_url(url).get_backend_name()
    spec = QUICK_CITY if quick else FULL_CITY
    started = time.perf_counter()
    info = machine()
    print(f"cityops bench on {engine} ({'quick' if quick else 'full'}): {', '.join(chosen)}")
    print(f"machine: {info['cpu']}, {info['cpus']} CPUs, {info.get('memory_gb')} GB, "
          f"{info['platform']}, load {info.get('load_average')}", flush=True)
    figures: list[Figure] = []
    sections: dict[str, dict] = {}

    def record(name: str, fn) -> None:
        t0 = time.perf_counter()
        print(f"— {name} …", flush=True)
        try:
            figs, detail = fn()
            figures.extend(figs)
            sections[name] = {"seconds": round(time.perf_counter() - t0, 1), "detail": detail}
        except Exception as exc:  # reported; the other sections still run
            sections[name] = {"seconds": round(time.perf_counter() - t0, 1), "error": str(exc)}
            print(f"  {name} FAILED: {exc}", flush=True)

    def from_json(result: dict) -> tuple[list[Figure], dict]:
        return [Figure.from_dict(f) for f in result["figures"]], result["detail"]

    with tempfile.TemporaryDirectory(prefix="cityops-bench-") as tmp:
        scratch = Path(tmp)
        if "workflow" in chosen:
            record("workflow", lambda: _workflow(url, quick))
        if "trust" in chosen:
            record("trust", lambda: _trust(url, quick))
        if "sqlite" in chosen:
            record("sqlite", lambda: _sqlite(url, quick))
        city_sections = [s for s in ("queue", "map", "screen") if s in chosen]
        if city_sections:
            try:
                with bench_city(url, spec, cache=cache, progress=_say) as city:
                    for name in city_sections:
                        record(name, lambda n=name: from_json(
                            _qt_section(n, city.url, quick, scratch)))
            except Exception as exc:
                for name in city_sections:
                    sections.setdefault(name, {"error": f"benchmark city: {exc}"})
                print(f"  benchmark city FAILED: {exc}", flush=True)
        if "startup" in chosen:
            try:
                with bench_city(url, _demo_spec(quick), cache=cache, progress=_say) as demo:
                    record("startup", lambda: _startup(demo.url, quick, scratch,
                                                       _sqlite_file(demo.url)))
            except Exception as exc:
                sections.setdefault("startup", {"error": f"demo database: {exc}"})
                print(f"  demo database FAILED: {exc}", flush=True)
        for name in ("shift", "ingest"):
            if name not in chosen:
                continue
            try:
                with bench_city(url, spec, cache=cache, progress=_say) as city:
                    if name == "shift":
                        record(name, lambda: from_json(_qt_section(name, city.url, quick, scratch)))
                    else:
                        from db.bench.ingest import measure

                        record(name, lambda: measure(city, seconds=4 if quick else 30))
            except Exception as exc:
                sections.setdefault(name, {"error": f"benchmark city: {exc}"})
                print(f"  benchmark city FAILED: {exc}", flush=True)

        if "replication" in chosen:
            skipped = _replication_skipped(quick)
            if skipped:
                sections["replication"] = {"skipped": skipped}
                print(f"— replication skipped: {skipped}", flush=True)
            else:
                record("replication", _replication)

    order = {s: i for i, s in enumerate(("workflow", "trust", "sqlite", "1", "2", "3", "4", "5", "6",
                                         "7"))}
    figures.sort(key=lambda f: order.get(f.section.split()[0], 99))
    wall = time.perf_counter() - started
    print()
    print(format_table(figures))
    failed = [name for name, s in sections.items() if "error" in s]
    print(f"\n{len(figures)} figures in {wall:.0f} s on {engine}"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    print("ratio = value / baseline (times: how many times faster or slower than the baseline)")
    if json_path:
        safe_url = make_url(url).render_as_string(hide_password=True)
        Path(json_path).write_text(json.dumps({
            "engine": engine, "quick": quick, "database": safe_url, "machine": info,
            "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "wall_seconds": round(wall, 1), "sections": sections,
            "figures": [f.to_dict() for f in figures]}, indent=2, ensure_ascii=False, default=str),
            encoding="utf-8")
    return 1 if failed else 0


def _say(message: str) -> None:
    print(f"  {message}", flush=True)


def _workflow(url: str, quick: bool) -> tuple[list[Figure], dict]:
    from db.bench.workflow import measure
    from db.core.scratch import scratch_database

    with scratch_database(url) as database:
        result = measure(database, 100 if quick else 1000)
    figures = [
        Figure("workflow", "closed-loop steps per s", result["steps_per_s"], "/s",
               baseline=result["baseline_bare_update_per_s"],
               baseline_label="bare UPDATE case SET state, version + its history row (the least the "
                              "database accepts; no checks, no audit, no feed)",
               better="higher"),
        Figure("workflow", "closed-loop steps per s, each with a request id (exactly once)",
               result["steps_with_request_id_per_s"], "/s", baseline=result["steps_per_s"],
               baseline_label="the same steps without a request id", better="higher"),
    ]
    return figures, result


TRUST_LABELS = {
    "both": "closed-loop steps per s, loop triggers + audit hash chain (as shipped)",
    "loop": "closed-loop steps per s, loop triggers only (hash chain dropped)",
    "chain": "closed-loop steps per s, audit hash chain only (loop triggers dropped)",
}

BARE_LABELS = {
    "both": "bare SQL steps per s in one transaction, loop triggers + hash chain",
    "loop": "bare SQL steps per s in one transaction, loop triggers only",
    "chain": "bare SQL steps per s in one transaction, hash chain only",
}


def _trust(url: str, quick: bool) -> tuple[list[Figure], dict]:
    from db.bench.trust import measure

    result = measure(url, 80 if quick else 800, progress=_say)
    rates = result["steps_per_s"]
    figures = [
        Figure("trust", TRUST_LABELS[name], rates[name], "/s", baseline=rates["neither"],
               baseline_label="the same steps with neither (dropped in a scratch copy), "
                              "same run, rounds interleaved",
               better="higher")
        for name in ("both", "loop", "chain")
    ]
    bare = result["bare_steps_per_s"]
    figures += [
        Figure("trust", BARE_LABELS[name], bare[name], "/s", baseline=bare["neither"],
               baseline_label="the same SQL with neither, same run", better="higher")
        for name in ("both", "loop", "chain")
    ]
    return figures, result


def _sqlite(url: str, quick: bool) -> tuple[list[Figure], dict]:
    from db.bench.sqlite import measure

    result = measure(url, 80 if quick else 600, progress=_say)
    rates = result["steps_per_s"]
    figures = [
        Figure("sqlite", "closed-loop steps per s on SQLite, synchronous=FULL (as shipped)",
               rates["FULL"], "/s", baseline=rates["NORMAL"],
               baseline_label="the same steps with synchronous=NORMAL, same folder, same run, "
                              "rounds alternating",
               better="higher"),
    ]
    return figures, result


def _replication_skipped(quick: bool) -> str | None:
    from db.bench.replication import missing_binaries

    if quick:
        return ("not under --quick (it makes, loads and crashes two clusters of its own, about "
                "a minute); the failover test runs the same drill; `cityops bench --only "
                "replication` measures it")
    return missing_binaries()


def _replication() -> tuple[list[Figure], dict]:
    from db.bench.replication import measure

    result = measure(progress=_say)
    sync, unsync, rates = result["synchronous"], result["asynchronous"], result["throughput"]
    section = "7 replication"

    def ms(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds * 1000, 1)

    figures = []
    between = "one write before the failure (median time between two writes)"
    for mode, drill in (("synchronous", sync), ("asynchronous", unsync)):
        figures += [
            Figure(section, f"primary lost → first write done through the multi-host URL "
                            f"({mode} standby promoted)",
                   ms(drill["seconds_to_first_write"]), "ms",
                   baseline=drill["write_ms_before"], baseline_label=between,
                   note=f"pg_ctl promote took {ms(drill['promote_seconds'])} ms of it"),
            Figure(section, f"primary lost → change follower on the new primary ({mode})",
                   ms(drill["follower_back_s"]), "ms", baseline=drill["write_ms_before"],
                   baseline_label=between),
            Figure(section, f"changes missed by the follower ({mode})", drill["missed"],
                   "changes", baseline=drill["changes_seen"],
                   baseline_label="changes it returned", target=0),
            Figure(section, f"changes returned twice ({mode})", drill["doubled"], "changes",
                   baseline=drill["changes_seen"], baseline_label="changes it returned",
                   target=0),
            Figure(section, f"acknowledged writes missing on the new primary ({mode})",
                   drill["lost"], "writes", baseline=drill["acked"],
                   baseline_label="writes acknowledged in the drill",
                   target=0 if mode == "synchronous" else None),
        ]
    figures.append(Figure(
        section, "closed-loop writes per s, synchronous standby", rates["synchronous_per_s"],
        "/s", baseline=rates["asynchronous_per_s"],
        baseline_label="the same writer, standby asynchronous, same run, rounds interleaved",
        better="higher"))
    return figures, result


__all__ = ["SECTIONS", "evict", "run_bench"]

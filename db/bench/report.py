"""Figures of ``cityops bench``: each with the baseline measured in the same run, the ratio,
and the target when the issue sets one; the printed table; the machine they came from.

Pure Python (no Qt, no database): the Qt sections in ``desktop/bench`` and the database
sections in ``db/bench*.py`` both report through :class:`Figure`.
"""
from __future__ import annotations

import math
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Figure:
    """One measured figure beside its baseline.

    ``better`` says which way is good (``"lower"`` for times and memory, ``"higher"`` for
    rates); :attr:`ratio` is always value / baseline, and the table says "x faster" or "x
    slower" from it, so a reader never has to guess the direction.
    """

    section: str
    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    better: str = "lower"
    baseline_unit: str | None = None  # when the baseline is in another unit than the value
    target: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value <= self.target if self.better == "lower" else self.value >= self.target

    def to_dict(self) -> dict:
        out = asdict(self)
        out["ratio"] = None if self.ratio is None else round(self.ratio, 4)
        out["meets_target"] = self.meets_target
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Figure:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation; None for no values."""
    data = sorted(v for v in values if v is not None and not math.isnan(v))
    if not data:
        return None
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return float(data[lo] + (data[hi] - data[lo]) * (pos - lo))


def summary(values: Sequence[float]) -> dict:
    """n, p50, p95, p99, max and mean of ``values`` (for the JSON)."""
    data = [v for v in values if v is not None]
    return {"n": len(data), "p50": _r(percentile(data, 50)), "p95": _r(percentile(data, 95)),
            "p99": _r(percentile(data, 99)), "max": _r(max(data) if data else None),
            "mean": _r(sum(data) / len(data) if data else None)}


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of ys over xs (None with fewer than two distinct xs)."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


# -- the machine -----------------------------------------------------------------------------

def machine() -> dict:
    """What the figures were measured on."""
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "cpu": _cpu_model(), "memory_gb": _memory_gb()}
    try:
        from importlib.metadata import version

        info["pyside6"] = version("PySide6")
        info["sqlalchemy"] = version("SQLAlchemy")
    except Exception:  # metadata missing: not worth failing a benchmark over
        pass
    try:
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


# -- the table -------------------------------------------------------------------------------

def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if float(value).is_integer() and unit not in ("ms", "s"):
        text = f"{int(value):,}"
    elif abs(value) < 100:
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.0f}"
    return f"{text} {unit}".strip()


def _ratio_text(fig: Figure) -> str:
    ratio = fig.ratio
    if ratio is None:
        return ""
    if fig.unit in ("ms", "s") and ratio > 0:
        return f"{1 / ratio:,.1f}× faster" if ratio < 1 else f"{ratio:,.1f}× slower"
    return f"{ratio:,.2f}×"


def format_table(figures: Iterable[Figure]) -> str:
    """The printed table: one row per figure, grouped by section."""
    rows = [("figure", "value", "baseline", "ratio", "target", "baseline is")]
    section = None
    out_rows: list[tuple | str] = []
    for fig in figures:
        if fig.section != section:
            section = fig.section
            out_rows.append(f"[{section}]")
        target = ""
        if fig.target is not None:
            mark = {True: " ✓", False: " ✗", None: ""}[fig.meets_target]
            target = ("≤ " if fig.better == "lower" else "≥ ") + _fmt(fig.target, fig.unit) + mark
        out_rows.append((fig.name, _fmt(fig.value, fig.unit),
                         _fmt(fig.baseline, fig.baseline_unit or fig.unit)
                         if fig.baseline is not None else "", _ratio_text(fig), target,
                         fig.baseline_label))
    widths = [max(len(r[i]) for r in rows + [r for r in out_rows if isinstance(r, tuple)])
              for i in range(5)]
    lines = []
    for r in rows + out_rows:
        if isinstance(r, str):
            lines.append(r)
            continue
        lines.append("  " + "  ".join([r[0].ljust(widths[0])] +
                                      [r[i].rjust(widths[i]) for i in range(1, 5)] + [r[5]]))
    return "\n".join(lines)


__all__ = ["Figure", "format_table", "machine", "percentile", "slope", "summary"]

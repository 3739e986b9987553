"""Alerts of one event, grouped: three gas sensors on one leak are one line on the desk.

A *group* is a view over the alerts, never a record of its own: :func:`group_alerts` partitions
the rows :func:`db.alerts.lifecycle.active_alerts` returns, and the same rows always give the
same groups in the same order. (Raising an incident from a group later works from its members.)

The rule: **single linkage** over alerts of the same ``type`` (``gas``, ``water_level``,
``video:smoke``…). Two alerts are linked when they are at most ``radius_m`` metres apart
(:func:`db.geo.distance.distance_km`) *and* began at most ``window`` apart; a group is every
alert reachable through such links, so a chain of sensors 300 m apart along one gas main is one
group even when its ends are a kilometre apart (a leak spreads along the pipe).

Time is when each alarm **began** (``first_at``), not when it last fired (``last_at``). A
repeating alarm fires every few seconds for as long as it lasts, so by ``last_at`` every open
alarm of a type in a district would drift into one group over an hour, and groups would form and
split with each repeat, reshuffling the list under the officer's cursor. ``first_at`` never
changes for an open alert, so a group changes only when an alert arrives, escalates its place
or leaves; the list's own order is by ``first_at`` for the same reason.

Never grouped (each is a group of one): alerts without a place, and 110/119 transfers: their
type is ``transfer`` whatever the caller reported (a fallen tree and a noise complaint share
it), so the type says nothing about being the same event.

The distance and the time window are city settings, declared in :mod:`db.settings`
(:data:`RADIUS_SETTING` in metres, :data:`WINDOW_SETTING` in minutes) and read together by
:func:`grouping_settings`.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from db import settings
from db.alerts.lifecycle import SEVERITIES, AlertRow
from db.geo.distance import KM_PER_DEGREE, distance_km

RADIUS_SETTING = settings.ALERT_GROUP_RADIUS_M.key
WINDOW_SETTING = settings.ALERT_GROUP_WINDOW_MIN.key
DEFAULT_RADIUS_M = float(settings.ALERT_GROUP_RADIUS_M.default)
DEFAULT_WINDOW = dt.timedelta(minutes=settings.ALERT_GROUP_WINDOW_MIN.default)
#: Sources whose ``type`` names what happened (a sensor's gas, a camera's smoke).
EDGE_MARGIN_KM = 1e-6
GROUPED_SOURCES = frozenset({"sensor", "camera"})

_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class AlertGroup:
    """Alerts of one event: plain values, safe to hand to any thread."""

    key: str  # "<type>:<lowest member id>": stable while the group lasts
    type: str
    members: tuple[AlertRow, ...]  # in :func:`alert_order`
    severity: str  # the worst member's
    first_at: dt.datetime  # the earliest member began
    last_at: dt.datetime  # the latest member last fired
    lat: float | None  # the centre: mean of the members' places (None without a place)
    lon: float | None

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def ids(self) -> list[int]:
        return [m.id for m in self.members]

    @property
    def town_name(self) -> str | None:
        """The town most members are in (ties: the first member's order)."""
        names = [m.town_name for m in self.members if m.town_name]
        return max(names, key=names.count) if names else None


def alert_order(row: AlertRow) -> tuple:
    """The list's order (:func:`db.alerts.lifecycle.active_alerts`): most severe; then
    unacknowledged first; then the newest by when it began; then the highest id."""
    return (_RANK.get(row.severity, len(SEVERITIES)), 0 if row.state == "active" else 1,
            -row.first_at.timestamp(), -row.id)


def groupable(row: AlertRow) -> bool:
    return row.source in GROUPED_SOURCES and row.lat is not None and row.lon is not None


def group_alerts(rows: Iterable[AlertRow], radius_m: float = DEFAULT_RADIUS_M,
                 window: dt.timedelta = DEFAULT_WINDOW) -> list[AlertGroup]:
    """Partition ``rows`` into groups (module docstring); every row is in exactly one group,
    a lone alert in a group of one. Members are in :func:`alert_order`, groups in the order
    of their first member."""
    rows = list(rows)
    parent = {r.id: r.id for r in rows}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    by_type: dict[str, list[AlertRow]] = {}
    for r in rows:
        if groupable(r):
            by_type.setdefault(r.type, []).append(r)
    # Both bounds are included; 1 mm more, so a point placed exactly on the edge another way
    # is not lost to the last bit of a float.
    radius_km = max(0.0, float(radius_m)) / 1000.0 + EDGE_MARGIN_KM
    # A cheap first test: latitude alone puts two points at least this many degrees apart.
    lat_span = radius_km / KM_PER_DEGREE
    for same in by_type.values():
        same.sort(key=lambda r: (r.first_at, r.id))
        for i, a in enumerate(same):
            for b in same[i + 1:]:
                if b.first_at - a.first_at > window:
                    break  # sorted by start: every later one began later still
                if abs(a.lat - b.lat) > lat_span:
                    continue
                if distance_km(a.lat, a.lon, b.lat, b.lon) <= radius_km:
                    union(a.id, b.id)
    members: dict[int, list[AlertRow]] = {}
    for r in rows:
        members.setdefault(find(r.id), []).append(r)
    groups = [_group(sorted(m, key=alert_order)) for m in members.values()]
    groups.sort(key=lambda g: alert_order(g.members[0]))
    return groups


def _group(members: Sequence[AlertRow]) -> AlertGroup:
    placed = [m for m in members if m.lat is not None and m.lon is not None]
    lat = math.fsum(m.lat for m in placed) / len(placed) if placed else None
    lon = math.fsum(m.lon for m in placed) / len(placed) if placed else None
    first = members[0]
    return AlertGroup(
        key=f"{first.type}:{min(m.id for m in members)}", type=first.type,
        members=tuple(members), severity=first.severity,  # alert_order: the worst is first
        first_at=min(m.first_at for m in members), last_at=max(m.last_at for m in members),
        lat=lat, lon=lon)


def grouping_settings(session: Session) -> tuple[float, dt.timedelta]:
    """``(radius_m, window)``: the city settings :data:`db.settings.ALERT_GROUP_RADIUS_M` and
    :data:`db.settings.ALERT_GROUP_WINDOW_MIN` (their defaults when unset or unreadable)."""
    radius, minutes = settings.read_many(session, settings.ALERT_GROUP_RADIUS_M,
                                         settings.ALERT_GROUP_WINDOW_MIN)
    return float(radius), dt.timedelta(minutes=minutes)


__all__ = ["DEFAULT_RADIUS_M", "DEFAULT_WINDOW", "GROUPED_SOURCES", "RADIUS_SETTING",
           "WINDOW_SETTING", "AlertGroup", "alert_order", "group_alerts", "groupable",
           "grouping_settings"]

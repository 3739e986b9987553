"""Places: the demo's first phase puts Dongguan's 609 villages on the map (scattered round their
town seat, inside the city outline, about two kilometres apart), draws a slightly irregular
hexagonal responsibility grid round every village and town centre, and creates each town's own
enforcement, sanitation and municipal departments under the city department of the same kind.
"""
from __future__ import annotations

import json
import math
import random

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from db.demo.world import TAU, _cum, _Grid, _insert, _offset, _Outline, _rng, _Town, _World
from db.geo.distance import distance_km
from db.models import Department, Village

VILLAGE_RADIUS_KM = (0.5, 6.0)  # villages scatter this far from the town seat
GRID_GAP_KM = 2.0  # wanted gap between grid centres: hexagons of radius <= 1 km cannot overlap
GRID_RADIUS_KM = (0.6, 1.0)
TOWN_DEPARTMENTS = (("enforcement", "{town}城市管理和综合执法分局"), ("sanitation", "{town}环卫站"),
                    ("municipal", "{town}市政所"))
TOWN_KINDS = tuple(kind for kind, _ in TOWN_DEPARTMENTS)


class _SpatialHash:
    """Points in cells of ~2 km, to find the nearest neighbour while scattering villages."""

    CELL = 0.02  # degrees: at least GRID_GAP_KM in both directions (2.04 km of longitude at 23.2°N)

    def __init__(self) -> None:
        self._cells: dict[tuple[int, int], list[tuple[float, float]]] = {}

    def _key(self, lat: float, lon: float) -> tuple[int, int]:
        return int(math.floor(lat / self.CELL)), int(math.floor(lon / self.CELL))

    def add(self, lat: float, lon: float) -> None:
        self._cells.setdefault(self._key(lat, lon), []).append((lat, lon))

    def gap(self, lat: float, lon: float, *, skip_self: bool = False) -> float:
        """Distance to the nearest point, capped at GRID_GAP_KM (all that matters here)."""
        best = GRID_GAP_KM
        ky, kx = self._key(lat, lon)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for plat, plon in self._cells.get((ky + dy, kx + dx), ()):
                    d = distance_km(lat, lon, plat, plon)
                    if d < best and not (skip_self and d < 1e-9):
                        best = d
        return best


def _build_places(session: Session, w: _World) -> None:
    rng = _rng(w.seed, "places")
    spread = _SpatialHash()
    for town in w.towns:  # every village keeps its distance from every town centre too
        spread.add(town.lat, town.lon)
    for town in w.towns:
        for village in town.villages:
            village.lat, village.lon = _scatter(rng, w.outline, spread, town)
            spread.add(village.lat, village.lon)
    session.execute(
        update(Village.__table__).where(Village.__table__.c.id == bindparam("vid"))
        .values(lat=bindparam("vlat"), lon=bindparam("vlon")),
        [{"vid": v.id, "vlat": v.lat, "vlon": v.lon} for t in w.towns for v in t.villages])

    for town in w.towns:
        specs = [(None, f"DG-{town.code}000", f"{town.name}中心区网格", f"{town.name}中心区",
                  town.lat, town.lon, 3.0)]
        specs += [(v.id, f"DG-{v.code}", f"{town.name}{v.short}网格", v.short, v.lat, v.lon, 1.0)
                  for v in town.villages]
        weights = []
        for village_id, code, name, place, lat, lon, weight in specs:
            grid = _Grid(w.next_id("grid"), code, name, place, town, village_id, lat, lon)
            _shape(rng, grid, spread.gap(lat, lon, skip_self=True))
            town.grids.append(grid)
            w.grids.append(grid)
            weights.append(weight)  # the town centre is the busiest grid
        town.grid_cum = _cum(weights)

    rows = []
    for town in w.towns:
        for kind, pattern in TOWN_DEPARTMENTS:
            town.depts[kind] = w.next_id("department")
            rows.append({"id": town.depts[kind], "code": f"{town.code}-{kind}",
                         "name": pattern.format(town=town.name), "kind": kind,
                         "city_id": w.city_id, "town_id": town.id,
                         "parent_id": w.city_depts.get(kind),
                         "phone": f"0769-2{rng.randrange(10 ** 7):07d}"})
    _insert(session, Department.__table__, rows)


def _scatter(rng: random.Random, outline: _Outline, spread: _SpatialHash,
             town: _Town) -> tuple[float, float]:
    """A village point 0.5-6 km from the town seat, inside the city, away from other grids."""
    best, best_gap = None, -1.0
    far = VILLAGE_RADIUS_KM[1]
    for _ in range(150):
        lat, lon = _offset(town.lat, town.lon, rng.uniform(VILLAGE_RADIUS_KM[0], far),
                           rng.random() * TAU)
        if not outline.contains(lat, lon):
            far = max(VILLAGE_RADIUS_KM[0] + 0.1, far * 0.8)  # near the coast: come closer
            continue
        gap = spread.gap(lat, lon)
        if gap >= GRID_GAP_KM:
            return lat, lon
        if gap > best_gap:
            best, best_gap = (lat, lon), gap
    if best is not None:  # a crowded town: take the least crowded spot seen
        return best
    for k in range(12):  # last resort: close to the seat, which is inside the city
        lat, lon = _offset(town.lat, town.lon, VILLAGE_RADIUS_KM[0], k * TAU / 12)
        if outline.contains(lat, lon):
            return lat, lon
    return town.lat, town.lon


def _shape(rng: random.Random, grid: _Grid, gap_km: float) -> None:
    """A slightly irregular hexagon around the grid centre, sized by its nearest neighbour."""
    radius = min(GRID_RADIUS_KM[1], max(GRID_RADIUS_KM[0], gap_km / 2))
    turn = rng.random() * TAU / 6
    corners = []
    shortest = radius
    for k in range(6):
        r = radius * rng.uniform(0.9, 1.0)
        shortest = min(shortest, r)
        lat, lon = _offset(grid.lat, grid.lon, r, turn + k * TAU / 6)
        corners.append([lon, lat])
    corners.append(corners[0])  # counter-clockwise and closed, as GeoJSON wants
    grid.radius_km = radius
    # Each corner lies on its own ray beyond ``shortest``, so the regular hexagon of that
    # radius, and the disc inscribed in it, lie inside (with a margin for the rounding).
    grid.safe_km = shortest * math.cos(math.pi / 6) * 0.97
    grid.polygon = json.dumps({"type": "Polygon", "coordinates": [corners]})

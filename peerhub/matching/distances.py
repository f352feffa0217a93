"""Distances and a coarse latitude/longitude grid for finding nearby groups.

:func:`distance_km` is PeerHub's one distance function: the directory
(peerhub/directory/query.py) and the postcodes (peerhub/geo.py) use it too."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final

from .model import LatLon

__all__ = [
    "CELL_LAT",
    "CELL_LON",
    "EARTH_RADIUS_KM",
    "Cell",
    "Prepared",
    "cell_bounds",
    "cell_min_distance",
    "cell_of",
    "cell_range",
    "distance_km",
    "prepare",
    "prepared_distance_km",
]

EARTH_RADIUS_KM: Final = 6371.0088
#: Cell size in degrees: about 5.6 km north-south and 5.3 km east-west in the UK.
CELL_LAT: Final = 0.05
CELL_LON: Final = 0.08
_KM_PER_DEG_LAT: Final = math.pi * EARTH_RADIUS_KM / 180

Cell = tuple[int, int]


Prepared = tuple[float, float, float]
"""A point ready for :func:`prepared_distance_km`: (latitude and longitude in
radians, cosine of the latitude)."""


def prepare(p: LatLon) -> Prepared:
    lat = math.radians(p[0])
    return (lat, math.radians(p[1]), math.cos(lat))


def prepared_distance_km(a: Prepared, b: Prepared) -> float:
    """Haversine distance between prepared points (the index prepares each group's
    location once; the result is bit-for-bit that of :func:`distance_km`)."""
    h = math.sin((b[0] - a[0]) / 2) ** 2 + a[2] * b[2] * math.sin((b[1] - a[1]) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distance_km(a: LatLon, b: LatLon) -> float:
    """Great-circle (haversine) distance between two points, in kilometres."""
    return prepared_distance_km(prepare(a), prepare(b))


def cell_of(p: LatLon) -> Cell:
    return (math.floor(p[0] / CELL_LAT), math.floor(p[1] / CELL_LON))


def cell_bounds(cell: Cell) -> tuple[float, float, float, float]:
    """(south, north, west, east) edges of a cell in degrees."""
    i, j = cell
    return (i * CELL_LAT, (i + 1) * CELL_LAT, j * CELL_LON, (j + 1) * CELL_LON)


def cell_range(center: LatLon, radius_km: float) -> Iterator[Cell] | None:
    """Cells that may hold points within ``radius_km`` of ``center``, or None when
    the box would wrap around the globe (the caller then checks every cell)."""
    dlat = radius_km / _KM_PER_DEG_LAT
    lat_lo, lat_hi = center[0] - dlat, center[0] + dlat
    far_lat = min(89.9, max(abs(lat_lo), abs(lat_hi)))
    dlon = radius_km / (_KM_PER_DEG_LAT * math.cos(math.radians(far_lat)))
    if dlon >= 180 or lat_lo < -90 or lat_hi > 90 or abs(center[1]) + dlon > 180:
        return None
    i0, i1 = math.floor(lat_lo / CELL_LAT), math.floor(lat_hi / CELL_LAT)
    j0, j1 = math.floor((center[1] - dlon) / CELL_LON), math.floor((center[1] + dlon) / CELL_LON)
    return ((i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1))


def cell_min_distance(center: LatLon, cell: Cell) -> float:
    """About the nearest distance from ``center`` to a cell's area (the centre
    clamped into the cell; callers allow a small margin)."""
    south, north, west, east = cell_bounds(cell)
    near = (min(max(center[0], south), north), min(max(center[1], west), east))
    return distance_km(center, near)

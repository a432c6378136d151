"""Make the ILLUSTRATIVE survey files of the Piana Rotaliana sample district.

The district is Mezzolombardo, Mezzocorona and San Michele all'Adige (Trentino),
read from the OpenStreetMap extract shipped in ``data/osm/``.  Nobody was
surveyed: this script invents the answers, deterministically (fixed seed), and
writes them the way an Italian municipal office exports a spreadsheet:
Italian headers, ``;`` as separator, decimal commas, ``sì``/``no``, dates as
``gg/mm/aaaa``, the Italian labels of the questionnaire's choices (``buono``,
``privata``, ``locale, regionale, UE``, ``formazione e lavoro``), a ``Note``
column, Windows line endings.  The vacant units are in Windows-1252
(Excel's "CSV (delimitato dal separatore di elenco)"), the firms in UTF-8 with
BOM (Excel's "CSV UTF-8").

What is real and what is invented:

- every unit and firm stands on a real OSM feature of the extract: vacant
  units on buildings within 60 m of a shop or café of the town centres;
  firms on the OSM crafts, offices and productive shops and on the buildings
  of the industrial zones (``landuse=industrial``);
- the ATECO code (2025; 45.20 and 47.43 left in ATECO 2007, as some respondents
  still write them) of a firm placed on a tagged OSM feature is derived from
  its tags (``craft``, ``office``, ``shop``, ``amenity``) or, for a named
  industrial building, from the activity its name states (``Distilleria``,
  ``Spedizioni``...); buildings of the industrial zones without such tags get a
  sector drawn from an illustrative mix of the area's industries, and their
  note says so;
- San Michele all'Adige has few buildings and no tagged firm in the extract:
  a few of its buildings get firms of the illustrative mix as well;
- names, answers, surfaces, rents and dates are invented.  Firm names are
  invented too ("Meccanica 07 (esempio)"), so that no invented answer is
  attributed to a real business; the note gives the OSM feature.

Run from the repository root (the output is committed)::

    .venv/bin/python data/piana_rotaliana/make_surveys.py
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import yaml

import geodistrict as gd
from geodistrict.area import area_lonlat
from geodistrict.config import DistrictConfig
from geodistrict.sources.surveys import FIRMS, VACANT_UNITS, SurveySchema

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONFIG = ROOT / "config" / "piana_rotaliana.yml"
SEED = 20260311
COMUNI = ("Mezzolombardo", "Mezzocorona", "San Michele all'Adige")
NOTE = "ILLUSTRATIVO: dati inventati, non rilevati"
N_VACANT = 18
#: Firms drawn in the industrial zones of each comune (Mezzocorona's has 16 buildings).
N_INDUSTRIAL = {"Mezzolombardo": 16, "Mezzocorona": 10}
#: San Michele all'Adige (the extension) is barely mapped in the extract: a few of its
#: buildings get illustrative firms so that the extension has respondents.
N_EXTENSION = 8
#: The second, ILLUSTRATIVE survey wave (issue 16): wave 1 less the units let since, plus
#: new ones, each with the day the surveyor saw it (column "Data rilevazione").
WAVE2_FILE = "locali_sfitti_2026.csv"
WAVE2_START = date(2026, 10, 5)  # the surveyors' first day; the wave lasts 5 days
WAVE2_LET = 5
WAVE2_NEW = 3

# --- ATECO codes of the sectors named by OSM tags (division.group/class) ------------------
# ATECO 2025, as the Chambers of Commerce register shows them since April 2025, except
# two codes some respondents still write from memory in ATECO 2007 (45.20 car repair and
# wash, 47.43 audio-video shop), which geodistrict converts through ISTAT's correspondence.
CRAFT_ATECO = {
    "photographer": ("74.20", "Studio fotografico"),
    "shoemaker": ("95.23", "Calzoleria"),
    "jeweller": ("32.12", "Oreficeria"),
    "dressmaker": ("14.21", "Sartoria"),
    "electrician": ("43.21", "Impianti elettrici"),
    "carpenter": ("16.23", "Falegnameria"),
    "winery": ("11.02", "Cantina"),
    "plumber": ("43.22", "Idraulica"),
}
OFFICE_ATECO = {
    "estate_agent": ("68.31", "Agenzia immobiliare"),
    "engineer": ("71.12", "Studio di ingegneria"),
    "architect": ("71.11", "Studio di architettura"),
    "insurance": ("65.12", "Agenzia assicurativa"),
    "accountant": ("69.20", "Studio commercialista"),
    "lawyer": ("69.10", "Studio legale"),
}
#: Shops and services of a productive questionnaire (repairs, artisan food, trades).
SHOP_ATECO = {
    "car_repair": ("45.20", "Autofficina"),
    "bicycle": ("47.63", "Cicli"),
    "furniture": ("47.55", "Arredamento"),
    "doityourself": ("47.52", "Ferramenta"),
    "paint": ("47.52", "Colori e vernici"),
    "computer": ("47.40", "Informatica"),
    "electronics": ("47.43", "Elettronica"),
    "bakery": ("10.71", "Panificio"),
    "butcher": ("10.13", "Macelleria e salumificio"),
    "wine": ("47.25", "Enoteca"),
}
AMENITY_ATECO = {"car_wash": ("45.20", "Autolavaggio")}
#: What the name of an otherwise untagged OSM building says about its activity.
NAME_ATECO = (
    ("distilleria", "11.01", "Distilleria"),
    ("cantina", "11.02", "Cantina"),
    ("spedizioni", "49.41", "Autotrasporti"),
    ("autotrasporti", "49.41", "Autotrasporti"),
    ("legnami", "16.11", "Segheria"),
    ("mobili", "31.00", "Mobilificio"),
    ("vivai", "01.30", "Vivaio"),
    ("elettro", "43.21", "Impianti elettrici"),
    ("consorzio turistico", "79.90", "Promozione turistica"),
)
#: Illustrative mix of the industries of the Piana Rotaliana, for untagged buildings.
INDUSTRIAL_MIX = (
    ("11.02", "Cantina", 25, 0.16),
    ("10.39", "Lavorazione frutta", 30, 0.10),
    ("16.23", "Carpenteria in legno", 12, 0.12),
    ("25.11", "Carpenteria metallica", 18, 0.14),
    ("25.53", "Meccanica di precisione", 15, 0.12),
    ("28.30", "Macchine agricole", 22, 0.10),
    ("49.41", "Autotrasporti", 14, 0.10),
    ("43.21", "Impianti elettrici", 9, 0.08),
    ("22.26", "Articoli in plastica", 20, 0.08),
)
SIZE_BY_DIVISION = {"01": 6, "10": 12, "11": 15, "14": 3, "16": 8, "31": 10, "32": 2,
                    "43": 6, "45": 4, "47": 3, "49": 10, "65": 4, "68": 2, "71": 3,
                    "74": 2, "79": 3, "95": 1}  # fmt: skip

LAST_USES = ["abbigliamento", "bar", "panetteria", "parrucchiere", "libreria",
             "filiale bancaria", "agenzia viaggi", "telefonia", "ristorante", "fioraio",
             "", "calzature", "ferramenta", "edicola"]  # fmt: skip
# Codes of the choice fields (what the reader stores); the files carry their Italian labels.
CONDITIONS = ["good", "fair", "poor"]
OWNERS = ["private", "public", "other"]
MARKETS = ["local", "regional", "national", "eu", "world"]
ISSUES = ["infrastructure", "security", "transport", "labour", "bureaucracy", "credit",
          "energy", "reputation"]  # fmt: skip
TABLES = ["administration", "communication", "training_work", "institutional_relations"]
#: How an office lists several answers in one cell of a ';'-separated export.
MULTI_SEPARATOR = ", "
TRAINING = ["", "lingue straniere", "competenze digitali", "sicurezza sul lavoro",
            "saldatura", "enologia", "logistica"]  # fmt: skip

VACANT_HEADER = ["Codice unità", "Indirizzo", "Longitudine", "Latitudine", "Superficie (mq)",
                 "Piano terra", "Sfitto dal", "Ultimo uso", "Stato", "Proprietà",
                 "Canone richiesto", "Note"]  # fmt: skip
FIRMS_HEADER = ["Codice impresa", "Ragione sociale", "Longitudine", "Latitudine", "Comune",
                "Codice ATECO", "Addetti", "Mercati", "Propensione innovazione",
                "Spazio espansione (mq)", "Esporta", "Fabbisogno assunzioni",
                "Fabbisogno formazione", "Accesso finanziamenti", "Criticità",
                "Tavoli lavoro", "Note"]  # fmt: skip


def district_config() -> DistrictConfig:
    """The district's configuration without its survey files (which this script makes)."""
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    data.pop("surveys", None)
    return DistrictConfig.model_validate(data, context={"base_dir": CONFIG.parent})


def comuni(config: DistrictConfig, crs: object) -> gpd.GeoDataFrame:
    """The three comuni as polygons in ``crs``, looked up in the extract like the area."""
    geoms = [
        area_lonlat(
            config.model_copy(update={"area": config.area.model_copy(update={"places": [name]})})
        )
        for name in COMUNI
    ]
    return gpd.GeoDataFrame({"comune": list(COMUNI)}, geometry=geoms, crs=4326).to_crs(crs)


def it_number(value: float, decimals: int) -> str:
    """``1234.5`` as an Italian spreadsheet writes it: ``1.234,50``."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def it_coord(value: float) -> str:
    return f"{value:.6f}".replace(".", ",")


def yes_no(flag: bool) -> str:
    return "sì" if flag else "no"


def italian(schema: SurveySchema, name: str, codes: Sequence[str]) -> str:
    """The Italian labels of choice codes, as the questionnaire prints them (``buono``)."""
    fld = schema.get_field(name)
    return MULTI_SEPARATOR.join(fld.option(code).it for code in codes)


def osm_ref(feature: pd.Series) -> str:
    """``way/123``: the OSM element of a row of a base layer."""
    return f"{feature['osm_type']}/{int(feature['osm_id'])}"


def draw_sector(rng: np.random.Generator) -> tuple[str, str]:
    """An ATECO code and label from the illustrative industrial mix."""
    weights = np.array([m[3] for m in INDUSTRIAL_MIX])
    code, label, _size, _ = INDUSTRIAL_MIX[
        int(rng.choice(len(weights), p=weights / weights.sum()))
    ]
    return code, label


def tagged_sector(tags: dict[str, str]) -> tuple[str, str] | None:
    """ATECO code and Italian sector label of an OSM feature, from its tags or name."""
    for key, table in (("craft", CRAFT_ATECO), ("office", OFFICE_ATECO),
                       ("shop", SHOP_ATECO), ("amenity", AMENITY_ATECO)):  # fmt: skip
        if tags.get(key) in table:
            return table[tags[key]]
    name = tags.get("name", "").casefold()
    for word, code, label in NAME_ATECO:
        if word in name:
            return code, label
    return None


def main() -> None:
    """Write ``locali_sfitti.csv`` and ``questionario_imprese.csv`` next to this script."""
    rng = np.random.default_rng(SEED)
    config = district_config()
    layers = gd.load_base_layers(config, use_cache=False)
    crs = layers.study_area.crs
    area = shapely.union_all(layers.study_area.geometry.to_numpy())
    towns = comuni(config, crs)

    def comune_of(point: shapely.Point) -> str:
        hit = towns[towns.covers(point)]
        return str(hit["comune"].iloc[0]) if len(hit) else ""

    buildings = layers.buildings[layers.buildings.within(area)]
    buildings = buildings.sort_values("osm_id").reset_index(drop=True)
    named = layers.streets[layers.streets["name"].notna()][["name", "geometry"]]
    street = buildings[["geometry"]].sjoin_nearest(named, how="left")
    street = street[~street.index.duplicated()]["name"]
    points = buildings.representative_point()
    lonlat = points.to_crs(4326)

    # --- vacant units: ordinary buildings near the shops and cafés of the centres ----------
    pois = layers.pois
    shops = pois[pois["shop"].notna() | pois["amenity"].isin(["cafe", "bar", "restaurant"])]
    near_shops = points.distance(shapely.union_all(shops.geometry.to_numpy())) <= 60
    ordinary = buildings["building"].isin(["yes", "house", "retail", "commercial"])
    candidates = np.flatnonzero((near_shops & ordinary).to_numpy())
    vacant_idx = np.sort(rng.choice(candidates, size=N_VACANT, replace=False))

    with (HERE / "locali_sfitti.csv").open("w", newline="", encoding="cp1252") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(VACANT_HEADER)
        for n, i in enumerate(vacant_idx, start=1):
            b = buildings.iloc[i]
            road = b["addr_street"] if isinstance(b["addr_street"], str) else street.iloc[i]
            number = (
                b["addr_housenumber"]
                if isinstance(b["addr_housenumber"], str)
                else str(int(rng.integers(1, 60)))
            )
            surface = float(np.round(rng.lognormal(4.2, 0.5), 1))
            year, month, day = int(rng.integers(2015, 2026)), int(rng.integers(1, 13)), 1
            if year == 2025:
                month = min(month, 6)
            on_market = rng.random() < 0.75
            rent = round(surface * rng.uniform(8, 18), -1)
            writer.writerow([
                f"SF-{n:03d}", f"{road} {number}, {comune_of(points.iloc[i])}",
                it_coord(lonlat.iloc[i].x), it_coord(lonlat.iloc[i].y),
                it_number(surface, 1), yes_no(rng.random() < 0.85),
                date(year, month, day).strftime("%d/%m/%Y"),
                LAST_USES[int(rng.integers(len(LAST_USES)))],
                italian(VACANT_UNITS, "condition",
                        [CONDITIONS[int(rng.choice(3, p=[0.35, 0.45, 0.2]))]]),
                italian(VACANT_UNITS, "owner_type",
                        [OWNERS[int(rng.choice(3, p=[0.8, 0.15, 0.05]))]]),
                it_number(rent, 2) if on_market else "",
                f"{NOTE}; edificio OSM {osm_ref(b)}",
            ])  # fmt: skip

    # --- firms: OSM firms with a sector in their tags, then the industrial buildings -------
    rows: list[tuple[shapely.Point, str, str, str]] = []  # point, code, label, note
    taken: list[shapely.Point] = []
    sources = [(pois, "elemento OSM"), (buildings, "edificio OSM")]
    for frame, what in sources:
        frame = frame[frame.intersects(area)].sort_values("osm_id")
        for _, feature in frame.iterrows():
            tags = json.loads(feature["tags"])
            sector = tagged_sector(tags)
            if sector is None:
                continue
            point = feature.geometry.representative_point()
            if any(point.distance(p) < 5 for p in taken):
                continue
            taken.append(point)
            ref = osm_ref(feature)
            rows.append((point, *sector, f"{NOTE}; settore dai tag di {what} {ref}"))

    industrial = layers.landuse[layers.landuse["landuse"] == "industrial"]
    zone = shapely.union_all(industrial.geometry.to_numpy()).intersection(area)
    in_zone = np.flatnonzero(points.within(zone).to_numpy())
    free = [i for i in in_zone if all(points.iloc[i].distance(p) >= 5 for p in taken)]
    picks = []
    for name, quota in N_INDUSTRIAL.items():
        pool = [i for i in free if comune_of(points.iloc[i]) == name]
        picks.append(rng.choice(pool, size=min(quota, len(pool)), replace=False))
    pick = np.sort(np.concatenate(picks))
    for i in pick:
        code, label = draw_sector(rng)
        ref = osm_ref(buildings.iloc[i])
        note = f"{NOTE}; settore illustrativo (edificio industriale OSM {ref} senza tag)"
        rows.append((points.iloc[i], code, label, note))

    chosen = set(pick.tolist())
    extension = [
        i
        for i in range(len(buildings))
        if i not in chosen
        and comune_of(points.iloc[i]) == COMUNI[2]
        and buildings.iloc[i]["building"] in ("yes", "industrial", "commercial")
        and all(points.iloc[i].distance(p) >= 5 for p in taken)
    ]
    for i in np.sort(rng.choice(extension, size=min(N_EXTENSION, len(extension)), replace=False)):
        code, label = draw_sector(rng)
        ref = osm_ref(buildings.iloc[i])
        note = f"{NOTE}; settore illustrativo (edificio OSM {ref} senza tag)"
        rows.append((points.iloc[i], code, label, note))

    sizes = {m[0]: m[2] for m in INDUSTRIAL_MIX}
    with (HERE / "questionario_imprese.csv").open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(FIRMS_HEADER)
        for n, (point, code, label, note) in enumerate(rows, start=1):
            lonlat_point = gpd.GeoSeries([point], crs=crs).to_crs(4326).iloc[0]
            size = sizes.get(code, SIZE_BY_DIVISION.get(code[:2], 5))
            reach = int(rng.integers(1, len(MARKETS) + 1))
            issues = sorted(rng.choice(ISSUES, size=int(rng.integers(0, 4)), replace=False))
            tables = sorted(rng.choice(TABLES, size=int(rng.integers(1, 3)), replace=False))
            expansion = float(rng.choice([0, 0, 0, 50, 120.5, 300, 800]))
            writer.writerow([
                f"IMP-{n:03d}", f"{label} {n:02d} (esempio)", it_coord(lonlat_point.x),
                it_coord(lonlat_point.y), comune_of(point), code,
                max(1, int(rng.poisson(size))), italian(FIRMS, "markets", MARKETS[:reach]),
                int(rng.integers(1, 6)), it_number(expansion, 1), yes_no(reach >= 4),
                int(rng.integers(0, 4)), TRAINING[int(rng.integers(len(TRAINING)))],
                yes_no(rng.random() < 0.4), italian(FIRMS, "critical_issues", issues),
                italian(FIRMS, "work_tables", tables), note,
            ])  # fmt: skip
    spare = [int(i) for i in candidates if i not in set(vacant_idx.tolist())]
    n_wave2 = second_wave(buildings, points, lonlat, street, spare, comune_of)
    print(
        f"wrote {N_VACANT} vacant units and {len(rows)} firms to {HERE}; "
        f"{n_wave2} vacant units in the second wave"
    )


def second_wave(buildings: gpd.GeoDataFrame, points: gpd.GeoSeries, lonlat: gpd.GeoSeries,
                street: pd.Series, spare: list[int], comune_of: object) -> int:  # fmt: skip
    """Write ``locali_sfitti_2026.csv``: wave 1 less the units let, plus new ones.

    Its own random generator, so that wave 1 stays byte-identical; the same
    format as wave 1 plus a ``Data rilevazione`` column (``gg/mm/aaaa``).
    """
    rng = np.random.default_rng(SEED + 2)
    with (HERE / "locali_sfitti.csv").open(encoding="cp1252", newline="") as handle:
        first = list(csv.reader(handle, delimiter=";"))
    header, body = first[0], first[1:]
    let = set(rng.choice(len(body), size=WAVE2_LET, replace=False).tolist())
    rent_col, note_col = header.index("Canone richiesto"), header.index("Note")
    out = [[*header[:note_col], "Data rilevazione", *header[note_col:]]]

    def surveyed() -> str:
        return (WAVE2_START + timedelta(days=int(rng.integers(0, 5)))).strftime("%d/%m/%Y")

    for n, row in enumerate(body):
        if n in let:
            continue
        row = list(row)
        if row[rent_col] and rng.random() < 0.4:  # some owners lowered the rent
            value = float(row[rent_col].replace(".", "").replace(",", "."))
            row[rent_col] = it_number(round(value * 0.9, -1), 2)
        out.append([*row[:note_col], surveyed(), *row[note_col:]])
    for k, i in enumerate(spare[:WAVE2_NEW], start=len(body) + 1):
        b = buildings.iloc[i]
        road = b["addr_street"] if isinstance(b["addr_street"], str) else street.iloc[i]
        number = (b["addr_housenumber"] if isinstance(b["addr_housenumber"], str)
                  else str(int(rng.integers(1, 60))))  # fmt: skip
        surface = float(np.round(rng.lognormal(4.2, 0.5), 1))
        since = date(2026, int(rng.integers(1, 9)), 1)
        out.append([
            f"SF-{k:03d}", f"{road} {number}, {comune_of(points.iloc[i])}",  # type: ignore[operator]
            it_coord(lonlat.iloc[i].x), it_coord(lonlat.iloc[i].y), it_number(surface, 1),
            yes_no(rng.random() < 0.85), since.strftime("%d/%m/%Y"),
            LAST_USES[int(rng.integers(len(LAST_USES)))],
            italian(VACANT_UNITS, "condition", [CONDITIONS[int(rng.choice(3))]]),
            italian(VACANT_UNITS, "owner_type", ["private"]),
            it_number(round(surface * rng.uniform(8, 18), -1), 2), surveyed(),
            f"{NOTE}; edificio OSM {osm_ref(b)}",
        ])  # fmt: skip
    with (HERE / WAVE2_FILE).open("w", newline="", encoding="cp1252") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(out)
    return len(out) - 1


if __name__ == "__main__":
    main()

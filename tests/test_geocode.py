"""Offline address geocoding: Italian normalisation, the index, match qualities, the samples."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

import geodistrict as gd
from geodistrict.errors import MissingColumnError, ParameterError
from geodistrict.geocode import (
    address_index,
    comune_key,
    geocode,
    parse_address,
    parse_civic,
    street_key,
    words_match,
)
from geodistrict.pipeline.steps.surveys import address_index_for

ROOT = Path(__file__).resolve().parent.parent
CRS = 32632


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("V.le Giuseppe Verdi", "Viale Giuseppe Verdi"),
        ("VIALE GIUSEPPE VERDI", "viale giuseppe verdi"),
        ("P.zza Duomo", "Piazza Duomo"),
        ("P.za Duomo", "Piazza Duomo"),
        ("C.so del Popolo", "Corso del Popolo"),
        ("Str. delle Vigne", "Strada delle Vigne"),
        ("Loc. Masetto", "Località Masetto"),
        ("Fraz. Grumo", "Frazione Grumo"),
        ("L.go Trento", "Largo Trento"),
        ("P.le Stazione", "Piazzale Stazione"),
        ("Via S. Giovanni", "Via San Giovanni"),
        ("Via S. Maria", "Via Santa Maria"),
        ("Via Sant'Antonio", "Via S. Antonio"),
        ("Via dell'Òlmo", "Via dell Olmo"),
        ("Via D'Annunzio", "Via d'Annunzio"),
        ("Via IV Novembre", "Via Quattro Novembre"),
        ("Via 4 Novembre", "Via Quattro Novembre"),
        ("Via XX Settembre", "Via Venti Settembre"),
        ("Piazza I Maggio", "Piazza Primo Maggio"),
    ],
)
def test_spellings_of_one_street_have_one_key(a: str, b: str) -> None:
    assert street_key(a) == street_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Via Roma", "Piazza Roma"),
        ("Via Trento", "Via Trieste"),
        ("Via IV Novembre", "Via XX Settembre"),
        ("Viale Verdi", "Vicolo Verdi"),
    ],
)
def test_different_streets_keep_different_keys(a: str, b: str) -> None:
    assert street_key(a) != street_key(b)


def test_initials_and_omitted_first_names_match_but_other_names_do_not() -> None:
    full = street_key("Viale Giuseppe Verdi")
    assert words_match(street_key("V.le G. Verdi"), full)
    assert words_match(street_key("Viale Verdi"), full)
    assert words_match(street_key("Verdi"), full)  # no street type written
    assert not words_match(street_key("V.le L. Verdi"), full)
    assert not words_match(street_key("Via G. Verdi"), full)  # another street type
    assert not words_match(street_key("Viale Giuseppe Rossi"), full)


@pytest.mark.parametrize(
    ("text", "number", "suffix", "to", "snc"),
    [
        ("12", 12, "", None, False),
        ("12/A", 12, "a", None, False),
        ("12a", 12, "a", None, False),
        ("12 A", 12, "a", None, False),
        ("12 bis", 12, "bis", None, False),
        ("12/bis", 12, "bis", None, False),
        ("12 ter", 12, "ter", None, False),
        ("12-14", 12, "", 14, False),
        ("n. 7", 7, "", None, False),
        ("snc", None, "", None, True),
        ("SNC", None, "", None, True),
        ("s.n.c.", None, "", None, True),
        ("s.n.", None, "", None, True),
    ],
)
def test_civic_numbers(
    text: str, number: int | None, suffix: str, to: int | None, snc: bool
) -> None:
    civic = parse_civic(text)
    assert civic is not None
    assert (civic.number, civic.suffix, civic.to, civic.snc) == (number, suffix, to, snc)


def test_not_a_civic_number() -> None:
    assert parse_civic("scala B") is None
    assert parse_civic("") is None


def test_address_split_into_street_number_comune_and_postcode() -> None:
    a = parse_address("V.le G. Verdi, 12/A - 38017 Mezzolombardo")
    assert a is not None
    assert (a.key, a.civic.number, a.civic.suffix, a.comune, a.postcode) == (
        "viale g verdi", 12, "a", "mezzolombardo", "38017"
    )  # fmt: skip
    b = parse_address("Via Roma", number="3 bis", comune="San Michele all'Adige")
    assert b is not None and (b.civic.number, b.civic.suffix) == (3, "bis")
    assert b.comune == comune_key("S. Michele all'Adige")
    assert parse_address("Loc. Masetto snc").civic.snc  # type: ignore[union-attr]
    assert parse_address("   ") is None


# --- the matcher on a street whose answer is known ----------------------------------------------


def _district() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Viale Giuseppe Verdi (0,0)-(400,0) in Alfa, Via Roma in Alfa and in Beta."""
    rows = [
        ("node", 1, {"addr:street": "Viale Giuseppe Verdi", "addr:housenumber": "10",
                     "addr:city": "Alfa"}, Point(0, 0)),
        ("node", 2, {"addr:street": "Viale Giuseppe Verdi", "addr:housenumber": "20",
                     "addr:city": "Alfa"}, Point(100, 0)),
        ("node", 3, {"addr:street": "Viale Giuseppe Verdi", "addr:housenumber": "12/B",
                     "addr:city": "Alfa"}, Point(20, 5)),
        ("node", 4, {"addr:street": "Via Roma", "addr:housenumber": "1", "addr:city": "Alfa"},
         Point(0, 500)),
        ("node", 5, {"addr:street": "Via Roma", "addr:housenumber": "1", "addr:city": "Beta"},
         Point(3000, 500)),
        ("node", 6, {"addr:street": "Viale Giuseppe Verdi", "addr:housenumber": "21",
                     "addr:city": "Alfa"}, Point(10, -10)),
        ("node", 7, {"addr:street": "Viale Giuseppe Verdi", "addr:housenumber": "31",
                     "addr:city": "Alfa"}, Point(110, -10)),
    ]  # fmt: skip
    pois = gpd.GeoDataFrame(
        {"osm_type": [r[0] for r in rows], "osm_id": [r[1] for r in rows],
         "tags": [json.dumps(r[2]) for r in rows]},
        geometry=[r[3] for r in rows], crs=CRS,
    )  # fmt: skip
    streets = gpd.GeoDataFrame(
        {"name": ["Viale Giuseppe Verdi", "Via Roma", "Via Roma", "Vicolo Cieco"]},
        geometry=[LineString([(0, 0), (400, 0)]), LineString([(0, 500), (100, 500)]),
                  LineString([(3000, 500), (3100, 500)]), LineString([(0, 900), (60, 900)])],
        crs=CRS,
    )  # fmt: skip
    return pois, streets


@pytest.fixture(scope="module")
def small_index():  # type: ignore[no-untyped-def]
    pois, streets = _district()
    return address_index(pois=pois, streets=streets)


def _one(index, address: str, comune: str | None = "Alfa") -> tuple[str, Point | None, str]:  # type: ignore[no-untyped-def]
    out = geocode(pd.DataFrame({"address": [address], "municipality": [comune]}), index)
    return out["geocode_quality"].iloc[0], out.geometry.iloc[0], out["geocode_note"].iloc[0]


def test_exact_with_italian_spellings(small_index) -> None:  # type: ignore[no-untyped-def]
    for text in ("Viale Giuseppe Verdi 20", "V.le G. Verdi, 20", "VIALE VERDI 20", "Verdi 20"):
        quality, point, _ = _one(small_index, text)
        assert quality == "exact", text
        assert point is not None and (point.x, point.y) == (100, 0)


def test_suffix_preferred_and_missing_suffix_noted(small_index) -> None:  # type: ignore[no-untyped-def]
    quality, point, note = _one(small_index, "Viale Verdi 12/B")
    assert quality == "exact" and (point.x, point.y) == (20, 5)
    quality, point, note = _one(small_index, "Viale Verdi 12/C")
    assert quality == "exact" and (point.x, point.y) == (20, 5)
    assert "12/C" in note and "12/B" in note


def test_interpolated_between_numbers_of_the_same_parity(small_index) -> None:  # type: ignore[no-untyped-def]
    # 14 lies between 10 (0,0) and 20 (100,0): 40 % of the way; 12/B is even but suffixed,
    # still a number 12: the nearest even numbers around 14 are 12 (20,5) and 20 (100,0).
    quality, point, _note = _one(small_index, "Viale Verdi 16")
    assert quality == "interpolated"
    assert point.x == pytest.approx(20 + 80 * (16 - 12) / (20 - 12))
    # An odd number is placed between the odd ones, on the other side of the street.
    quality, point, _ = _one(small_index, "Viale Verdi 25")
    assert quality == "interpolated"
    assert point.y == pytest.approx(-10)
    assert point.x == pytest.approx(10 + 100 * (25 - 21) / (31 - 21))


def test_street_midpoint_for_snc_and_unbracketed_numbers(small_index) -> None:  # type: ignore[no-untyped-def]
    for text in ("Viale Verdi snc", "Viale Verdi", "Viale Verdi 90"):
        quality, point, _note = _one(small_index, text)
        assert quality == "street", text
        assert (round(point.x), round(point.y)) == (200, 0)
    assert "snc" in _one(small_index, "Viale Verdi snc")[2]
    quality, point, _ = _one(small_index, "Vicolo Cieco 3")
    assert quality == "street" and (point.x, point.y) == (30, 900)


def test_comune_decides_between_streets_of_the_same_name(small_index) -> None:  # type: ignore[no-untyped-def]
    assert _one(small_index, "Via Roma 1", "Alfa")[1].x == 0
    assert _one(small_index, "Via Roma 1", "Beta")[1].x == 3000
    quality, point, note = _one(small_index, "Via Roma 1", "Gamma")
    assert quality == "unmatched" and point is None and "gamma" in note


def test_unmatched_rows_are_kept_with_a_reason(small_index) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(
        {"address": ["Via Inesistente 4", None, "Viale Verdi 10"], "municipality": "Alfa"},
        index=[7, 8, 9],
    )
    out = geocode(frame, small_index)
    assert list(out.index) == [7, 8, 9]
    assert out["geocode_quality"].tolist() == ["unmatched", "unmatched", "exact"]
    assert out.geometry.iloc[0] is None and out.geometry.iloc[1] is None
    assert "Via Inesistente" in out["geocode_note"].iloc[0]
    assert out["geocode_note"].iloc[1] != ""


def test_given_positions_are_kept_and_inputs_not_mutated(small_index) -> None:  # type: ignore[no-untyped-def]
    frame = gpd.GeoDataFrame(
        {"address": ["Viale Verdi 10", "Viale Verdi 20"], "municipality": ["Alfa", "Alfa"]},
        geometry=[Point(5, 5), None], crs=CRS,
    )  # fmt: skip
    before = frame.copy()
    out = geocode(frame, small_index)
    assert out["geocode_quality"].tolist() == ["given", "exact"]
    assert (out.geometry.iloc[0].x, out.geometry.iloc[1].x) == (5, 100)
    pd.testing.assert_frame_equal(frame, before)


def test_bad_arguments(small_index) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingColumnError, match="address"):
        geocode(pd.DataFrame({"indirizzo": ["Via Roma 1"]}), small_index)
    other = gpd.GeoDataFrame({"address": ["Via Roma 1"]}, geometry=[None], crs=4326)
    with pytest.raises(ParameterError, match="EPSG:4326"):
        geocode(other, small_index)


def test_interpolation_way_with_parity() -> None:
    tags = [
        {"addr:street": "Via Lunga", "addr:housenumber": "1"},
        {"addr:street": "Via Lunga", "addr:housenumber": "21"},
        {"addr:interpolation": "odd"},
    ]
    extra = gpd.GeoDataFrame(
        {"osm_type": ["node", "node", "way"], "osm_id": [1, 2, 3],
         "tags": [json.dumps(t) for t in tags]},
        geometry=[Point(0, 0), Point(200, 0), LineString([(0, 0), (200, 0)])], crs=CRS,
    )  # fmt: skip
    index = address_index(extra=extra)
    assert len(index.interpolations) == 1
    out = geocode(pd.DataFrame({"address": ["Via Lunga 11", "Via Lunga 12"]}), index)
    assert out["geocode_quality"].iloc[0] == "interpolated"
    assert out.geometry.iloc[0].x == pytest.approx(100)
    assert "way/3" in out["geocode_note"].iloc[0]
    # An even number is not on an odd interpolation: bracketed by 1 and 21 of the other parity.
    assert "way/3" not in out["geocode_note"].iloc[1]


# --- the embedded samples: hidden shop positions, geocoded back ---------------------------------


def _shops(pois: gpd.GeoDataFrame) -> pd.DataFrame:
    rows = []
    for t, i, tags, geom in zip(pois["osm_type"], pois["osm_id"], pois["tags"], pois.geometry,
                                strict=True):  # fmt: skip
        d = json.loads(tags)
        if d.get("addr:street") and d.get("addr:housenumber"):
            rows.append({"address": f"{d['addr:street']} {d['addr:housenumber']}",
                         "municipality": d.get("addr:city"), "hidden": f"{t}/{i}",
                         "x": geom.x, "y": geom.y})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("name", ["sample", "piana_rotaliana"])
def test_hidden_shops_are_found_again(name: str) -> None:
    """Recall and precision stay at what docs/BENCHMARKS.md reports (leave-one-out)."""
    config = gd.load_config(ROOT / "config" / f"{name}.yml")
    base = gd.load_base_layers(config)
    index = address_index_for(config, base)
    shops = _shops(base.pois)
    assert len(shops) > 100
    out = geocode(shops, index, exclude="hidden")
    error = np.array(
        [
            np.hypot(g.x - x, g.y - y) if g is not None else np.nan
            for g, x, y in zip(out.geometry, shops["x"], shops["y"], strict=True)
        ]
    )
    placed = ~np.isnan(error)
    assert placed.mean() > 0.95  # recall
    exact = (out["geocode_quality"] == "exact").to_numpy()
    assert np.median(error[exact]) < 25
    assert (error[placed] <= 50).mean() > 0.75  # precision
    # Never placed on the hidden feature itself.
    own = [f" {h}" in note or note.startswith(f"{h}")
           for h, note in zip(shops["hidden"], out["geocode_note"], strict=True)]  # fmt: skip
    assert not any(own)

"""Residents: the ISTAT census reader and the dasymetric estimate, on hand-made files.

The census files are synthetic but in ISTAT's format: the *basi territoriali*
2021 polygons (a Shapefile with SEZ21_ID, SEZ21, PRO_COM, COD_REG, TIPO_LOC)
and the ';'-separated CSV of the census variables per section (SEZ21_ID, P1,
the five-year age bands P14-P29). The expected numbers are counted by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from pydantic import ValidationError
from shapely.geometry import box

from geodistrict.config.models import PopulationConfig
from geodistrict.errors import MissingColumnError, SourceError
from geodistrict.i18n import use_language
from geodistrict.population import (
    building_levels,
    estimate_population,
    read_census_sections,
    resident_points,
    residential_buildings,
)

CRS = "EPSG:32632"


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages in English unless a test asks for Italian."""
    with use_language("en"):
        yield


BANDS = [f"P{i}" for i in range(14, 30)]
HEADER = ["CODREG", "REGIONE", "CODPRO", "PROVINCIA", "CODCOM", "COMUNE", "PROCOM",
          "SEZ21_ID", "NSEZ", "P1", "P2", "P3", *BANDS]  # fmt: skip


def _sections(folder: Path) -> Path:
    """Three sections of comune 22117 (Mezzolombardo's ISTAT code), 100 m squares."""
    gdf = gpd.GeoDataFrame(
        {"COD_REG": [4, 4, 4], "PRO_COM": [22117, 22117, 22117], "SEZ21": [1, 2, 3],
         "SEZ21_ID": [221170000001, 221170000002, 221170000003], "TIPO_LOC": [1, 1, 4]},
        geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)], crs=CRS,
    )  # fmt: skip
    path = folder / "R04_21.shp"
    gdf.to_file(path)
    return path


def _census(folder: Path, rows: list[list[object]], *, name: str = "sez.csv") -> Path:
    lines = [";".join(HEADER)]
    for section, p1, bands in rows:
        assert isinstance(bands, list)
        values = ["4", "Trentino-Alto Adige", "22", "Trento", "117", "Mezzolombardo", "22117",
                  str(section), "1", str(p1), "0", "0", *map(str, bands)]  # fmt: skip
        lines.append(";".join(values))
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _bands(young: int, adult: int, old: int) -> list[int]:
    """Sixteen five-year bands whose 0-14, 15-64 and 65+ sums are the given numbers."""
    out = [0] * 16
    out[0], out[5], out[15] = young, adult, old
    return out


def test_census_sections_join_residents_and_age_bands(tmp_path: Path) -> None:
    census = _census(tmp_path, [
        ["221170000001", 40, _bands(5, 25, 10)],
        ["0221170000002", 60, _bands(10, 40, 10)],  # a leading zero: the same code
    ])  # fmt: skip
    out = read_census_sections(_sections(tmp_path), census, crs=CRS)
    assert out["section_id"].tolist() == ["221170000001", "221170000002", "221170000003"]
    assert out["residents"].tolist() == [40, 60, 0]  # section 3 has no row: nobody lives there
    assert out["age_0_14"].tolist() == [5, 10, 0]
    assert out["age_15_64"].tolist() == [25, 40, 0]
    assert out["age_65_plus"].tolist() == [10, 10, 0]
    assert out["pro_com"].tolist() == ["22117"] * 3
    assert not out["estimated"].any()
    assert out.crs == CRS


def test_census_sections_only_those_in_the_area(tmp_path: Path) -> None:
    census = _census(tmp_path, [["221170000001", 40, _bands(5, 25, 10)],
                                ["221170000002", 60, _bands(10, 40, 10)]])  # fmt: skip
    area = gpd.GeoDataFrame(geometry=[box(-10, -10, 160, 110)], crs=CRS)
    out = read_census_sections(_sections(tmp_path), census, area=area)
    assert out["section_id"].tolist() == ["221170000001", "221170000002"]


def test_every_census_problem_is_named_with_file_row_and_column(tmp_path: Path) -> None:
    census = _census(tmp_path, [
        ["221170000001", "4O", _bands(5, 25, 10)],  # the letter O, not zero
        ["221170000002", 60, _bands(10, 40, 10)],
        ["221170000002", 61, _bands(10, 40, 10)],
        ["221170000003", -3, _bands(0, 0, 0)],
    ])  # fmt: skip
    with pytest.raises(SourceError) as info:
        read_census_sections(_sections(tmp_path), census)
    text = str(info.value)
    assert "3 problem(s) in census file" in text and "sez.csv" in text
    assert "sez.csv, row 2, column 'P1'" in text and "'4O'" in text
    assert "sez.csv, row 4, column 'SEZ21_ID'" in text and "row 3" in text
    assert "sez.csv, row 5, column 'P1'" in text and "'-3'" in text
    assert len(info.value.problems) == 3  # type: ignore[attr-defined]


def test_missing_census_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "sez.csv"
    path.write_text("SEZ21_ID;P2\n221170000001;4\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"row 1, column 'P1': column missing.*SEZ21_ID, P2"):
        read_census_sections(_sections(tmp_path), path, age_fields={})


def test_codes_of_another_year_are_refused(tmp_path: Path) -> None:
    census = _census(tmp_path, [["2211700001", 40, _bands(5, 25, 10)]])  # a 2011-style code
    with pytest.raises(SourceError, match=r"no section of R04_21\.shp is in the census file"):
        read_census_sections(_sections(tmp_path), census)


def test_census_messages_in_italian(tmp_path: Path) -> None:
    census = _census(tmp_path, [["2211700001", 40, _bands(5, 25, 10)]])
    with use_language("it"), pytest.raises(SourceError, match=r"nessuna sezione di R04_21\.shp"):
        read_census_sections(_sections(tmp_path), census)


def test_sections_without_the_code_field(tmp_path: Path) -> None:
    polys = gpd.GeoDataFrame({"SEZ2011": [1]}, geometry=[box(0, 0, 1, 1)], crs=CRS)
    census = _census(tmp_path, [["221170000001", 40, _bands(5, 25, 10)]])
    with pytest.raises(MissingColumnError, match="SEZ21_ID"):
        read_census_sections(polys, census)


def test_census_in_windows_1252_and_with_commas(tmp_path: Path) -> None:
    path = tmp_path / "sez.csv"
    path.write_bytes("SEZ21_ID,COMUNE,P1\n221170000001,Mezzolombardo è,7\n".encode("cp1252"))
    out = read_census_sections(_sections(tmp_path), path, age_fields={})
    assert out["residents"].tolist() == [7, 0, 0]


# ---------------------------------------------------------------- the estimate


def _buildings() -> gpd.GeoDataFrame:
    """Homes of known floor area, and buildings that are not homes."""
    return gpd.GeoDataFrame(
        {
            "osm_id": [1, 2, 3, 4, 5, 6, 7],
            "building": ["house", "apartments", "yes", "garage", "yes", "yes", "yes"],
            "building_levels": [None, "4", None, None, None, "2;3", None],
            "height": [None, None, "9", None, None, None, None],
            "shop": [None, None, None, None, None, None, "bakery"],
        },
        geometry=[
            box(0, 0, 10, 10),  # house, 100 m2, default 2 levels -> 200 m2
            box(20, 0, 40, 10),  # apartments, 200 m2, 4 levels -> 800 m2
            box(50, 0, 60, 10),  # yes, 100 m2, 9 m / 3 m -> 3 levels -> 300 m2
            box(70, 0, 80, 10),  # garage: not a home
            box(500, 500, 520, 520),  # yes on industrial land: not a home
            box(100, 0, 120, 10),  # yes, 200 m2, "2;3" -> 2 levels -> 400 m2
            box(130, 0, 140, 10),  # a shop's building: not a home
        ],
        crs=CRS,
    )


def _landuse() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"landuse": ["industrial"]}, geometry=[box(400, 400, 600, 600)],
                            crs=CRS)  # fmt: skip


def test_levels_from_tags_height_or_default() -> None:
    levels = building_levels(_buildings(), default_levels=2.0, level_height_m=3.0)
    assert levels["levels"].tolist()[:3] == [2.0, 4.0, 3.0]
    assert levels["levels_source"].tolist()[:3] == ["default", "osm", "height"]
    assert levels["levels"].iloc[5] == 2.0


def test_homes_leave_out_garages_industrial_land_and_shops() -> None:
    homes = residential_buildings(_buildings(), _landuse(), min_footprint_m2=30)
    assert homes["osm_id"].tolist() == [1, 2, 3, 6]
    assert homes["home_basis"].tolist() == ["tag", "tag", "unspecified", "unspecified"]


def test_dasymetric_estimate_sums_to_the_total_in_proportion_to_floor_area() -> None:
    est = estimate_population(_buildings(), landuse=_landuse(), total=170)
    # floor areas 200, 800, 300, 400 = 1,700 m2: 170 residents are 1 per 10 m2.
    assert est["floor_area_m2"].tolist() == [200.0, 800.0, 300.0, 400.0]
    assert est["residents"].round(9).tolist() == [20.0, 80.0, 30.0, 40.0]
    assert est["residents"].sum() == pytest.approx(170.0)
    assert est["estimated"].all()
    assert est.attrs["unplaced"] == {}


def test_dasymetric_estimate_by_comune() -> None:
    zones = gpd.GeoDataFrame({"zone": ["A", "B", "C"], "residents": [50, 30, 9]},
                             geometry=[box(-5, -5, 45, 20), box(45, -5, 125, 20),
                                       box(1000, 1000, 1100, 1100)], crs=CRS)  # fmt: skip
    est = estimate_population(_buildings(), landuse=_landuse(), zones=zones)
    by_zone = est.groupby("zone")["residents"].sum()
    assert by_zone.to_dict() == pytest.approx({"A": 50.0, "B": 30.0})
    # within B: 300 and 400 m2 of floor area share 30 residents
    assert est.set_index("osm_id").loc[[3, 6], "residents"].tolist() == pytest.approx(
        [30 * 3 / 7, 30 * 4 / 7]
    )
    assert est.attrs["unplaced"] == {"C": 9.0}  # comune C has no home


def test_dasymetric_estimate_without_a_total() -> None:
    est = estimate_population(_buildings(), landuse=_landuse(), floor_area_per_resident_m2=50)
    assert est["residents"].sum() == pytest.approx(1700 / 50)


def test_dasymetric_estimate_only_in_the_area() -> None:
    area = gpd.GeoDataFrame(geometry=[box(-1, -1, 45, 15)], crs=CRS)
    est = estimate_population(_buildings(), landuse=_landuse(), total=100, area=area)
    assert est["osm_id"].tolist() == [1, 2]
    assert est["residents"].tolist() == pytest.approx([20.0, 80.0])


def test_census_residents_spread_over_the_homes_of_each_section() -> None:
    sections = gpd.GeoDataFrame(
        {"section_id": ["s1", "s2", "s3"], "residents": [100, 70, 5]},
        geometry=[box(-5, -5, 45, 15), box(45, -5, 125, 15), box(200, 200, 300, 300)], crs=CRS,
    )  # fmt: skip
    points = resident_points(sections, buildings=_buildings(), landuse=_landuse())
    by_zone = points.groupby("zone")["residents"].sum()
    assert by_zone.to_dict() == pytest.approx({"s1": 100.0, "s2": 70.0, "s3": 5.0})
    assert len(points) == 5  # 2 + 2 homes, and s3 (no home) at one point inside it
    s3 = points[points["zone"] == "s3"].geometry.iloc[0]
    assert s3.within(sections.geometry.iloc[2])
    assert np.isclose(points[points["zone"] == "s1"]["residents"].to_numpy(), [20.0, 80.0]).all()


def test_population_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="go together"):
        PopulationConfig(sections=None, census=Path(__file__))
    with pytest.raises(ValidationError, match="municipalities_file"):
        PopulationConfig(municipalities={"Mezzolombardo": 7387})
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        PopulationConfig(default_levels=0.5)

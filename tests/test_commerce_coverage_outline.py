"""``coverage_rows`` buffers each origin once and unions each distinct set once (issue 17):
the same rows and outlines as the former per-need buffers, bit for bit."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodistrict import commerce
from geodistrict.commerce.units import polygonal
from geodistrict.taxonomy import load_taxonomy


def _outlines_before(distances: pd.DataFrame, origins: gpd.GeoDataFrame, max_m: float) -> list:  # type: ignore[type-arg]
    """The former geometry of each row: one buffer and one union per need."""
    out = []
    for need in load_taxonomy().everyday.values():
        within = distances[f"walk_m_{need.key}"].to_numpy() <= max_m
        beyond = origins.geometry.to_numpy()[~within]
        out.append(
            polygonal(shapely.union_all(shapely.buffer(beyond, 1.0))) if len(beyond) else None
        )
    return out


def _check(walk: pd.DataFrame, origins: gpd.GeoDataFrame, max_m: float) -> None:
    rows = commerce.coverage_rows(walk, origins, max_m=max_m)
    expected = _outlines_before(walk, origins, max_m)
    got = rows.geometry.to_numpy()
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert (a is None) == (b is None)
        if b is not None:
            assert shapely.to_wkb(a) == shapely.to_wkb(b)


@pytest.mark.parametrize("config", ["config/sample.yml", "config/piana_rotaliana.yml"])
def test_coverage_outlines_equal_the_per_need_buffers(config: str) -> None:
    import geodistrict as gd
    from geodistrict.config import load_config
    from geodistrict.taxonomy import classify_units

    layers = gd.load_base_layers(load_config(config))
    units = classify_units(layers.pois)
    origins = commerce.homes(layers.buildings, layers.landuse)
    walk = commerce.walking_coverage(layers.walk_graph, units, origins, max_m=400.0)
    assert (walk.to_numpy() > 400).any()
    _check(walk, origins, 400.0)


def test_coverage_outlines_with_repeated_and_empty_sets() -> None:
    rng = np.random.default_rng(3)
    origins = gpd.GeoDataFrame(
        geometry=shapely.points(rng.uniform(0, 300, (60, 2))).tolist(), crs=32632
    )
    keys = list(load_taxonomy().everyday)
    base = rng.uniform(0, 900, 60)
    walk = pd.DataFrame({f"walk_m_{k}": base for k in keys})  # every need alike
    walk[f"walk_m_{keys[0]}"] = 10.0  # one need met everywhere: no outline
    walk[f"walk_m_{keys[1]}"] = rng.uniform(0, 900, 60)
    _check(walk, origins, 400.0)
    rows = commerce.coverage_rows(walk, origins, max_m=400.0)
    assert rows.geometry.iloc[0] is None and rows.geometry.iloc[2] is not None

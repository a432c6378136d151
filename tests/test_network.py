"""Walk and bike access rules and one-way handling on hand-made tag sets."""

from __future__ import annotations

import pandas as pd
import pytest

from geodistrict.network import access_mask, oneway_direction


def _frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("tags", "walk", "bike"),
    [
        ({"highway": "residential"}, True, True),
        ({"highway": "motorway"}, False, False),
        ({"highway": "trunk"}, False, False),
        ({"highway": "footway"}, True, False),
        ({"highway": "footway", "bicycle": "yes"}, True, True),
        ({"highway": "path", "bicycle": "designated"}, True, True),
        ({"highway": "path"}, True, False),
        ({"highway": "pedestrian"}, True, False),
        ({"highway": "cycleway"}, True, True),
        ({"highway": "cycleway", "foot": "no"}, False, True),
        ({"highway": "cycleway", "bicycle": "no"}, True, False),
        ({"highway": "steps"}, True, False),
        ({"highway": "primary", "bicycle": "no"}, True, False),
        ({"highway": "secondary", "bicycle": "dismount"}, True, False),
        ({"highway": "service", "access": "private"}, False, False),
        ({"highway": "service", "access": "private", "bicycle": "yes"}, False, True),
        ({"highway": "track", "access": "no", "foot": "yes"}, True, False),
        ({"highway": "construction"}, False, False),
        ({"highway": "proposed"}, False, False),
    ],
)
def test_access_rules(tags: dict[str, str], walk: bool, bike: bool) -> None:
    frame = _frame([tags])
    assert bool(access_mask(frame, "walk").iloc[0]) is walk
    assert bool(access_mask(frame, "bike").iloc[0]) is bike


@pytest.mark.parametrize(
    ("tags", "direction"),
    [
        ({"highway": "residential"}, 0),
        ({"highway": "residential", "oneway": "yes"}, 1),
        ({"highway": "residential", "oneway": "-1"}, -1),
        ({"highway": "residential", "oneway": "no"}, 0),
        ({"highway": "primary", "junction": "roundabout"}, 1),
        ({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, 0),
        ({"highway": "residential", "oneway": "yes", "cycleway": "opposite_lane"}, 0),
        ({"highway": "residential", "oneway": "yes", "cycleway:left": "opposite_track"}, 0),
    ],
)
def test_bike_oneway_and_contraflow(tags: dict[str, str], direction: int) -> None:
    frame = _frame([tags])
    assert int(oneway_direction(frame, "bike").iloc[0]) == direction
    # Pedestrians walk both ways on every street.
    assert int(oneway_direction(frame, "walk").iloc[0]) == 0

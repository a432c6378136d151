"""The pipeline runner: steps ordered from their declarations, missing inputs refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely.geometry import Point

import geodistrict as gd
from geodistrict.errors import ConfigError, PipelineError
from geodistrict.pipeline import STEPS, RunContext, Step, order_steps, run_steps


def _const(**values: Any) -> Any:
    return lambda ctx: values


def _names(steps: list[Step]) -> list[str]:
    return [s.name for s in steps]


def test_order_follows_needs_and_uses_not_the_list_order() -> None:
    steps = [
        Step("report", "", _const(), needs=("scores",), uses=("extra",)),
        Step("extra", "", _const(extra=1), data=("extra",)),
        Step("scores", "", _const(scores=2), needs=("base",), data=("scores",)),
        Step("base", "", _const(base=0), data=("base",)),
    ]
    ordered, selected = order_steps(steps)
    names = _names(ordered)
    assert names.index("base") < names.index("scores") < names.index("report")
    assert names.index("extra") < names.index("report")
    assert selected == {"report", "extra", "scores", "base"}


def test_only_adds_what_is_needed_but_not_what_is_merely_used() -> None:
    steps = [
        Step("base", "", _const(base=0), data=("base",)),
        Step("extra", "", _const(extra=1), data=("extra",)),
        Step("report", "", _const(), needs=("base",), uses=("extra",)),
    ]
    ordered, selected = order_steps(steps, only=["report"])
    assert _names(ordered) == ["base", "report"]
    assert selected == {"report"}


def test_a_need_nobody_provides_is_refused_with_its_name() -> None:
    steps = [Step("report", "", _const(), needs=("population",))]
    with pytest.raises(PipelineError, match=r"'report' needs \[.population.\]"):
        order_steps(steps)


def test_two_providers_and_cycles_are_refused() -> None:
    twice = [Step("a", "", _const(), data=("x",)), Step("b", "", _const(), data=("x",))]
    with pytest.raises(PipelineError, match="provided by two steps"):
        order_steps(twice)
    cycle = [
        Step("a", "", _const(), needs=("y",), data=("x",)),
        Step("b", "", _const(), needs=("x",), data=("y",)),
    ]
    with pytest.raises(PipelineError, match="cycle"):
        order_steps(cycle)


def test_unknown_step_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown step"):
        order_steps(STEPS, only=["comerce"])


def test_a_step_returning_undeclared_values_is_stopped() -> None:
    steps = [Step("a", "", _const(surprise=1), data=("x",))]
    with pytest.raises(PipelineError, match=r"undeclared value.*surprise"):
        run_steps(steps, RunContext(config=gd.datasets.sample_config()))


def test_context_names_a_missing_value() -> None:
    ctx = RunContext(config=gd.datasets.sample_config(), values={"base": 1})
    with pytest.raises(PipelineError, match=r"no step of this run provided .retail_centres."):
        ctx["retail_centres"]
    assert ctx.get("retail_centres") is None


def test_shipped_steps_declare_every_layer_they_write() -> None:
    ordered, _ = order_steps(STEPS)
    assert _names(ordered)[:2] == ["base", "surveys"]
    layers = [name for step in STEPS for name in step.layers]
    assert len(layers) == len(set(layers))
    from geodistrict.catalogue import LAYERS

    assert sorted(set(layers) - set(LAYERS)) == []


def test_custom_step_runs_with_the_shipped_ones(tmp_path: Path) -> None:
    """A user's own step joins the pipeline by declaring what it needs."""

    def shop_count(ctx: RunContext) -> dict[str, Any]:
        pois = ctx["pois"]
        centre = pois.geometry.union_all().centroid
        return {
            "shop_count": gpd.GeoDataFrame(
                {"n": [int(pois["shop"].notna().sum())]}, geometry=[Point(centre)], crs=pois.crs
            )
        }

    mine = Step("mine", "count shops", shop_count, needs=("pois",), layers=("shop_count",))
    result = gd.run(gd.datasets.sample_config(), out=tmp_path, only=["mine"], steps=[*STEPS, mine])
    assert result.written["shop_count"] == 1
    manifest = json.loads((result.folder / "layers.json").read_text(encoding="utf-8"))
    assert "shop_count" in manifest["layers"] and "pois" not in manifest["layers"]


def test_a_layer_not_produced_needs_a_reason() -> None:
    silent = [Step("a", "", _const(), layers=("firms",))]
    with pytest.raises(PipelineError, match=r"neither \['firms'\] nor a reason"):
        run_steps(silent, RunContext(config=gd.datasets.sample_config()))

    def honest(ctx: RunContext) -> dict[str, Any]:
        ctx.skip("firms", "no firms survey configured")
        return {}

    ctx = RunContext(config=gd.datasets.sample_config())
    run_steps([Step("a", "", honest, layers=("firms",))], ctx)
    assert ctx.skipped == {"firms": "no firms survey configured"}


def test_run_reports_skipped_layers(tmp_path: Path) -> None:
    cfg = gd.datasets.sample_config().model_copy(
        update={"surveys": gd.datasets.sample_config().surveys.model_copy(update={"firms": None})}
    )
    result = gd.run(cfg, out=tmp_path, only=["production"])
    assert result.written == {}
    from geodistrict.pipeline.steps.production import STEP

    assert set(result.skipped) == set(STEP.layers)  # every production layer, each with why
    assert "surveys.firms" in result.skipped["firms"]
    assert all(reason.strip() for reason in result.skipped.values())


def test_layers_a_step_no_longer_produces_are_removed(tmp_path: Path) -> None:
    """Run commerce with shops, then on the same folder without: no stale layer or raster."""
    import pyogrio
    import synthetic_osm as so
    import yaml

    out = tmp_path / "out"
    results = {}
    for shops in (True, False):
        folder = tmp_path / f"shops-{shops}"
        folder.mkdir()
        path = so.write(folder, civic=True, shops=shops)
        cfg = {"district": "t", "title": "t", "area": {"bbox": so.bbox()},
               "osm": {"source": "xml", "path": str(path)}}  # fmt: skip
        (folder / "c.yml").write_text(yaml.safe_dump(cfg), encoding="utf-8")
        results[shops] = gd.run(gd.load_config(folder / "c.yml"), out=out, only=["commerce"])
    assert "commercial_units" in results[True].written
    assert "commercial_units" in results[False].skipped
    district = out / "t"
    manifest = json.loads((district / "layers.json").read_text(encoding="utf-8"))
    commerce = {"commercial_units", "commercial_hex", "retail_centres", "category_gaps"}
    assert not commerce & set(manifest["layers"])
    assert "rasters" not in manifest and not (district / "commercial_density.tif").exists()
    gpkg_layers = {row[0] for row in pyogrio.list_layers(district / "t.gpkg")}
    assert not commerce & gpkg_layers
    assert not any((district / "parquet" / f"{n}.parquet").exists() for n in commerce)

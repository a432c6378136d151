"""Static maps of a district for the report, drawn offline with matplotlib.

Every map is drawn from the district's own layers (no tile server): the study
area outline and the streets as a light background, the theme on top, a scale
bar, a north arrow, the OpenStreetMap attribution and a legend whose labels are
in the current language.  Each function returns a :class:`MapImage` (a PNG as
a ``data:`` URI, ready to inline in HTML) or ``None`` when the district has
nothing to show (the layer is missing or empty).

Examples
--------
>>> from geodistrict.deliverables.maps import nice_length
>>> nice_length(2300.0), nice_length(180.0)
(500.0, 20.0)
"""

from __future__ import annotations

import base64
import io
import itertools
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter

from geodistrict.deliverables import Outputs
from geodistrict.i18n import N_, _, format_number

__all__ = [
    "MAPS",
    "MapImage",
    "centres_map",
    "circuit_map",
    "cycling_map",
    "district_maps",
    "firms_map",
    "isochrones_map",
    "nice_length",
    "priority_classes",
    "vacancy_map",
]

log = logging.getLogger(__name__)

#: Width of a map on the page, inches (17 cm); heights follow the area's shape.
WIDTH_IN = 6.7
MIN_HEIGHT_IN, MAX_HEIGHT_IN = 3.6, 6.2
DPI = 150
#: Traffic-stress colours, LTS 1 to 4 (the QGIS styles' green to red).
STRESS_COLOURS = ("#1a9641", "#a6d96a", "#fdae61", "#d7191c")
#: Priority classes of vacant units (high, medium, low): the QGIS ramp's dark end to light.
PRIORITY_COLOURS = {"high": "#bd0026", "medium": "#fd8d3c", "low": "#fed976"}
PRIORITY_LABELS = {
    "high": N_("High priority"),
    "medium": N_("Medium priority"),
    "low": N_("Low priority"),
}
LTS_LABELS = (
    N_("LTS 1 – suitable for everyone, children included"),
    N_("LTS 2 – suitable for most adults"),
    N_("LTS 3 – confident cyclists"),
    N_("LTS 4 – experienced cyclists only"),
)
SECTOR_COLOURS = ("#6a3d9a", "#1f78b4", "#33a02c", "#e31a1c", "#ff7f00", "#b15928")
HALO = [patheffects.withStroke(linewidth=2.5, foreground="white")]


@dataclass(frozen=True)
class MapImage:
    """A rendered map: its title and caption (translated) and a PNG ``data:`` URI."""

    key: str
    title: str
    caption: str
    uri: str


def nice_length(span_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^n metres) at most a quarter of ``span_m``."""
    target = max(span_m / 4.0, 1.0)
    power = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return float(step * power)
    return float(power)


def priority_classes(ranks: pd.Series) -> pd.Series:
    """Priority class of each unit from its rank (the one rule: ``priority.classes``).

    Examples
    --------
    >>> import pandas as pd
    >>> priority_classes(pd.Series([1, 2, 3, 4, 5, 6])).tolist()
    ['high', 'high', 'medium', 'medium', 'low', 'low']
    """
    from geodistrict.priority.classes import priority_class

    if pd.to_numeric(ranks, errors="coerce").notna().sum() == 0:
        return pd.Series("low", index=ranks.index)
    return priority_class(ranks).fillna("low")


# ------------------------------------------------------------------------------ the canvas


def _layer(outputs: Outputs, name: str) -> gpd.GeoDataFrame | None:
    """Layer ``name`` when the run wrote it with features, else None."""
    if not outputs.has(name):
        return None
    frame = outputs.layer(name)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    return frame if len(frame) else None


def _extent(
    frames: Iterable[gpd.GeoDataFrame | None], *, pad: float = 0.1, min_span: float = 800.0
) -> tuple[float, float, float, float] | None:
    boxes = [f.total_bounds for f in frames if f is not None and len(f)]
    if not boxes:
        return None
    b = np.array(boxes)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = b[:, 2].max(), b[:, 3].max()
    w, h = max(x1 - x0, min_span), max(y1 - y0, min_span)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = w * (1 + 2 * pad), h * (1 + 2 * pad)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _canvas(extent: tuple[float, float, float, float]) -> tuple[Figure, Any, tuple]:
    """A figure whose map fills the page width, the extent widened to the figure's shape."""
    x0, y0, x1, y1 = extent
    w, h = x1 - x0, y1 - y0
    height = min(max(WIDTH_IN * h / w, MIN_HEIGHT_IN), MAX_HEIGHT_IN)
    ratio = WIDTH_IN / height
    if w / h < ratio:  # too tall: widen
        cx, w = (x0 + x1) / 2, h * ratio
        x0, x1 = cx - w / 2, cx + w / 2
    else:  # too wide: heighten
        cy, h = (y0 + y1) / 2, w / ratio
        y0, y1 = cy - h / 2, cy + h / 2
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig, ax, (x0, y0, x1, y1)


def _clip(frame: gpd.GeoDataFrame, extent: tuple) -> gpd.GeoDataFrame:
    x0, y0, x1, y1 = extent
    return frame.cx[x0:x1, y0:y1]


def _background(ax: Any, outputs: Outputs, extent: tuple) -> None:
    """The study area (light fill, dashed outline) and the streets in light grey."""
    area = _layer(outputs, "study_area")
    if area is not None:
        area.plot(ax=ax, color="#f7f5f0", edgecolor="none", zorder=0)
    streets = _layer(outputs, "streets")
    if streets is not None:
        streets = _clip(streets, extent)
        major = streets.get("highway", pd.Series("", index=streets.index)).astype(str)
        is_major = major.str.match(r"^(motorway|trunk|primary|secondary|tertiary)")
        if (~is_major).any():
            streets[~is_major].plot(ax=ax, color="#d4d4d4", linewidth=0.35, zorder=1)
        if is_major.any():
            streets[is_major].plot(ax=ax, color="#b8b8b8", linewidth=0.9, zorder=1)
    if area is not None:
        area.boundary.plot(ax=ax, color="#555555", linewidth=0.9, linestyle="--", zorder=2)


def _scale_bar(ax: Any, extent: tuple) -> None:
    x0, y0, x1, y1 = extent
    w, h = x1 - x0, y1 - y0
    length = nice_length(w)
    bx, by, bh = x0 + 0.03 * w, y0 + 0.045 * h, 0.012 * h
    ax.add_patch(
        Rectangle(
            (bx - 0.012 * w, by - 0.03 * h),
            length + 0.024 * w + 0.05 * w,
            0.085 * h,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=8,
        )
    )
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 2, by),
                length / 2,
                bh,
                facecolor="black" if i == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
                zorder=9,
            )
        )
    unit_km = length >= 1000
    for pos in (0.0, length / 2, length):
        value = pos / 1000 if unit_km else pos
        ax.text(bx + pos, by + bh * 1.6, format_number(value), fontsize=6.5, ha="center", zorder=9)
    ax.text(bx + length + 0.012 * w, by, "km" if unit_km else "m", fontsize=6.5, zorder=9)


def _north_arrow(ax: Any) -> None:
    ax.annotate(
        "",
        xy=(0.965, 0.955),
        xytext=(0.965, 0.865),
        xycoords="axes fraction",
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 3, "headwidth": 9},
        zorder=9,
    )
    ax.text(
        0.965,
        0.83,
        _("N"),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        path_effects=HALO,
        zorder=9,
    )


def _finish(fig: Figure, ax: Any, extent: tuple, *, legend: list | None = None, **kw: Any) -> str:
    """Scale bar, north arrow, attribution, legend; the figure as a PNG data URI."""
    _scale_bar(ax, extent)
    _north_arrow(ax)
    ax.text(
        0.995,
        0.006,
        _("© OpenStreetMap contributors (ODbL)"),
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=5.5,
        color="#333333",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 1.2},
        zorder=9,
    )
    if legend:
        ncol = min(len(legend), kw.get("ncol", 2))
        rows = math.ceil(len(legend) / ncol)
        extra = 0.3 + 0.17 * rows
        width, height = fig.get_size_inches()
        fig.set_size_inches(width, height + extra)
        ax.set_position((0, extra / (height + extra), 1, height / (height + extra)))
        leg = fig.legend(
            handles=legend,
            loc="lower left",
            bbox_to_anchor=(0.01, 0.0),
            ncol=ncol,
            fontsize=7,
            title=kw.get("title"),
            title_fontsize=7.5,
            alignment="left",
            frameon=False,
            borderaxespad=0.3,
            columnspacing=2.0,
        )
        leg.get_title().set_fontweight("bold")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _labels(ax: Any, frame: gpd.GeoDataFrame, texts: Iterable[str], *, size: float = 6.5) -> None:
    """Label features, moving a label aside when it would sit on one already placed."""
    x0, x1 = ax.get_xlim()
    width_in = ax.get_figure().get_size_inches()[0] * ax.get_position().width
    per_point = (x1 - x0) / (width_in * 72)  # metres per typographic point
    placed: list[tuple[float, float, float]] = []  # x, y, half-width of each label
    offsets = ((3, 3), (3, -10), (-12, 3), (-12, -10), (3, 13), (3, -20), (14, 3))
    for geom, text in zip(frame.geometry, texts, strict=True):
        point = geom.representative_point() if geom.geom_type != "Point" else geom
        half = len(text) * size * 0.3 * per_point
        choice = offsets[0]
        for dx, dy in offsets:
            lx, ly = point.x + (dx * per_point) + half, point.y + dy * per_point
            if all(
                abs(lx - px) > (half + ph) or abs(ly - py) > size * 1.1 * per_point
                for px, py, ph in placed
            ):
                choice = (dx, dy)
                break
        dx, dy = choice
        placed.append((point.x + dx * per_point + half, point.y + dy * per_point, half))
        ax.annotate(
            text,
            (point.x, point.y),
            xytext=choice,
            textcoords="offset points",
            fontsize=size,
            path_effects=HALO,
            zorder=7,
        )


def _swatch(colour: str, label: str, *, kind: str = "patch", **kw: Any) -> Any:
    if kind == "line":
        return Line2D([], [], color=colour, label=label, linewidth=kw.get("lw", 2.0))
    if kind == "point":
        return Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markerfacecolor=colour,
            markeredgecolor=kw.get("edge", "white"),
            markersize=kw.get("size", 6),
            label=label,
        )
    return Patch(
        facecolor=colour, edgecolor=kw.get("edge", "#444444"), label=label, alpha=kw.get("a", 1)
    )


# ------------------------------------------------------------------------------ the maps


def centres_map(outputs: Outputs) -> MapImage | None:
    """Retail centres over the commercial density (all units, per hectare)."""
    centres = _layer(outputs, "retail_centres")
    units = _layer(outputs, "commercial_units")
    raster = outputs.raster("commercial_density.tif") or outputs.raster("commercial_density")
    if centres is None and units is None:
        return None
    extent = _extent([units, centres])
    assert extent is not None
    fig, ax, extent = _canvas(extent)
    _background(ax, outputs, extent)
    legend: list = []
    if raster is not None and raster.exists():
        import rasterio

        with rasterio.open(raster) as src:
            band = src.read(1, masked=True).astype(float)
            b = src.bounds
        top = float(band.max()) if band.count() else 0.0
        if top > 0:
            cmap = ListedColormap(
                ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"]
            ).with_extremes(under=(1, 1, 1, 0), bad=(1, 1, 1, 0))
            image = ax.imshow(
                band.filled(np.nan),
                extent=(b.left, b.right, b.bottom, b.top),
                cmap=cmap,
                vmin=top / 20,
                vmax=top,
                alpha=0.85,
                zorder=3,
                interpolation="nearest",
            )
            cax = ax.inset_axes((0.905, 0.16, 0.02, 0.3))
            bar = fig.colorbar(
                image,
                cax=cax,
                format=FuncFormatter(lambda v, _pos: format_number(v, decimals=1)),
            )
            bar.ax.tick_params(labelsize=6)
            bar.set_label(_("Commercial units per hectare"), fontsize=6.5, path_effects=HALO)
            bar.ax.yaxis.set_label_position("left")
    elif units is not None:
        _clip(units, extent).plot(ax=ax, color="#e6550d", markersize=3, zorder=3)
        legend.append(_swatch("#e6550d", _("Commercial unit"), kind="point", size=4))
    if centres is not None:
        centres.boundary.plot(ax=ax, color="#08306b", linewidth=1.4, zorder=5)
        legend.append(_swatch("none", _("Retail centre (CDRC method)"), edge="#08306b"))
        names = centres.get("name", pd.Series("", index=centres.index)).fillna("").astype(str)
        ranks = centres.get("rank", pd.Series(range(1, len(centres) + 1), index=centres.index))
        _labels(ax, centres, [f"{r}. {n}".rstrip(". ") for r, n in zip(ranks, names, strict=True)])
    uri = _finish(fig, ax, extent, legend=legend, title=_("Legend"))
    return MapImage(
        "centres",
        _("Retail centres and commercial density"),
        _(
            "Retail centres delineated by the CDRC method, numbered by rank, over the "
            "kernel density of commercial units (quartic kernel)."
        ),
        uri,
    )


def vacancy_map(outputs: Outputs) -> MapImage | None:
    """Vacant units coloured by priority class, the first ten numbered by rank."""
    units = _layer(outputs, "vacant_units")
    if units is None:
        return None
    centres = _layer(outputs, "retail_centres")
    fig, ax, extent = _canvas(_extent([units], min_span=1000.0))  # type: ignore[arg-type]
    _background(ax, outputs, extent)
    if centres is not None:
        centres.plot(ax=ax, color="#c6dbef", edgecolor="#6baed6", linewidth=0.6, zorder=3)
    rank = units["rank"] if "rank" in units else pd.Series(np.arange(1, len(units) + 1))
    classes = priority_classes(rank.reset_index(drop=True)).to_numpy()
    legend = []
    for cls in ("low", "medium", "high"):  # high on top
        part = units[classes == cls]
        if len(part):
            part.plot(
                ax=ax,
                color=PRIORITY_COLOURS[cls],
                markersize=38 if cls == "high" else 26,
                edgecolor="#333333",
                linewidth=0.5,
                zorder=6,
            )
    for cls in ("high", "medium", "low"):
        n = int((classes == cls).sum())
        legend.append(
            _swatch(
                PRIORITY_COLOURS[cls],
                f"{_(PRIORITY_LABELS[cls])} ({format_number(n)})",
                kind="point",
                edge="#333333",
                size=7,
            )
        )
    if centres is not None:
        legend.append(_swatch("#c6dbef", _("Retail centre"), edge="#6baed6"))
    top = units.assign(_r=rank.to_numpy()).sort_values("_r").head(10)
    _labels(ax, top, [format_number(r) for r in top["_r"]], size=7)
    uri = _finish(fig, ax, extent, legend=legend, title=_("Vacant units"))
    return MapImage(
        "vacancy",
        _("Vacant units by reactivation priority"),
        _(
            "Priority classes are thirds of the ranking (high: the first third); the "
            "numbers are the ranks of the first ten units."
        ),
        uri,
    )


def cycling_map(outputs: Outputs) -> MapImage | None:
    """The bike network by traffic stress (LTS 1-4) and the missing links, numbered."""
    network = _layer(outputs, "bike_network")
    if network is None:
        return None
    gaps = _layer(outputs, "bike_gaps")
    fig, ax, extent = _canvas(_core_extent(network))
    _background(ax, outputs, extent)
    lts = pd.to_numeric(network["lts"], errors="coerce") if "lts" in network else None
    legend = []
    for level in (4, 3, 2, 1):
        part = network[lts == level] if lts is not None else network.iloc[0:0]
        if len(part):
            part.plot(
                ax=ax,
                color=STRESS_COLOURS[level - 1],
                linewidth=1.4 if level <= 2 else 1.0,
                zorder=3 + (5 - level) / 10,
            )
    for level in (1, 2, 3, 4):
        legend.append(_swatch(STRESS_COLOURS[level - 1], _(LTS_LABELS[level - 1]), kind="line"))
    if gaps is not None:
        gaps.plot(ax=ax, color="#2b2b2b", linewidth=3.2, zorder=6)
        gaps.plot(ax=ax, color="#e7298a", linewidth=1.8, zorder=6.1)
        ranks = gaps["rank"] if "rank" in gaps else pd.Series(range(1, len(gaps) + 1))
        _labels(ax, gaps, [format_number(r) for r in ranks], size=7)
        legend.append(_swatch("#e7298a", _("Missing link (numbered by priority)"), kind="line"))
    uri = _finish(fig, ax, extent, legend=legend, title=_("Level of traffic stress"), ncol=1)
    return MapImage(
        "cycling",
        _("Low-stress cycling network and missing links"),
        _(
            "Streets and paths open to bicycles by level of traffic stress (LTS, "
            "Furth/Mekuria); the low-stress network is LTS 1–2."
        ),
        uri,
    )


def circuit_map(outputs: Outputs) -> MapImage | None:
    """The district's cycling circuit and its info points over the low-stress network."""
    circuits = _layer(outputs, "bike_circuits")
    points = _layer(outputs, "info_points")
    if circuits is None and points is None:
        return None
    network = _layer(outputs, "bike_network")
    fig, ax, extent = _canvas(_extent([circuits, points], min_span=1000.0))  # type: ignore[arg-type]
    _background(ax, outputs, extent)
    legend = []
    if network is not None and "lts" in network:
        low = network[pd.to_numeric(network["lts"], errors="coerce") <= 2]
        if len(low):
            _clip(low, extent).plot(ax=ax, color="#a1d99b", linewidth=1.0, zorder=3)
            legend.append(_swatch("#a1d99b", _("Low-stress network (LTS 1–2)"), kind="line"))
    if circuits is not None:
        circuits.plot(ax=ax, color="#6a3d9a", linewidth=2.4, zorder=5)
        legend.append(_swatch("#6a3d9a", _("Cycling circuit"), kind="line", lw=2.6))
    if points is not None:
        points.plot(
            ax=ax, color="#ff7f00", markersize=60, edgecolor="black", linewidth=0.7, zorder=7
        )
        ids = points["point_id"] if "point_id" in points else range(1, len(points) + 1)
        _labels(ax, points, [format_number(i) for i in ids], size=7.5)
        legend.append(
            _swatch("#ff7f00", _("Info point (numbered)"), kind="point", edge="black", size=8)
        )
    uri = _finish(fig, ax, extent, legend=legend, title=_("Legend"))
    return MapImage(
        "circuit",
        _("Cycling circuit and info points"),
        _("The circuit links the district's key places; info points are numbered."),
        uri,
    )


def firms_map(outputs: Outputs) -> MapImage | None:
    """Respondent firms as published (H3 cells of at least k firms) and the sector clusters."""
    cells = _layer(outputs, "firms")
    clusters = _layer(outputs, "firm_clusters")
    if cells is None and clusters is None:
        return None
    polys = None
    if cells is not None and "cell" in cells:
        from geodistrict.hexagons import cell_polygons

        polys = gpd.GeoDataFrame(
            {"respondents": pd.to_numeric(cells["respondents"], errors="coerce").to_numpy()},
            geometry=cell_polygons(list(cells["cell"].astype(str)), crs=cells.crs),
            crs=cells.crs,
        )
    fig, ax, extent = _canvas(_extent([polys, clusters], min_span=1500.0))  # type: ignore[arg-type]
    _background(ax, outputs, extent)
    legend = []
    if polys is not None and len(polys):
        values = polys["respondents"]
        bins = _class_breaks(values)
        blues = ["#c6dbef", "#6baed6", "#2171b5", "#08306b"][-(len(bins) - 1) :]
        order = (
            pd.to_numeric(cells["h3_resolution"], errors="coerce").to_numpy()  # type: ignore[index]
            if "h3_resolution" in cells  # type: ignore[operator]
            else np.zeros(len(polys))
        )
        polys = polys.assign(_res=order).sort_values("_res")  # coarse cells under fine ones
        values = polys["respondents"]
        for i, (lo, hi) in enumerate(itertools.pairwise(bins)):
            low = lo if i == 0 else lo + 1
            part = polys[(values >= low) & (values <= hi)]
            colour = blues[i]
            if len(part):
                part.plot(
                    ax=ax, color=colour, edgecolor="white", linewidth=0.8, alpha=0.8, zorder=4
                )
            label = (
                _("{n} firms").format(n=format_number(hi))
                if low >= hi
                else _("{low}–{high} firms").format(low=format_number(low), high=format_number(hi))
            )
            legend.append(_swatch(colour, label, edge="white"))
    if clusters is not None:
        sector = _sector_names(clusters)
        for i, name in enumerate(dict.fromkeys(sector)):
            colour = SECTOR_COLOURS[(i + 2) % len(SECTOR_COLOURS)]
            part = clusters[sector.to_numpy() == name]
            part.boundary.plot(ax=ax, color=colour, linewidth=2.2, linestyle="--", zorder=5)
            legend.append(
                _swatch(colour, _("Cluster: {sector}").format(sector=name), kind="line", lw=2.2)
            )
    uri = _finish(fig, ax, extent, legend=legend, title=_("Respondent firms per cell"))
    return MapImage(
        "firms",
        _("Firms as published: respondents per cell and sector clusters"),
        _(
            "Positions of firms are published only as H3 cells holding at least k "
            "respondents; no individual firm is shown."
        ),
        uri,
    )


def isochrones_map(outputs: Outputs) -> MapImage | None:
    """Walking isochrones (5, 10, 15 minutes) around the retail centres."""
    iso = _layer(outputs, "isochrones")
    if iso is None or "minutes" not in iso:
        return None
    walk = iso
    if "mode" in iso:
        walk = iso[iso["mode"].astype(str) == "walk"]
    if "source_kind" in walk and (walk["source_kind"].astype(str) == "centre").any():
        walk = walk[walk["source_kind"].astype(str) == "centre"]
    if walk.empty:
        return None
    fig, ax, extent = _canvas(_extent([walk]))  # type: ignore[arg-type]
    _background(ax, outputs, extent)
    minutes = sorted(pd.to_numeric(walk["minutes"], errors="coerce").dropna().unique())
    colours = ["#fd8d3c", "#fdbe85", "#feedde", "#fff5eb"]
    legend = []
    for i, m in reversed(list(enumerate(minutes))):
        part = walk[pd.to_numeric(walk["minutes"], errors="coerce") == m].dissolve()
        colour = colours[min(i, len(colours) - 1)]
        part.plot(ax=ax, color=colour, alpha=0.75, edgecolor="#e6550d", linewidth=0.6, zorder=3)
    for i, m in enumerate(minutes):
        colour = colours[min(i, len(colours) - 1)]
        legend.append(
            _swatch(colour, _("within {minutes} minutes").format(minutes=format_number(m)))
        )
    centres = _layer(outputs, "retail_centres")
    if centres is not None:
        centres.boundary.plot(ax=ax, color="#08306b", linewidth=1.0, zorder=5)
        legend.append(_swatch("none", _("Retail centre"), edge="#08306b"))
    uri = _finish(fig, ax, extent, legend=legend, title=_("Walking time"))
    return MapImage(
        "isochrones",
        _("Walking time from the retail centres"),
        _("Areas reached on foot along the street network at 4.8 km/h."),
        uri,
    )


def _core_extent(frame: gpd.GeoDataFrame, share: float = 0.96) -> tuple:
    """The extent of the central ``share`` of a layer's features (outliers left out)."""
    centres = frame.geometry.representative_point()
    tail = (1 - share) / 2 * 100
    xs, ys = centres.x.to_numpy(), centres.y.to_numpy()
    x0, x1 = np.percentile(xs, [tail, 100 - tail])
    y0, y1 = np.percentile(ys, [tail, 100 - tail])
    box = gpd.GeoDataFrame(geometry=gpd.points_from_xy([x0, x1], [y0, y1]), crs=frame.crs)
    return _extent([box], min_span=1000.0)  # type: ignore[return-value]


def _sector_names(frame: pd.DataFrame) -> pd.Series:
    from geodistrict.i18n import get_language

    lang = get_language()
    for column in (f"sector_{lang}", "sector_en", "sector"):
        if column in frame:
            return frame[column].fillna("").astype(str)
    return pd.Series("", index=frame.index)


def _class_breaks(values: pd.Series, n: int = 4) -> list[float]:
    """Whole-number class limits (quantiles) of counts: class i is (b[i], b[i+1]]."""
    finite = values.dropna()
    if finite.empty:
        return [0.0, 0.0]
    qs = np.unique(np.round(np.quantile(finite, np.linspace(0, 1, n + 1))))
    return [float(q) for q in qs] if len(qs) > 1 else [float(qs[0]), float(qs[0])]


#: The report's maps, in order.
MAPS: tuple[Callable[[Outputs], MapImage | None], ...] = (
    centres_map,
    isochrones_map,
    vacancy_map,
    cycling_map,
    circuit_map,
    firms_map,
)


def district_maps(outputs: Outputs) -> dict[str, MapImage | None]:
    """Every map of the report (None where the district has nothing to show).

    A map that fails to draw is logged and left out, so one bad layer never
    stops the report.
    """
    out: dict[str, MapImage | None] = {}
    for draw in MAPS:
        key = draw.__name__.removesuffix("_map")
        try:
            out[key] = draw(outputs)
        except Exception:  # a map is optional; the report goes on
            log.exception("the %s map could not be drawn", key)
            out[key] = None
    return out

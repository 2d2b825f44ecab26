"""Plotly figures of the app: pure functions from a model (or tables) to a figure.

They read model outputs only (``metrics()``, ``households``, the soum rows,
the app's per-season log) and compute nothing the model does not already
define; they are kept free of Solara so that they can be tested and timed alone.

A figure is a plain dict ``{"data": [trace dicts], "layout": {...}}`` (what
plotly.js draws; ``go.Figure(fig)`` validates it). The app redraws every
figure every season, so they are built from numpy arrays the app keeps up to
date (:class:`~experiments.webapp.appmodel.AppModel`'s season log and cached
yearly tables), not from DataFrames, and without plotly's Python validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go

from model.species import SPECIES

if TYPE_CHECKING:
    from experiments.webapp.appmodel import AppModel

#: A figure: {"data": [trace dicts], "layout": {...}}.
Figure = dict[str, Any]

HEIGHT = 430
#: Figure width (px): fits one cell of SolaraViz's two-column grid in a 1280-px window
#: (the sidebar takes 400 px).
#: A plotly figure does not follow the size of its grid cell by itself.
WIDTH = 405
MARGIN = {"l": 58, "r": 15, "t": 56, "b": 96}
FONT = {"family": "DejaVu Sans, Liberation Sans, Arial, sans-serif", "size": 12}
SPECIES_COLOURS = {
    "sheep": "#4C78A8", "goat": "#F58518", "cattle": "#54A24B",
    "horse": "#B279A2", "camel": "#9D755D",
}
OUTCOME_COLOURS = {
    "poverty_headcount": "#D62728",
    "asset_poverty": "#1F77B4",
    "persistent_asset_poverty": "#17BECF",
    "herding_share": "#7F7F7F",
    "trap_share": "#9467BD",
    "herding_households": "#8C6D31",
}
PROGRAMME_COLOURS = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2",
                     "#FF9DA6", "#9D755D", "#BAB0AC", "#EECA3B"]
A_COLOUR, B_COLOUR, DIFF_COLOUR = "#4C78A8", "#E45756", "#54A24B"
MNT_PER_KMNT_IN_BN = 1e-6  # kMNT -> billion MNT

_AXIS = {"gridcolor": "#EBEBEB", "linecolor": "#BBBBBB", "zerolinecolor": "#D0D0D0",
         "ticks": "outside", "tickcolor": "#BBBBBB", "automargin": True}
_COLORWAY = ["#4C78A8", "#F58518", "#E45756", "#72B7B2", "#54A24B", "#B279A2"]


def figure(traces: list[dict], title: str, *, height: int = HEIGHT, width: int | None = WIDTH,
           **layout) -> dict[str, Any]:
    """A figure dict ``{"data": traces, "layout": ...}`` in the app's style.

    Not validated here (plotly's Python validation costs ~1-5 ms a figure); the
    tests validate every figure with ``go.Figure(fig)``.
    """
    # Styling is written into the layout, with no named template (plotly.js draws
    # its own defaults for whatever is not set here).
    base = {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 14}},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": FONT,
        "colorway": _COLORWAY,
        "hoverlabel": {"font": {"size": 12}},
        "height": height,
        "width": width,
        "margin": MARGIN,
        # legend under the plot, so that it never covers the title or the data
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "xanchor": "left",
                   "x": 0.0, "font": {"size": 11}},
        "uirevision": "keep",  # keep the user's zoom when the data update
    }
    layout = {"annotations": [], "shapes": [], **base, **layout}
    for key in ("xaxis", "yaxis"):
        layout.setdefault(key, {})
    for key in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
        layout[key] = {**_AXIS, **layout[key]}
    return {"data": traces, "layout": layout}


def _note(text: str, visible: bool = True) -> dict:
    """A centred note (kept and switched off, rather than dropped, when not needed)."""
    return {"text": text, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5,
            "y": 0.5, "font": {"size": 13, "color": "#666"}, "visible": visible}


def _vline(x: float, colour: str, text: str) -> tuple[dict, dict]:
    shape = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
             "line": {"color": colour, "width": 2, "dash": "dash"}}
    note = {"x": np.log10(x), "y": 1, "xref": "x", "yref": "paper", "text": text,
            "showarrow": False, "xanchor": "right", "yanchor": "top",
            "font": {"color": colour, "size": 11}}
    return shape, note


def persistent_asset_poverty(model: AppModel, run_years: int = 3) -> pd.Series:
    """Share of the households living in the region in a year that were asset-poor at
    the end of it and of each of the ``run_years - 1`` years before; index = year.

    From the model's yearly panel (all households up to 20,000), followed by household
    id: households founded less than ``run_years`` years earlier count as not (yet)
    persistently poor, so the share is never above that year's asset poverty.
    """
    recs = model.panel_years()  # row 0 = initial
    if len(recs) < run_years + 1:
        return pd.Series(dtype=float)
    line = model.p["metrics.asset_poverty_line"]
    years, share = [], []
    for y in range(run_years, len(recs)):
        now = recs[y]
        run = (now["per_person"] < line) & (now["hid"] >= 0)
        for k in range(1, run_years):
            past = recs[y - k]
            m = min(past["hid"].size, run.size)
            same = np.zeros(run.size, dtype=bool)
            same[:m] = past["hid"][:m] == now["hid"][:m]
            poor = np.zeros(run.size, dtype=bool)
            poor[:m] = past["per_person"][:m] < line
            run &= same & poor
        years.append(y)
        share.append(float(run.sum() / max((now["hid"] >= 0).sum(), 1)))
    return pd.Series(share, index=years)


def seasonal_asset_poverty(model: AppModel) -> np.ndarray:
    """Share of households below the asset poverty line after each season (app log)."""
    return np.asarray(model.season_log.asset_poor)


def outcomes_figure(model: AppModel, trap_threshold: float | None = None) -> Figure:
    """Poverty headcount, asset poverty, persistent asset poverty, herding share over time,
    the trap share (households below ``trap_threshold`` SFU/person) if one is given, and
    on a second axis the demography: herding households each season and the year's
    entries into herding (households founded with animals, returns), with exits,
    households founded and dissolved in the hover text."""
    log = model.season_log
    traces: list[dict] = [{
        "type": "scatter", "x": log.time, "y": seasonal_asset_poverty(model),
        "name": "asset poverty (each season)", "mode": "lines",
        "line": {"color": OUTCOME_COLOURS["asset_poverty"], "width": 1, "dash": "dot"},
        "hovertemplate": "%{y:.1%}<extra>asset poverty, season</extra>",
    }]
    ts = model.yearly()
    if len(ts):
        for col, label in (("poverty_headcount", "poverty headcount"),
                           ("asset_poverty", "asset poverty"),
                           ("herding_share", "still herding")):
            traces.append({
                "type": "scatter", "x": ts["year"].to_numpy(), "y": ts[col].to_numpy(),
                "name": label, "mode": "lines+markers", "marker": {"size": 5},
                "line": {"color": OUTCOME_COLOURS[col],
                         "width": 2.5 if col != "herding_share" else 1.5},
                "hovertemplate": f"year %{{x}}: %{{y:.1%}}<extra>{label}</extra>",
            })
        pap = persistent_asset_poverty(model)
        if len(pap):
            traces.append({
                "type": "scatter", "x": pap.index.to_numpy(), "y": pap.to_numpy(),
                "name": "asset-poor 3 years running", "mode": "lines",
                "line": {"color": OUTCOME_COLOURS["persistent_asset_poverty"], "width": 2},
                "hovertemplate": "year %{x}: %{y:.1%}<extra>asset-poor 3 years running</extra>",
            })
    trap_years, trap = model.trap_share(trap_threshold) if trap_threshold else ((), ())
    if len(trap):
        traces.append({
            "type": "scatter", "x": trap_years, "y": trap,
            "name": f"trap share (< {trap_threshold:.1f} SFU/person)", "mode": "lines",
            "line": {"color": OUTCOME_COLOURS["trap_share"], "width": 2.5},
            "hovertemplate": "year %{x}: %{y:.1%}<extra>below the trap threshold</extra>",
        })
    # demography, on the right axis: herding households each season, and at each year
    # end (hover) the year's entries, exits, households founded and dissolved
    herding = {"type": "scatter", "x": log.time, "y": log.herding_households, "yaxis": "y2",
               "name": "herding households (right axis)", "mode": "lines",
               "legendgroup": "demography", "customdata": log.households,
               "line": {"color": OUTCOME_COLOURS["herding_households"], "width": 1.5},
               "hovertemplate": "%{y:,.0f} herding of %{customdata:,.0f} households"
                                "<extra>households</extra>"}
    traces.append(herding)
    if len(ts) and "entries" in ts:
        ends = 4 * ts["year"].to_numpy()
        flows = ts[["households", "entries", "exits", "households_formed",
                    "households_dissolved"]].to_numpy().tolist()
        traces.append({
            "type": "scatter", "x": ts["year"].to_numpy(),
            "y": np.asarray(log.herding_households)[ends], "yaxis": "y2", "mode": "markers",
            "marker": {"color": OUTCOME_COLOURS["herding_households"], "size": 4},
            "legendgroup": "demography", "showlegend": False, "customdata": flows,
            "hovertemplate": "year %{x}: %{y:,.0f} herding of %{customdata[0]:,.0f} "
                             "households<br>%{customdata[1]} entered herding (founded with "
                             "animals, returned), %{customdata[2]} left<br>%{customdata[3]} "
                             "households founded, %{customdata[4]} dissolved"
                             "<extra>demography</extra>",
        })
    title = "Poverty and assets over time"
    if not len(ts):
        title += "<br><sup>yearly values appear after the first winter</sup>"
    top = _nice_ceiling(1.15 * max(log.households, default=1))
    return figure(
        traces, title,
        yaxis={"tickformat": ".0%", "range": [0, 1.02], "title": {"text": "share of households"}},
        yaxis2={"overlaying": "y", "side": "right", "range": [0, top], "showgrid": False,
                "title": {"text": "households"}, "tickformat": ",.0f"},
        xaxis={"title": {"text": "year"}, "range": [0, max(model.years, 1)]},
    )


def _nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 4, 5, 8 or 10 x 10^k at least ``x`` (the right axis shares the
    left axis's ticks at 0, 1/2 and 1: these halve to round numbers)."""
    x = max(float(x), 1.0)
    k = 10.0 ** np.floor(np.log10(x))
    return float(next(m * k for m in (1, 2, 4, 5, 8, 10) if m * k >= x))


#: Bins of herd per person: 0.1 to 1000 SFU, log-spaced.
HERD_EDGES = np.logspace(-1, 3, 41)


def _herd_bins(per_person: np.ndarray) -> np.ndarray:
    """Households per bin of :data:`HERD_EDGES` (clipped to 0.1-999 SFU/person)."""
    k = np.searchsorted(HERD_EDGES, np.clip(per_person, 0.1, 999), side="right") - 1
    return np.bincount(np.clip(k, 0, HERD_EDGES.size - 2), minlength=HERD_EDGES.size - 1)


def herd_distribution_figure(model: AppModel, trap_threshold: float | None = None,
                             trap_source: str = "") -> Figure:
    """Histogram of herd per person (SFU, log scale) now and at the start, with the asset
    poverty line and, if given, the poverty-trap threshold (``trap_source`` names it)."""
    hh = model.households
    live = hh.in_scope  # households herding now or before (as the yearly metrics)
    persons = np.maximum(hh.persons, 1)
    line = model.p["metrics.asset_poverty_line"]
    edges = HERD_EDGES
    centres = np.sqrt(edges[:-1] * edges[1:])
    herding = hh.herding & live
    per_person = hh.herd_sfu / persons
    now = _herd_bins(per_person[herding])
    start = model.app_cache.get("herd bins at start")
    if start is None:  # the initial households, from the season log's first snapshot
        log = model.season_log
        at0 = log.herding[0]
        start = model.app_cache["herd bins at start"] = _herd_bins(
            log.herd_sfu[0][at0] / np.maximum(log.persons[0][at0], 1))
    shape, note = _vline(line, "#D62728", f"asset poverty line {line:g} SFU/person ")
    shapes, notes = [shape], [note]
    below = f"{(per_person[live] < line).mean():.0%} below the line"
    if trap_threshold:
        shape, note = _vline(trap_threshold, OUTCOME_COLOURS["trap_share"],
                             f"trap threshold {trap_threshold:.1f}" + (
                                 f" ({trap_source})" if trap_source else "") + " ")
        note.update(y=0.93)
        shapes.append(shape)
        notes.append(note)
        trapped = (np.where(herding, per_person, 0.0) < trap_threshold)[live].mean()
        below += f", {trapped:.0%} below the threshold"
    not_herding = int((live & ~herding).sum())
    traces = [
        {"type": "bar", "x": centres, "y": now, "width": np.diff(edges) * 0.92,
         "name": "now (herding households)", "marker": {"color": "#4C78A8"},
         "hovertemplate": "%{x:.1f} SFU/person: %{y} households<extra></extra>"},
        {"type": "scatter", "x": centres, "y": start, "name": "at start (herding)", "mode": "lines",
         "line": {"color": "#999", "shape": "hvh"}, "hoverinfo": "skip"},
    ]
    return figure(
        traces,
        f"Herd sizes after {model.last_season_label()}<br><sup>{below} · "
        f"{not_herding:,} of {int(live.sum()):,} not herding</sup>",
        xaxis={"type": "log", "range": [-1, 3],
               "title": {"text": "herd per person (sheep forage units, log scale)"}},
        yaxis={"title": {"text": "households"}},
        shapes=shapes, annotations=notes, bargap=0,
    )


def stock_figure(model: AppModel) -> Figure:
    """Livestock by species after each season (thousand head, stacked)."""
    log = model.season_log
    stock = np.array(log.stock) / 1000.0
    traces = [
        {"type": "scatter", "x": log.time, "y": stock[:, j], "name": sp, "mode": "lines",
         "stackgroup": "stock", "line": {"color": SPECIES_COLOURS[sp], "width": 1},
         "hovertemplate": f"%{{y:.1f}} thousand<extra>{sp}</extra>"}
        for j, sp in enumerate(SPECIES)
    ]
    return figure(
        traces, "Livestock by species (simulated households)",
        xaxis={"title": {"text": "year"}, "range": [0, max(model.years, 1)]},
        yaxis={"title": {"text": "thousand head"}, "rangemode": "tozero"},
    )


def soum_grid(model: AppModel, columns: int = 8) -> pd.DataFrame:
    """Schematic positions of the soums: one block of tiles per aimag, in NSO code order."""
    region = model.region
    rows = []
    y0 = 0
    for a, aimag in enumerate(region.aimags):
        idx = np.flatnonzero(region.soum_aimag == a)
        for k, s in enumerate(idx):
            rows.append({"soum": int(s), "name": region.soum_names[s], "aimag": aimag,
                         "col": k % columns, "row": y0 + k // columns})
        y0 += int(np.ceil(len(idx) / columns)) + 1  # a blank row between aimags
    return pd.DataFrame(rows)


SOUM_VIEWS = ("winter mortality", "asset poverty", "still herding")
#: Colour scales as plotly (Python) defines them, light = low: plotly.js's scales of the
#: same names run the other way for some (YlOrRd, Blues), so the app sends them in full.
_SCALES = {name: plotly.colors.get_colorscale(name) for name in ("YlOrRd", "Blues", "Greens")}


def soum_values(model: AppModel, view: str) -> tuple[np.ndarray, str, str]:
    """(value per soum, colour-bar title, colour scale) for one of :data:`SOUM_VIEWS`."""
    hh = model.households
    n = model.n_soums
    if view == SOUM_VIEWS[0]:
        mortality = model.last_winter_soum_mortality()
        return (np.full(n, np.nan) if mortality is None else mortality), "SFU lost", "YlOrRd"
    live = hh.in_scope  # households of the soum now, herding now or before (as the metrics)
    count = np.maximum(np.bincount(hh.soum, weights=live, minlength=n), 1)
    if view == SOUM_VIEWS[1]:
        poor = live & (hh.herd_sfu / np.maximum(hh.persons, 1) < model.p["metrics.asset_poverty_line"])
        return np.bincount(hh.soum, weights=poor, minlength=n) / count, "asset-poor", "Blues"
    herding = live & hh.herding
    return np.bincount(hh.soum, weights=herding, minlength=n) / count, "herding", "Greens"


def _soum_tiles(model: AppModel) -> dict[str, Any]:
    """What does not change during a run: tile positions, names, aimag labels."""
    tiles = model.app_cache.get("soum tiles")
    if tiles is None:
        grid = soum_grid(model)
        tiles = model.app_cache["soum tiles"] = {
            "soum": grid["soum"].to_numpy(), "col": grid["col"].to_numpy(),
            "row": grid["row"].to_numpy(), "names": grid["name"].tolist(),
            "aimags": grid["aimag"].tolist(), "short": [n[:8] for n in grid["name"]],
            "labels": [{"x": -0.6, "y": g["row"].min() - 0.75, "text": f"<b>{aimag}</b>",
                        "showarrow": False, "xanchor": "left", "font": {"size": 11}}
                       for aimag, g in grid.groupby("aimag", sort=False)],
            "xmax": float(grid["col"].max()) + 0.6,
        }
    return tiles


def soum_figure(model: AppModel, view: str = SOUM_VIEWS[0]) -> Figure:
    """The soums as a schematic tile map (no shapefiles offline), coloured by ``view``."""
    tiles = _soum_tiles(model)
    values, cbar, scale = soum_values(model, view)
    value = np.nan_to_num(values[tiles["soum"]], nan=0.0)  # JSON has no NaN
    cmax = 1.0 if view != SOUM_VIEWS[0] else max(0.3, float(value.max(initial=0.0)))
    no_winter = view == SOUM_VIEWS[0] and model.last_winter_soum_mortality() is None
    annotations = [*tiles["labels"],
                   _note("Mortality appears after the first winter", visible=no_winter)]
    trace = {
        "type": "scatter", "x": tiles["col"], "y": tiles["row"],
        "mode": "markers+text",
        "marker": {"symbol": "square", "size": 44, "color": value,
                   "colorscale": _SCALES[scale], "cmin": 0, "cmax": cmax,
                   "line": {"color": "#fff", "width": 1},
                   "colorbar": {"title": {"text": cbar}, "tickformat": ".0%", "thickness": 12}},
        "text": tiles["short"], "textfont": {"size": 8, "color": "#111"},
        "customdata": [list(c) for c in zip(tiles["names"], tiles["aimags"], value.tolist(),
                                            strict=True)],
        "hovertemplate": "%{customdata[0]} (%{customdata[1]}): %{customdata[2]:.1%}<extra></extra>",
        "showlegend": False,
    }
    when = "last winter" if view == SOUM_VIEWS[0] else model.last_season_label()
    return figure(
        [trace], f"Soums: {view}<br><sup>{when}; a schematic of the soums, not a map</sup>",
        xaxis={"visible": False, "range": [-0.7, tiles["xmax"]]},
        yaxis={"visible": False, "autorange": "reversed"},
        annotations=annotations,
    )


def household_figure(model: AppModel, hid: int) -> Figure:
    """One household (by id) over its life: herd, cash and debt, transfers and payouts
    each season, and the asset poverty line for its members of the time."""
    d = model.household_seasons(hid)
    t = d["time"]
    line = model.p["metrics.asset_poverty_line"] * np.maximum(d["persons"], 1)
    traces = [
        {"type": "scatter", "x": t, "y": d["herd_sfu"], "name": "herd (SFU)", "mode": "lines",
         "line": {"color": "#54A24B", "width": 2.5},
         "hovertemplate": "%{y:.0f} SFU<extra>herd</extra>"},
        {"type": "scatter", "x": t, "y": line, "name": "asset poverty line (its members)",
         "mode": "lines",
         "line": {"color": "#D62728", "dash": "dash", "width": 1, "shape": "hv"},
         "hovertemplate": "%{y:.0f} SFU<extra>asset poverty line</extra>"},
        {"type": "scatter", "x": t, "y": d["cash"] / 1000.0, "name": "cash", "mode": "lines",
         "line": {"color": "#4C78A8"}, "xaxis": "x2", "yaxis": "y2",
         "hovertemplate": "%{y:.2f} M MNT<extra>cash</extra>"},
        {"type": "scatter", "x": t, "y": d["debt"] / 1000.0, "name": "debt", "mode": "lines",
         "line": {"color": "#D62728"}, "xaxis": "x2", "yaxis": "y2",
         "hovertemplate": "%{y:.2f} M MNT<extra>debt</extra>"},
        {"type": "bar", "x": t, "y": d["paid"] / 1000.0, "name": "transfers + payouts",
         "width": 0.2, "marker": {"color": "#F58518"}, "xaxis": "x2", "yaxis": "y2",
         "hovertemplate": "%{y:.2f} M MNT<extra>received this season</extra>"},
    ]
    # from the household's first season (founded during the run: from its founding)
    xr = [max(float(t[0]) - 0.25, 0.0) if t.size else 0.0, max(model.years, 1)]
    return figure(
        traces, f"Household {hid}: herd, cash and debt each season", height=HEIGHT - 20,
        xaxis={"range": xr, "anchor": "y", "matches": "x2", "showticklabels": False},
        yaxis={"domain": [0.55, 1.0], "title": {"text": "herd (SFU)"}, "rangemode": "tozero"},
        xaxis2={"range": xr, "anchor": "y2", "title": {"text": "year"}},
        yaxis2={"domain": [0.0, 0.47], "title": {"text": "million MNT"}},
        annotations=[_note(f"Household {hid} has not lived in the region in this run",
                           visible=not t.size)],
    )


def fiscal_figure(model: AppModel) -> Figure:
    """Fiscal cost per programme and year (billion MNT, stacked)."""
    ts = model.yearly()
    cols = [c for c in ts.columns if c.startswith("fiscal_cost_")] if len(ts) else []
    traces = [
        {"type": "bar", "x": ts["year"].to_numpy(), "y": ts[col].to_numpy() * MNT_PER_KMNT_IN_BN,
         "name": col.removeprefix("fiscal_cost_"),
         "marker": {"color": PROGRAMME_COLOURS[k % len(PROGRAMME_COLOURS)]},
         "hovertemplate": "year %{x}: %{y:.2f} bn MNT<extra>%{fullData.name}</extra>"}
        for k, col in enumerate(cols)
    ]
    total = float(ts["fiscal_cost"].sum()) * MNT_PER_KMNT_IN_BN if len(ts) else 0.0
    notes = [_note("No programme cost yet" + (
        "" if model.settings["policies"] else " — no policy is switched on"), visible=not cols)]
    return figure(
        traces, f"Fiscal cost by programme<br><sup>total so far {total:,.2f} bn MNT</sup>",
        xaxis={"title": {"text": "year"}, "range": [0.4, max(model.years, 1) + 0.6]},
        yaxis={"title": {"text": "billion MNT per year"}, "rangemode": "tozero"},
        barmode="stack", annotations=notes,
    )


# ----------------------------------------------------------------------------- side by side

COMPARE_OUTCOMES = {
    "poverty_headcount": ("poverty headcount", ".1%"),
    "asset_poverty": ("asset poverty", ".1%"),
    "herding_share": ("still herding", ".1%"),
    "herding_households": ("herding households", ",.0f"),
    "herd_sfu_median": ("median herd (SFU)", ",.0f"),
    "fiscal_cost": ("fiscal cost (bn MNT / year)", ",.2f"),
}


def _outcome(model: AppModel, col: str) -> pd.Series:
    ts = model.yearly()
    if not len(ts) or col not in ts:
        return pd.Series(dtype=float)
    s = ts.set_index("year")[col]
    return s * MNT_PER_KMNT_IN_BN if col == "fiscal_cost" else s


def compare_figure(a: AppModel, b: AppModel, col: str, names: Sequence[str] = ("A", "B"),
                   width: int | None = WIDTH) -> Figure:
    """Outcome ``col`` of two runs with the same seed, and their difference B − A."""
    label, fmt = COMPARE_OUTCOMES[col]
    sa, sb = _outcome(a, col), _outcome(b, col)
    common = sa.index.intersection(sb.index)
    diff = (sb[common] - sa[common]).to_numpy()
    traces = [
        {"type": "scatter", "x": sa.index.to_numpy(), "y": sa.to_numpy(), "name": names[0],
         "mode": "lines+markers", "line": {"color": A_COLOUR, "width": 2.5}, "marker": {"size": 4}},
        {"type": "scatter", "x": sb.index.to_numpy(), "y": sb.to_numpy(), "name": names[1],
         "mode": "lines+markers", "line": {"color": B_COLOUR, "width": 2.5}, "marker": {"size": 4}},
        {"type": "bar", "x": common.to_numpy(), "y": diff, "name": f"{names[1]} − {names[0]}",
         "marker": {"color": "#777"}, "xaxis": "x2", "yaxis": "y2"},
    ]
    years = max(a.years, b.years, 1)
    xr = [0.4, years + 0.6]
    return figure(
        traces, label[0].upper() + label[1:], height=HEIGHT + 20, width=width,
        xaxis={"range": xr, "anchor": "y", "matches": "x2", "showticklabels": False},
        yaxis={"domain": [0.4, 1.0], "tickformat": fmt, "title": {"text": label.split(" (")[0]}},
        xaxis2={"range": xr, "anchor": "y2", "title": {"text": "year"}},
        yaxis2={"domain": [0.0, 0.32], "tickformat": fmt, "title": {"text": "B − A"},
                "zeroline": True, "zerolinecolor": "#666"},
        annotations=[_note("Yearly outcomes appear after the first winter",
                           visible=not len(common))],
    )


def _layout(fig: go.Figure, title: str, *, height: int = HEIGHT, **kwargs) -> go.Figure:
    """Apply the app's look to a figure built elsewhere (Results page)."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 14}},
        template="none", paper_bgcolor="white", plot_bgcolor="white", font=FONT,
        colorway=_COLORWAY, height=height, margin=MARGIN,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
        **kwargs,
    )
    fig.update_xaxes(**_AXIS)
    fig.update_yaxes(**_AXIS)
    return fig

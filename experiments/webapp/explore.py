"""Explore page: Mesa's SolaraViz around :class:`AppModel`, one step = one season.

Sidebar: SolaraViz's controls (Reset / Play / Step) and model parameters
(seed, region, years, climate, key parameters), then a status card and the
policy editor. Changes apply when Reset is pressed (Mesa's convention); the
status card says when the policy editor differs from the running model.
Main area (draggable grid): outcomes over time, herd-size distribution, soum
view, livestock by species, household inspector, fiscal cost by programme.
"""

from __future__ import annotations

import json
from pathlib import Path

import mesa.visualization.solara_viz as _solara_viz
import numpy as np
import pandas as pd
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from experiments.webapp import figures
from experiments.webapp.appmodel import AppModel, model_params, results_root
from experiments.webapp.plotly_view import Plot
from experiments.webapp.policy_editor import PolicyEditor

#: Trap threshold (SFU per person) chosen on the Results page, per browser session.
trap_threshold = solara.reactive(None)  # {"value": float, "source": str} or None

PLAY_INTERVAL_MS = 20
#: Grid cell height in SolaraViz's rows of 30 px (+10 px gaps): 13 rows = 510 px.
GRID_ROWS = 13


def _grid_layout(num_components: int) -> list[dict]:
    """Two columns of cells tall enough for a figure with its legend below it."""
    return [{"i": i, "w": 6, "h": GRID_ROWS, "moved": False, "x": 6 * (i % 2),
             "y": GRID_ROWS * (i // 2)} for i in range(num_components)]


# SolaraViz sizes every component 6 x 10 (390 px) and takes no layout argument; its
# ComponentsView looks this function up at render time, so replacing it sizes our cells.
_solara_viz.make_initial_grid_layout = _grid_layout


def latest_trap_threshold(root: Path | None = None) -> dict | None:
    """The newest ``results/*/trap/trap.json`` with a threshold, as {"value", "source"}."""
    root = root or results_root()
    best = None
    for path in root.glob("*/trap/trap.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        thr = data.get("threshold_sfu_per_person")
        if thr is None:
            continue
        mtime = path.stat().st_mtime
        if best is None or mtime > best[0]:
            best = (mtime, {"value": float(thr), "source": str(path.parent.parent.name)})
    return best[1] if best else None


def trap_series(model: AppModel, threshold: float) -> pd.Series:
    """Share of households below the trap threshold per year (experiments.trap.trap_share)."""
    from experiments.trap import trap_share

    panel = model.panel_frame()
    if panel.empty:
        return pd.Series(dtype=float)
    shares = trap_share(panel, threshold)
    shares = shares[shares["year"] > 0]
    return shares.set_index("year")["trap_share"]


# ------------------------------------------------------------------ grid components
# The views are Solara components, so SolaraViz does not wrap them in its own
# re-render-on-step wrapper: that wrapper subscribes each view to Mesa's
# update_counter, and Solara then renders the whole page once per subscriber
# (8 passes per season). Instead StatusCard alone listens to update_counter and
# bumps ``view_tick`` from an effect, which re-renders all views in one pass.

#: Bumped once per step/reset by StatusCard; every view reads it.
view_tick = solara.reactive(0)


@solara.component
def OutcomesView(model: AppModel):
    view_tick.get()
    thr = trap_threshold.value
    trap = trap_series(model, thr["value"]) if thr else None
    with solara.Column(gap="0px") as col:
        Plot(figures.outcomes_figure(model, trap))
        if thr:
            solara.Text(f"Trap share: households below {thr['value']:.1f} SFU/person "
                        f"(threshold from results/{thr['source']}, `herdtrap trap`).",
                        style={"font-size": "12px", "color": "#555"})
        else:
            solara.Text("Trap share: no threshold yet — run `herdtrap trap RESULTS_DIR` on a batch "
                        "with a household panel, then pick it on the Results page.",
                        style={"font-size": "12px", "color": "#555"})
    return col


@solara.component
def HerdDistributionView(model: AppModel):
    view_tick.get()
    return Plot(figures.herd_distribution_figure(model))


@solara.component
def StockView(model: AppModel):
    view_tick.get()
    return Plot(figures.stock_figure(model))


@solara.component
def SoumView(model: AppModel):
    view_tick.get()
    view, set_view = solara.use_state(figures.SOUM_VIEWS[0])
    with solara.Column(gap="0px") as col:
        solara.ToggleButtonsSingle(value=view, values=list(figures.SOUM_VIEWS), on_value=set_view,
                                   dense=True)
        Plot(figures.soum_figure(model, view))
    return col


def _pick(model: AppModel, how: str) -> int:
    """A household to inspect: one that fell in, climbed out, or the poorest now."""
    log = model.season_log
    persons = np.maximum(model.households.persons, 1)
    line = model.p["metrics.asset_poverty_line"]
    herd = np.array(log.herd_sfu) / persons  # (seasons + 1, N)
    poor = herd < line
    if how == "fell in":
        score = np.where(~poor[0] & poor[-1], herd[0] - herd[-1], -np.inf)
    elif how == "climbed out":
        score = np.where(poor.any(axis=0) & ~poor[-1], herd[-1] - herd.min(axis=0), -np.inf)
    else:  # poorest herder
        score = np.where(model.households.herding, -herd[-1], -np.inf)
    if not np.isfinite(score).any():
        return -1
    return int(np.argmax(score))


@solara.component
def HouseholdView(model: AppModel):
    view_tick.get()
    chosen, set_chosen = solara.use_state(0)
    note, set_note = solara.use_state("")
    n = model.households.n
    i = min(max(int(chosen), 0), n - 1)

    def pick(how: str) -> None:
        j = _pick(model, how)
        if j < 0:
            set_note(f"no household {how} yet")
        else:
            set_note("")
            set_chosen(j)

    hh = model.households
    with solara.Column(gap="2px") as col:
        with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.InputInt(label=f"household (0-{n - 1})", value=i, on_value=set_chosen,
                            style={"max-width": "130px"})
            for how in ("fell in", "climbed out", "poorest"):
                solara.Button(how, on_click=lambda how=how: pick(how), outlined=True, small=True)
            if note:
                solara.Text(note, style={"color": "#a00", "font-size": "12px"})
        soum = model.region.soum_names[hh.soum[i]]
        status = "herding" if hh.herding[i] else f"left herding in year {hh.exit_year[i]}"
        solara.Text(
            f"{soum} soum, {model.region.aimags[hh.aimag[i]]} · {int(hh.persons[i])} persons "
            f"({int(hh.children_0_5[i] + hh.children_6_17[i])} children) · {status} · "
            f"herd {hh.herd_sfu[i]:.0f} SFU, cash {hh.cash[i]:,.0f} kMNT, debt {hh.debt[i]:,.0f} kMNT",
            style={"font-size": "12px"},
        )
        Plot(figures.household_figure(model, i))
    return col


@solara.component
def FiscalView(model: AppModel):
    view_tick.get()
    return Plot(figures.fiscal_figure(model))


COMPONENTS = [OutcomesView, HerdDistributionView, SoumView, StockView, HouseholdView, FiscalView]


# ------------------------------------------------------------------ sidebar


@solara.component
def StatusCard(model: solara.Reactive[AppModel], policies: solara.Reactive[dict]):
    counter = update_counter.get()
    m = model.value

    def bump_views() -> None:
        view_tick.set(view_tick.value + 1)

    # one re-render of all views per step (see the note above the views)
    solara.use_effect(bump_views, [counter, m])
    ts = m.metrics()
    with solara.Card("This run", margin=0, style={"margin-top": "8px"}), solara.Column(gap="4px"):
        solara.Text(f"After: {m.last_season_label()}", style={"font-weight": "600"})
        if len(ts):
            last = ts.iloc[-1]
            solara.HTML(tag="div", unsafe_innerHTML=(
                f"Year {int(last['year'])}: poverty <b>{last['poverty_headcount']:.0%}</b>, "
                f"asset poverty <b>{last['asset_poverty']:.0%}</b>, still herding "
                f"<b>{last['herding_share']:.0%}</b>, fiscal cost so far "
                f"<b>{ts['fiscal_cost'].sum() / 1e6:,.2f} bn MNT</b>"
            ), style={"font-size": "13px"})
        active = ", ".join(sorted(m.settings["policies"])) or "none"
        solara.Text(f"Policies in this run: {active}", style={"font-size": "13px"})
        if policies.value != m.settings["policies"]:
            solara.Warning("The policy settings below differ from this run: press Reset to apply.",
                           dense=True)
        else:
            solara.Text("Changes to parameters and policies apply on Reset.",
                        style={"font-size": "12px", "color": "#666"})


@solara.component
def _PolicySidebar(model: solara.Reactive[AppModel], policies: solara.Reactive[dict]):
    # Nested one level below SolaraViz so that the sidebar shows it after SolaraViz's cards.
    with solara.Sidebar():
        StatusCard(model, policies)
        with solara.Card(margin=0, style={"margin-top": "8px"}):
            PolicyEditor(policies)


@solara.component
def PolicySidebar(model: solara.Reactive[AppModel], policies: solara.Reactive[dict]):
    _PolicySidebar(model, policies)


@solara.component
def ExplorePage():
    """The SolaraViz page: controls, status, policy editor and the six live views."""
    policies = solara.use_reactive({})
    initial = solara.use_memo(lambda: AppModel(policies={}), [])
    model = solara.use_reactive(initial)
    found = solara.use_memo(latest_trap_threshold, [])

    def adopt_found_threshold() -> None:
        if trap_threshold.value is None and found:
            trap_threshold.value = found

    solara.use_effect(adopt_found_threshold, [])
    params = {**model_params(), "policies": policies}
    SolaraViz(model, components=COMPONENTS, model_params=params, name="herdtrap",
              play_interval=PLAY_INTERVAL_MS)
    PolicySidebar(model, policies)

"""Explore page: Mesa's SolaraViz around :class:`AppModel`, one step = one season.

Sidebar: SolaraViz's controls (Reset / Play / Step) and model parameters
(seed, region, years, climate, key parameters), then a status card and the
policy editor. Changes apply when Reset is pressed (Mesa's convention); the
status card says when the policy editor differs from the running model.
Main area (draggable grid, tab "Live views"): outcomes over time, herd-size
distribution, soum view, livestock by species, household inspector, fiscal
cost by programme.

Speed: one season is one render pass. Only :func:`LiveViews` (which replaces
SolaraViz's ComponentsView) listens to Mesa's ``update_counter``; it hands the
counter to every view as an argument, so all views re-render in the pass the
step triggers, and each view's figure reaches the browser as one message, only
if it changed (:mod:`experiments.webapp.plotly_view`).
"""

from __future__ import annotations

from pathlib import Path

import mesa.visualization.solara_viz as _solara_viz
import numpy as np
import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from experiments.webapp import figures
from experiments.webapp.appmodel import AppModel, model_params
from experiments.webapp.plotly_view import Plot
from experiments.webapp.policy_editor import PolicyEditor

#: Trap threshold (SFU per person) chosen on the Results page, per browser session:
#: {"value", "lo", "hi", "source" (short, for labels), "where" (a sentence)} or None
#: (then the Explore page uses the threshold of docs/VALIDATION.md, see validation_threshold).
trap_threshold = solara.reactive(None)

#: Name of the Explore page's tab of views (SolaraViz would call it "Page 0").
VIEWS_TAB = "Live views"

PLAY_INTERVAL_MS = 20
#: Grid cell height in SolaraViz's rows of 30 px (+10 px gaps): 13 rows = 510 px.
GRID_ROWS = 13


def _grid_layout(num_components: int) -> list[dict]:
    """Two columns of cells tall enough for a figure with its legend below it."""
    return [{"i": i, "w": 6, "h": GRID_ROWS, "moved": False, "x": 6 * (i % 2),
             "y": GRID_ROWS * (i // 2)} for i in range(num_components)]


# SolaraViz sizes every component 6 x 10 (390 px) and takes no layout argument.
_solara_viz.make_initial_grid_layout = _grid_layout


# ------------------------------------------------------------------ trap threshold


def validation_threshold(path: Path | None = None) -> dict | None:
    """The poverty-trap threshold of docs/VALIDATION.md, as ``trap_threshold`` holds it.

    ``herdtrap validate`` measures it (section 3) and records it in
    docs/validation/trap.json (:data:`experiments.analysis.validate_compute.TRAP_JSON`);
    read from there only, so that it follows the model when validate is run again. None
    if absent.
    """
    from experiments.analysis.trap_compute import read_threshold
    from experiments.analysis.validate_compute import TRAP_JSON

    thr = read_threshold(path or TRAP_JSON)
    if thr is None:
        return None
    record = thr["record"]
    ci = f"95% CI {thr['lo']:.1f}–{thr['hi']:.1f}, " if thr["lo"] and thr["hi"] else ""
    commit = str(record.get("model_commit") or "")[:7]
    when = str(record.get("generated") or "")[:10]
    made = ", ".join(x for x in (f"model {commit}" if commit else "", when) if x)
    return {**{k: thr[k] for k in ("value", "lo", "hi")}, "source": "validation",
            "where": f"measured by `herdtrap validate` ({ci}baseline batch; docs/VALIDATION.md "
                     f"§3, read from docs/validation/trap.json{'; ' + made if made else ''})"}


def results_threshold(folder: Path) -> dict | None:
    """The threshold ``herdtrap trap`` wrote to ``folder/trap/trap.json``, or None."""
    from experiments.analysis.trap_compute import read_threshold

    thr = read_threshold(folder / "trap" / "trap.json")
    if thr is None:
        return None
    ci = f"95% CI {thr['lo']:.1f}–{thr['hi']:.1f}, " if thr["lo"] and thr["hi"] else ""
    return {**{k: thr[k] for k in ("value", "lo", "hi")}, "source": folder.name,
            "where": f"measured by `herdtrap trap` ({ci}results/{folder.name}/trap/trap.json, "
                     "picked on the Results page)"}


# ------------------------------------------------------------------ grid components
# Each view takes the model and ``tick`` (Mesa's update_counter, passed down by
# LiveViews): a new tick re-renders the view even though the model object is the same.


@solara.component
def OutcomesView(model: AppModel, tick: int = 0, threshold: dict | None = None):
    with solara.Column(gap="0px") as col:
        Plot(figures.outcomes_figure(model, threshold["value"] if threshold else None))
        if threshold:
            solara.Text(f"Trap share: households below {threshold['value']:.1f} SFU/person, "
                        f"the poverty-trap threshold {threshold['where']}.",
                        style={"font-size": "12px", "color": "#555"})
        else:
            solara.Text("Trap share: no threshold found — `herdtrap validate` records one in "
                        "docs/validation/trap.json; or run `herdtrap trap RESULTS_DIR` on a "
                        "batch with a household panel and pick it on the Results page.",
                        style={"font-size": "12px", "color": "#555"})
    return col


@solara.component
def HerdDistributionView(model: AppModel, tick: int = 0, threshold: dict | None = None):
    return Plot(figures.herd_distribution_figure(
        model, threshold["value"] if threshold else None,
        "validate" if threshold and threshold["source"] == "validation"
        else (threshold["source"][:16] if threshold else "")))


@solara.component
def StockView(model: AppModel, tick: int = 0, threshold: dict | None = None):
    return Plot(figures.stock_figure(model))


@solara.component
def SoumView(model: AppModel, tick: int = 0, threshold: dict | None = None):
    view, set_view = solara.use_state(figures.SOUM_VIEWS[0])
    with solara.Column(gap="0px") as col:
        solara.ToggleButtonsSingle(value=view, values=list(figures.SOUM_VIEWS), on_value=set_view,
                                   dense=True)
        Plot(figures.soum_figure(model, view))
    return col


def _pick(model: AppModel, how: str) -> int:
    """A household (id) living in the region now to inspect: one that fell in, climbed
    out, or the poorest herder now (-1 if none). "fell in" and "climbed out" compare the
    household with itself since its first season in the run."""
    line = model.p["metrics.asset_poverty_line"]
    herd = model.season_matrix("herd_sfu") / np.maximum(model.season_matrix("persons"), 1)
    hid = model.season_log.hid[-1]
    live = hid >= 0
    if not live.any():
        return -1
    herd, hid = herd[:, live], hid[live]
    seen = np.isfinite(herd)
    first = herd[seen.argmax(axis=0), np.arange(herd.shape[1])]
    last = herd[-1]
    poor_first, poor_last = first < line, last < line
    if how == "fell in":
        score = np.where(~poor_first & poor_last, first - last, -np.inf)
    elif how == "climbed out":
        lowest = np.nanmin(herd, axis=0)
        score = np.where((lowest < line) & ~poor_last, last - lowest, -np.inf)
    else:  # poorest herder
        score = np.where(model.season_log.herding[-1][live], -last, -np.inf)
    if not np.isfinite(score).any():
        return -1
    return int(hid[np.argmax(score)])


def household_status(model: AppModel, hid: int) -> str:
    """One line on household ``hid``: where it lives, members, herding, herd, money,
    and when it was founded or dissolved."""
    hh = model.households
    slot, last = model.slot_of(hid)
    if slot < 0:
        return f"household {hid} has not lived in the region in this run"
    alive_now = last == len(model.season_log.hid) - 1
    origin = ""
    if hh.hid[slot] == hid and hh.formed_year[slot] > 0:
        origin = f" · founded in year {hh.formed_year[slot]} from household {hh.parent_hid[slot]}"
    if not alive_now:
        return (f"household {hid} dissolved (no member of working age left) after "
                f"{model.season_log.label[last]}")
    soum = model.region.soum_names[hh.soum[slot]]
    if hh.herding[slot]:
        status = "herding"
    elif hh.exit_year[slot] >= 0:
        status = f"left herding in year {hh.exit_year[slot]}"
    else:
        status = "not herding (founded without animals)"
    return (f"{soum} soum, {model.region.aimags[hh.aimag[slot]]} · {int(hh.persons[slot])} "
            f"persons ({int(hh.children_0_5[slot] + hh.children_6_17[slot])} children) · "
            f"{status} · herd {hh.herd_sfu[slot]:.0f} SFU, cash {hh.cash[slot]:,.0f} kMNT, "
            f"debt {hh.debt[slot]:,.0f} kMNT{origin}")


@solara.component
def HouseholdView(model: AppModel, tick: int = 0, threshold: dict | None = None):
    chosen, set_chosen = solara.use_state(0)
    note, set_note = solara.use_state("")
    top = int(model.next_hid) - 1  # household ids 0..top (founded households get new ids)
    hid = min(max(int(chosen), 0), top)

    def pick(how: str) -> None:
        j = _pick(model, how)
        if j < 0:
            set_note(f"no household {how} yet")
        else:
            set_note("")
            set_chosen(j)

    with solara.Column(gap="2px") as col:
        with solara.Row(gap="6px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.InputInt(label=f"household id (0-{top})", value=hid, on_value=set_chosen,
                            style={"max-width": "140px"})
            for how in ("fell in", "climbed out", "poorest"):
                solara.Button(how, on_click=lambda how=how: pick(how), outlined=True, small=True)
            if note:
                solara.Text(note, style={"color": "#a00", "font-size": "12px"})
        solara.Text(household_status(model, hid), style={"font-size": "12px"})
        Plot(figures.household_figure(model, hid))
    return col


@solara.component
def FiscalView(model: AppModel, tick: int = 0, threshold: dict | None = None):
    return Plot(figures.fiscal_figure(model))


COMPONENTS = [OutcomesView, HerdDistributionView, SoumView, StockView, HouseholdView, FiscalView]


@solara.component
def LiveViews(components: list, model: AppModel):
    """SolaraViz's main area: the views in a draggable grid under one named tab.

    Replaces Mesa's ComponentsView (which names its tabs "Page 0", "Page 1", ... and
    wraps each plain view in its own listener of update_counter): this component is
    the views' only listener, so a season costs one render pass.
    """
    tick = update_counter.get()
    found = solara.use_memo(validation_threshold, [])
    threshold = trap_threshold.value or found
    views = [c[0] if isinstance(c, tuple) else c for c in components]
    layout, set_layout = solara.use_state(_grid_layout(len(views)), key=f"grid-{len(views)}")
    with solara.Column(gap="0px") as main:
        with solara.v.Tabs(v_model=0):
            solara.v.Tab(children=[VIEWS_TAB])
        solara.GridDraggable(items=[view(model, tick, threshold) for view in views],
                             grid_layout=layout, resizable=True, draggable=True,
                             on_grid_layout=set_layout)
    return main


# SolaraViz looks its ComponentsView up at render time: ours names the tab and renders
# each season in one pass.
_solara_viz.ComponentsView = LiveViews


# ------------------------------------------------------------------ sidebar


@solara.component
def StatusCard(model: solara.Reactive[AppModel], policies: solara.Reactive[dict]):
    update_counter.get()
    m = model.value
    ts = m.yearly()
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
            if "households" in ts:
                solara.Text(
                    f"Households: {int(last['households']):,} ({int(last['herding_households']):,} "
                    f"herding); this year {int(last['households_formed'])} founded, "
                    f"{int(last['households_dissolved'])} dissolved, {int(last['entries'])} "
                    f"entered and {int(last['exits'])} left herding",
                    style={"font-size": "12px", "color": "#555"})
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
    params = {**model_params(), "policies": policies}
    SolaraViz(model, components=COMPONENTS, model_params=params, name="herdtrap",
              play_interval=PLAY_INTERVAL_MS)
    PolicySidebar(model, policies)

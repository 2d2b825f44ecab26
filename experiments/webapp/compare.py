"""Side-by-side page: two policy settings, the same seed, stepped together.

Both runs draw the same weather and the same household luck (common random
numbers: every stream is keyed by seed, stream name and season), so the gap
between the curves is the policy's effect in that world, not noise.
"""

from __future__ import annotations

import time

import solara
import solara.lab

from experiments.webapp import figures
from experiments.webapp.appmodel import (
    CLIMATE_STOCHASTIC,
    CLIMATES,
    DEFAULT_WINTER,
    WINTERS,
    AppModel,
    policy_registry,
    regions,
    winter_label,
)
from experiments.webapp.plotly_view import Plot
from experiments.webapp.policy_editor import PolicyEditor

#: Width of each comparison figure (two side by side in a 1280-px window).
COMPARE_WIDTH = 420

DEFAULT_RUN = {
    "seed": "0", "region": None, "years": 20, "climate": CLIMATE_STOCHASTIC,
    "replay_winter": winter_label(DEFAULT_WINTER), "households": 2240,
}


def default_policy_b() -> dict:
    """Policy B to start with: Child Money (if registered), else the first policy."""
    registry = policy_registry()
    if "child_money" in registry:
        levers = registry["child_money"].levers
        b = {"child_money": {k: p.default for k, p in levers.items()}}
        if "amount" in levers:
            b["child_money"]["amount"] = min(100.0, levers["amount"].high or 100.0)
        return b
    for name, cls in registry.items():
        return {name: {k: p.default for k, p in cls.levers.items()}}
    return {}


def build_pair(run: dict, pol_a: dict, pol_b: dict) -> tuple[AppModel, AppModel]:
    kwargs = {k: v for k, v in run.items() if v is not None}
    return AppModel(policies=pol_a, **kwargs), AppModel(policies=pol_b, **kwargs)


@solara.component
def RunSettings(run: solara.Reactive[dict]):
    def set_key(key):
        return lambda value: run.set({**run.value, key: value})

    v = run.value
    solara.InputText("Random seed (both runs)", value=str(v["seed"]), on_value=set_key("seed"),
                     continuous_update=False)
    solara.Select("Region (aimags)", value=v["region"] or regions()[0], values=list(regions()),
                  on_value=set_key("region"))
    solara.SliderInt("Years", value=v["years"], min=5, max=60, on_value=set_key("years"))
    solara.Select("Climate regime", value=v["climate"], values=list(CLIMATES),
                  on_value=set_key("climate"))
    if v["climate"] != CLIMATE_STOCHASTIC:
        solara.Select("Historical winter", value=v["replay_winter"], values=list(WINTERS),
                      on_value=set_key("replay_winter"))
    solara.SliderInt("Households", value=v["households"], min=200, max=10_000, step=20,
                     on_value=set_key("households"))


def summary_rows(a: AppModel, b: AppModel) -> list[dict]:
    """Latest completed year: A, B and B − A for the headline outcomes."""
    ta, tb = a.metrics(), b.metrics()
    if not len(ta) or not len(tb):
        return []
    ra, rb = ta.iloc[-1], tb.iloc[-1]
    rows = []
    for col, (label, fmt) in figures.COMPARE_OUTCOMES.items():
        scale = figures.MNT_PER_KMNT_IN_BN if col == "fiscal_cost" else 1.0
        va, vb = float(ra[col]) * scale, float(rb[col]) * scale
        rows.append({"outcome": label, "A": format(va, fmt), "B": format(vb, fmt),
                     "B − A": format(vb - va, "+" + fmt)})
    return rows


@solara.component
def ComparePage():
    run = solara.use_reactive(dict(DEFAULT_RUN))
    pol_a = solara.use_reactive({})
    pol_b = solara.use_reactive(solara.use_memo(default_policy_b, []))
    pair = solara.use_reactive(solara.use_memo(lambda: build_pair(run.value, {}, pol_b.value), []))
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    error = solara.use_reactive("")

    tick.get()  # re-render after every step (the models change in place)
    a, b = pair.value

    def step(n: int = 1) -> None:
        ma, mb = pair.value
        for _ in range(n):
            if not (ma.running and mb.running):
                playing.set(False)
                break
            ma.step()
            mb.step()
        tick.set(tick.value + 1)

    def reset() -> None:
        playing.set(False)
        try:
            pair.set(build_pair(run.value, pol_a.value, pol_b.value))
            error.set("")
        except ValueError as exc:  # ScenarioError / ParameterError: bad settings
            error.set(str(exc))
        tick.set(tick.value + 1)

    def play_loop() -> None:
        while playing.value:
            ma, mb = pair.value
            if not (ma.running and mb.running):
                playing.set(False)
                break
            step(1)
            time.sleep(0.02)

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    applied = (a.settings["policies"], b.settings["policies"]) == (pol_a.value, pol_b.value)
    with solara.Sidebar():
        with solara.Card("Side by side", margin=0):
            solara.HTML(tag="div", unsafe_innerHTML=(
                "Two policy settings, <b>the same seed</b>: both runs see the same winters and "
                "the same household luck, so the gap is the policy's effect."),
                style={"font-size": "13px"})
            with solara.Row(justify="space-between"):
                solara.Button("Reset", color="primary", on_click=reset)
                solara.Button("▶" if not playing.value else "❚❚", color="primary",
                              on_click=lambda: playing.set(not playing.value),
                              disabled=not a.running)
                solara.Button("Step", color="primary", on_click=lambda: step(1),
                              disabled=playing.value or not a.running)
                solara.Button("Year", color="primary", on_click=lambda: step(4),
                              disabled=playing.value or not a.running)
            solara.Text(f"After: {a.last_season_label()}", style={"font-weight": "600"})
            if not applied:
                solara.Warning("Settings changed: press Reset to apply.", dense=True)
            if error.value:
                solara.Error(error.value)
        with solara.Card("Run settings", margin=0, style={"margin-top": "8px"}):
            RunSettings(run)

        with solara.Card(margin=0, style={"margin-top": "8px",
                                          "border-left": f"5px solid {figures.A_COLOUR}"}):
            PolicyEditor(pol_a, title="Policy A (blue)")
        with solara.Card(margin=0, style={"margin-top": "8px",
                                          "border-left": f"5px solid {figures.B_COLOUR}"}):
            PolicyEditor(pol_b, title="Policy B (red)")

    with solara.Column(style={"padding": "8px"}):
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            rows = summary_rows(a, b)
            with solara.Column(gap="2px"):
                solara.Text(
                    f"A: {', '.join(sorted(a.settings['policies'])) or 'no policy'} · "
                    f"B: {', '.join(sorted(b.settings['policies'])) or 'no policy'} · "
                    f"seed {a.seed_value} · after {a.last_season_label()}",
                    style={"font-weight": "600"},
                )
                if rows:
                    import pandas as pd

                    solara.DataFrame(pd.DataFrame(rows), items_per_page=10)
                else:
                    solara.Text("Step through a year (4 seasons, or press Year) to see the first "
                                "yearly outcomes.")
        for pair_cols in (("poverty_headcount", "asset_poverty"), ("herd_sfu_median", "fiscal_cost")):
            with solara.Columns([1, 1]):
                for col in pair_cols:
                    Plot(figures.compare_figure(a, b, col, width=COMPARE_WIDTH))

"""Component tests of the browser app (experiments/webapp), rendered with solara.render.

They check what a researcher sees: the page builds, Step advances the model and
changes the plots, a policy switched on and applied with Reset shows up in the
outcomes, the side-by-side runs share their winters, the Results page reads a
batch folder, and every figure is valid plotly JSON (no NaN, which breaks the
websocket).
"""

from __future__ import annotations

import argparse
import inspect
import json

import ipyvuetify as v
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import solara

from experiments.webapp import appmodel, figures
from experiments.webapp.appmodel import AppModel, model_params
from experiments.webapp.plotly_view import PlotlyWidget, figure_json

SMALL = {"households": 300, "years": 6}


@solara.component
def Shell(page):
    with solara.AppLayout():
        page()


def _render(page):
    box, rc = solara.render(Shell(page), handle_error=False)
    return rc


def _texts(rc) -> list[str]:
    return [w.children[0] for w in rc.find(v.Html, tag="span").widgets
            if w.children and isinstance(w.children[0], str)]


def _plots(rc) -> list[dict]:
    """The figures the page's plot widgets hold (what the browser draws)."""
    return [w.figure for w in rc.find(PlotlyWidget).widgets]


def _widget_titles(rc) -> list[str]:
    return [f["layout"].get("title", {}).get("text") or "" for f in _plots(rc)]


def _plot(rc, title: str) -> dict:
    return next(f for f in _plots(rc) if f["layout"]["title"]["text"].startswith(title))


def _click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


# ----------------------------------------------------------------------------- wiring


def test_every_control_is_a_model_keyword_argument():
    from mesa.visualization.solara_viz import _check_model_params

    params = model_params()
    accepted = inspect.signature(AppModel.__init__).parameters
    assert set(params) <= set(accepted)
    _check_model_params(AppModel(**SMALL), {**params, "policies": {}})
    for key in appmodel.KEY_PARAMETERS:
        assert "(" in params[key]["label"], f"slider {key} shows no unit"


def test_controls_reach_the_model():
    m = AppModel(seed="7", households=300, years=5, climate=appmodel.CLIMATE_ONE_WINTER,
                 replay_winter=appmodel.winter_label(2010), dzud_prob_scale=1.5,
                 loan_to_value=0.2, region="Zavkhan")
    assert m.seed_value == 7
    assert m.households.n == 300 and m.years == 5
    assert m.spec.regime == "replay" and m.spec.replay_years == (2010,)
    assert m.spec.aimags == ("Zavkhan",)
    assert m.p["climate.dzud_prob_scale"] == 1.5 and m.p["credit.loan_to_value"] == 0.2
    assert m.last_season_label().startswith("start of spring 2009")
    for _ in range(4):
        m.step()
    assert m.last_season_label() == "winter 2009/10 (year 1 of 5)"
    assert len(m.season_log.herd_sfu) == 5  # initial + 4 seasons


def test_policy_editor_state_becomes_scenario_policies():
    registry = appmodel.policy_registry()
    if not registry:
        pytest.skip("no policies registered yet")
    name, cls = next(iter(registry.items()))
    holder = solara.reactive({name: {k: p.default for k, p in cls.levers.items()}})
    m = AppModel(policies=holder, **SMALL)
    assert name in m.spec.policies and m.settings["policies"] == holder.value


# ----------------------------------------------------------------------------- figures


@pytest.fixture(scope="module")
def stepped_model() -> AppModel:
    m = AppModel(**SMALL)
    for _ in range(9):
        m.step()
    return m


@pytest.mark.parametrize("build", [
    figures.outcomes_figure,
    lambda m: figures.outcomes_figure(m, 43.2),
    figures.herd_distribution_figure,
    lambda m: figures.herd_distribution_figure(m, 43.2, "herdtrap validate"),
    figures.stock_figure,
    *[lambda m, view=view: figures.soum_figure(m, view) for view in figures.SOUM_VIEWS],
    lambda m: figures.household_figure(m, 3),
    figures.fiscal_figure,
])
def test_figures_are_valid_plotly_without_nan(build, stepped_model):
    fig = build(stepped_model)
    go.Figure(fig)  # validates every property (the app skips this for speed)
    text = pio.to_json(fig)
    assert "NaN" not in text and "Infinity" not in text
    json.dumps(figure_json(fig), allow_nan=False)  # what the widget sends to the browser
    assert fig["data"] or fig["layout"]["annotations"], "figure shows nothing"


def test_figures_before_the_first_winter_say_so():
    m = AppModel(**SMALL)
    assert "after the first winter" in figures.outcomes_figure(m)["layout"]["title"]["text"]
    notes = [a["text"] for a in figures.soum_figure(m)["layout"]["annotations"]
             if a.get("visible", True)]
    assert any("after the first winter" in n for n in notes)


def test_persistent_asset_poverty_is_a_subset_of_asset_poverty(stepped_model):
    m = AppModel(**{**SMALL, "years": 8})
    m.run()
    pap = figures.persistent_asset_poverty(m)
    ts = m.metrics().set_index("year")["asset_poverty"]
    assert len(pap) == 8 - 2
    assert (pap <= ts.loc[pap.index] + 1e-12).all()


# ----------------------------------------------------------------------------- a growing table


@pytest.fixture(scope="module")
def grown_model() -> AppModel:
    """Eight years of the status quo: households are founded and dissolved, the table
    grows and a freed slot is taken by a new household."""
    m = AppModel(households=300, years=8, policies=appmodel.scenario_policies("status_quo"))
    m.run()
    assert m.households.n > 300
    return m


def test_inspector_follows_a_household_by_id_from_its_founding(grown_model):
    from experiments.webapp.explore import household_status

    m, hh = grown_model, grown_model.households
    slot = int(np.flatnonzero(hh.alive & (hh.formed_year > 0))[-1])
    hid, parent = int(hh.hid[slot]), int(hh.parent_hid[slot])
    d = m.household_seasons(hid)
    # founded in the spring of its year: its record starts there, not at the start
    assert d["time"][0] == hh.formed_year[slot] - 0.75
    assert d["time"][-1] == m.years and d["herd_sfu"][-1] == pytest.approx(hh.herd_sfu[slot])
    assert f"from household {parent}" in household_status(m, hid)
    fig = figures.household_figure(m, hid)
    assert fig["data"][0]["x"][0] == d["time"][0]


def test_inspector_of_a_dissolved_household_stops_where_its_slot_was_reused(grown_model):
    from experiments.webapp.explore import household_status

    m = grown_model
    log = m.season_log
    ids = np.concatenate(log.hid)
    gone = np.setdiff1d(ids[ids >= 0], log.hid[-1])
    assert gone.size, "no household dissolved in 8 years"
    reused = None
    for hid in gone:
        slot, last = m.slot_of(int(hid))
        if log.hid[-1][slot] >= 0:
            reused = int(hid), slot, last
            break
    assert reused, "no freed slot was reused"
    hid, slot, last = reused
    d = m.household_seasons(hid)
    successor = m.household_seasons(int(log.hid[-1][slot]))
    assert d["time"][-1] == log.time[last] < successor["time"][0]
    assert "dissolved" in household_status(m, hid)


def test_season_payments_add_up_to_every_households_yearly_transfers(grown_model):
    """Transfers and payouts received each season sum, per household, to what the yearly
    panel records for it, also in a year it was founded and in a reused slot."""
    m = grown_model
    log = m.season_log
    checked = 0
    for y in range(1, m.years + 1):
        rec = m._panel[y]
        hid = np.where(rec["alive"], rec["hid"], -1)
        total = np.zeros(hid.size)
        for t in range(4 * y - 3, 4 * y + 1):
            h, paid = log.hid[t], log.paid[t]
            k = min(h.size, hid.size)
            total[:k] += np.where(h[:k] == hid[:k], paid[:k], 0.0)
        live = hid >= 0
        np.testing.assert_allclose(total[live], rec["transfers"][live], rtol=1e-4, atol=0.05)
        checked += int((rec["transfers"][live] > 0).sum())
    assert checked > 100


def test_outcomes_figure_counts_herding_households_entries_and_exits(grown_model):
    m = grown_model
    fig = figures.outcomes_figure(m)
    ts = m.metrics()
    herding = next(t for t in fig["data"] if t["name"].startswith("herding households"))
    at_year_end = np.asarray(herding["y"])[4 * ts["year"].to_numpy()]
    np.testing.assert_array_equal(at_year_end, ts["herding_households"].to_numpy())
    year_ends = next(t for t in fig["data"] if t.get("hovertemplate", "").endswith(
        "<extra>demography</extra>"))
    shown = np.asarray(year_ends["customdata"])
    np.testing.assert_array_equal(shown[:, 1], ts["entries"].to_numpy())
    np.testing.assert_array_equal(shown[:, 2], ts["exits"].to_numpy())
    assert shown[:, 3].sum() > 0  # households were founded
    go.Figure(fig)


def test_pick_finds_a_living_household_that_fell_into_asset_poverty(grown_model):
    from experiments.webapp.explore import _pick

    m = grown_model
    hid = _pick(m, "fell in")
    assert hid in set(m.season_log.hid[-1].tolist())
    d = m.household_seasons(hid)
    per_person = d["herd_sfu"] / np.maximum(d["persons"], 1)
    line = m.p["metrics.asset_poverty_line"]
    assert per_person[0] >= line > per_person[-1]


def test_views_count_only_households_living_in_the_region(grown_model):
    m, hh = grown_model, grown_model.households
    assert (~hh.alive).any(), "no empty slot to leave out"
    herding, _, _ = figures.soum_values(m, "still herding")
    count = np.bincount(hh.soum[hh.in_scope], minlength=m.n_soums)
    assert np.average(herding, weights=count) == pytest.approx(m.metrics()["herding_share"].iloc[-1])
    assert m.season_log.asset_poor[-1] == pytest.approx(m.metrics()["asset_poverty"].iloc[-1])


# ----------------------------------------------------------------------------- Explore page


def test_explore_page_steps_and_resets():
    from experiments.webapp.explore import ExplorePage

    rc = _render(ExplorePage)
    assert len(rc.find(PlotlyWidget).widgets) == 6
    before = _widget_titles(rc)
    herd_before = _plot(rc, "Herd sizes")["data"][0]["y"]
    _click(rc, "Step")
    assert "Time: 1.0" in _texts(rc)
    after = _widget_titles(rc)
    assert after != before
    assert any("after spring 2020" in t for t in after)
    for _ in range(3):
        _click(rc, "Step")
    herd_after = _plot(rc, "Herd sizes")["data"][0]["y"]
    assert not np.array_equal(herd_before, herd_after)
    assert "After: winter 2020/21 (year 1 of 30)" in _texts(rc)
    _click(rc, "Reset")
    assert "Time: 0.0" in _texts(rc)
    rc.close()


def test_policy_switched_on_shows_in_the_outcomes_after_reset():
    from experiments.webapp.explore import ExplorePage

    if "child_money" not in appmodel.policy_registry():
        pytest.skip("child_money policy not registered")
    rc = _render(ExplorePage)
    box = rc.find(v.Checkbox, label=appmodel.policy_title("child_money")).widget
    box.v_model = True
    assert any("press Reset" in str(w.children) for w in rc.find(v.Alert).widgets)
    _click(rc, "Reset")
    for _ in range(4):
        _click(rc, "Step")
    fiscal = _plot(rc, "Fiscal cost")
    assert "child_money" in [t["name"] for t in fiscal["data"]]
    assert sum(float(np.sum(t["y"])) for t in fiscal["data"]) > 0
    rc.close()


def _trap_json(path, value: float) -> None:
    path.write_text(json.dumps({
        "kind": "validation-trap", "threshold_sfu_per_person": value,
        "threshold": {"h": value, "h_lo": value - 1.5, "h_hi": value + 2.0, "support": 1.0},
        "model_commit": "abcdef0123456789", "generated": "2026-01-02T03:04:05+00:00"}))


def test_explore_shows_the_validation_threshold_and_says_where_it_comes_from(tmp_path,
                                                                             monkeypatch):
    import experiments.analysis.validate_compute
    from experiments.webapp.explore import VIEWS_TAB, ExplorePage

    _trap_json(tmp_path / "trap.json", 30.0)  # not the repository's value: read, not hard-coded
    monkeypatch.setattr(experiments.analysis.validate_compute, "TRAP_JSON", tmp_path / "trap.json")
    rc = _render(ExplorePage)
    tabs = [w.children[0] for w in rc.find(v.Tab).widgets]
    assert VIEWS_TAB in tabs and not any("Page" in str(t) for t in tabs)
    note = next(t for t in _texts(rc) if t.startswith("Trap share"))
    assert "30.0 SFU/person" in note and "herdtrap validate" in note
    assert "docs/VALIDATION.md" in note and "28.5–32.0" in note and "abcdef0" in note
    herd = _plot(rc, "Herd sizes")["layout"]
    assert any("trap threshold 30.0" in a["text"] for a in herd["annotations"])
    assert any(s["x0"] == 30.0 for s in herd["shapes"])
    for _ in range(4):
        _click(rc, "Step")
    trace = next(t for t in _plot(rc, "Poverty and assets")["data"]
                 if t["name"].startswith("trap share"))
    assert trace["x"] == [1] and 0 < trace["y"][0] < 1
    rc.close()


def test_explore_without_a_threshold_says_how_to_get_one(tmp_path, monkeypatch):
    import experiments.analysis.validate_compute
    from experiments.webapp.explore import ExplorePage

    monkeypatch.setattr(experiments.analysis.validate_compute, "TRAP_JSON", tmp_path / "missing.json")
    rc = _render(ExplorePage)
    note = next(t for t in _texts(rc) if t.startswith("Trap share"))
    assert "no threshold found" in note and "herdtrap validate" in note
    assert not any("trap threshold" in a["text"]
                   for a in _plot(rc, "Herd sizes")["layout"]["annotations"])
    rc.close()


def test_trap_share_per_season_view_agrees_with_the_trap_analysis():
    from experiments.analysis.trap_compute import trap_share

    m = AppModel(**{**SMALL, "years": 5})
    m.run()
    years, share = m.trap_share(43.2)
    ref = trap_share(m.panel_frame(), 43.2)
    ref = ref[ref["year"] > 0]
    np.testing.assert_array_equal(years, ref["year"].to_numpy())
    np.testing.assert_allclose(share, ref["trap_share"].to_numpy())
    assert 0 < share.min() and share.max() < 1


def test_validation_threshold_file_matches_the_validation_report():
    """docs/validation/trap.json and docs/VALIDATION.md come from one `herdtrap validate` run."""
    import re

    from experiments.analysis.trap_compute import read_threshold
    from experiments.analysis.validate_compute import DEFAULT_OUT, TRAP_JSON

    thr = read_threshold(TRAP_JSON)
    assert thr is not None, f"{TRAP_JSON} missing: run `herdtrap validate`"
    report = DEFAULT_OUT.read_text(encoding="utf-8")
    m = re.search(r"\*\*Result:\*\* \w+: unstable threshold at ([\d.]+) SFU/person "
                  r"\(95% CI ([\d.]+)-([\d.]+)", report)
    assert m, "no threshold in the trap section of docs/VALIDATION.md"
    assert [f"{x:.1f}" for x in (thr["value"], thr["lo"], thr["hi"])] == list(m.groups())


# ----------------------------------------------------------------------------- side by side


def test_side_by_side_runs_share_winters_and_differ_by_policy():
    from experiments.webapp.compare import build_pair, default_policy_b

    pol_b = default_policy_b()
    if not pol_b:
        pytest.skip("no policies registered yet")
    run = {"seed": "3", "region": None, "years": 3, "climate": appmodel.CLIMATE_STOCHASTIC,
           "replay_winter": appmodel.winter_label(2010), "households": 300}
    a, b = build_pair(run, {}, pol_b)
    for _ in range(8):
        a.step()
        b.step()
    np.testing.assert_array_equal(a.winter.soum_mortality, b.winter.soum_mortality)
    assert a.metrics()["fiscal_cost"].sum() < b.metrics()["fiscal_cost"].sum()
    fig = figures.compare_figure(a, b, "fiscal_cost")
    go.Figure(fig)
    assert np.all(np.asarray(fig["data"][2]["y"]) > 0)  # B - A: B pays for its programme


def test_side_by_side_page_steps_a_year():
    from experiments.webapp.compare import ComparePage

    rc = _render(ComparePage)
    _click(rc, "Year")
    assert any(t.startswith("After: winter 2020/21") for t in _texts(rc))
    assert len(_plots(rc)) == 4
    assert all(len(f["data"][0]["y"]) == 1 for f in _plots(rc))
    rc.close()


# ----------------------------------------------------------------------------- results page


def test_results_page_reads_a_batch_folder(tmp_path, monkeypatch):
    from experiments.webapp import results

    folder = tmp_path / "batch-demo"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({
        "kind": "batch", "scenarios": {"baseline": {}, "child_money": {}}, "replicates": 2,
        "years": 3, "counts": {"done": 4, "total": 4}, "git": "abc", "finished": "today"}))
    rows = [{"scenario": s, "replicate": r, "year": y, "poverty_headcount": 0.3 - 0.01 * y,
             "asset_poverty": 0.2, "fiscal_cost": 10.0 * y}
            for s in ("baseline", "child_money") for r in range(2) for y in (1, 2, 3)]
    pd.DataFrame(rows).to_parquet(folder / "timeseries.parquet")
    pd.DataFrame([{"scenario": s, "replicate": r, "status": "ok", "poverty_headcount_final": 0.27}
                  for s in ("baseline", "child_money") for r in range(2)]
                 ).to_parquet(folder / "runs.parquet")
    (tmp_path / "not-a-batch").mkdir()
    monkeypatch.setattr(results, "results_root", lambda: tmp_path)
    assert [f["name"] for f in results.result_folders(tmp_path)] == ["batch-demo"]
    rc = _render(results.ResultsPage)
    titles = _widget_titles(rc)
    assert any("poverty_headcount" in t for t in titles)
    fig = _plots(rc)[0]
    assert {t["name"] for t in fig["data"] if t.get("name")} == {"baseline", "child_money"}
    rc.close()


def test_results_page_without_results_says_what_to_do(tmp_path, monkeypatch):
    from experiments.webapp import results

    monkeypatch.setattr(results, "results_root", lambda: tmp_path)
    rc = _render(results.ResultsPage)
    assert any("herdtrap batch" in str(w.children) for w in rc.find(v.Alert).widgets)
    rc.close()


# ----------------------------------------------------------------------------- command


def test_app_command_binds_localhost_by_default():
    from experiments.webapp import app

    parser = argparse.ArgumentParser()
    app.add_arguments(parser)
    args = parser.parse_args([])
    cmd = app.command(args)
    assert cmd[1:3] == ["run", str(app.APP_FILE)]
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--port") + 1] == "8765"
    args = parser.parse_args(["--host", "0.0.0.0", "--port", "9000"])
    cmd = app.command(args)
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and "9000" in cmd


def test_app_command_rejects_a_bad_port(capsys):
    from experiments.cli import main

    assert main(["app", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_top_level_app_module_exposes_the_pages():
    import app

    assert [r.path for r in app.routes] == ["/", "side-by-side", "results"]
    assert app.Page is app.ExplorePage

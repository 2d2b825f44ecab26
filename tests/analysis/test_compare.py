"""`herdtrap compare` and `herdtrap demo`: numbers recomputed independently, CRN, report."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from small_scenarios import write_scenarios

from experiments import cli
from experiments.analysis.compare import compare
from experiments.run.batch import load_scenarios, run_batch

R = 8


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    files = write_scenarios(tmp_path_factory.mktemp("scenarios"))
    out = tmp_path_factory.mktemp("cmp") / "batch"
    run_batch(load_scenarios([str(p) for p in files], None), R, out, backend="sequential",
              progress=False)
    return out


@pytest.fixture(scope="module")
def compared(batch_dir):
    return compare(batch_dir, baseline="small_base")


def _row(df: pd.DataFrame, **eq) -> pd.Series:
    sel = df
    for k, v in eq.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, eq
    return sel.iloc[0]


@pytest.mark.parametrize("outcome", ["poverty_years_per_household", "asset_poverty_final",
                                     "herding_share_final"])
def test_paired_difference_and_intervals_match_scipy(batch_dir, compared, outcome):
    runs = pd.read_parquet(batch_dir / "runs.parquet")
    wide = runs.pivot(index="replicate", columns="scenario", values=outcome)
    pol, base = wide["small_policy"].to_numpy(), wide["small_base"].to_numpy()
    ci = stats.ttest_rel(pol, base).confidence_interval(0.95)
    welch = stats.ttest_ind(pol, base, equal_var=False).confidence_interval(0.95)
    csv = pd.read_csv(compared.out_dir / "comparison.csv")
    row = _row(csv, outcome=outcome, horizon="run", scenario="small_policy")
    assert row["n_pairs"] == R and row["baseline"] == "small_base"
    assert row["diff_mean"] == pytest.approx((pol - base).mean(), abs=1e-12)
    assert row["diff_ci_low"] == pytest.approx(ci.low, rel=1e-9)
    assert row["diff_ci_high"] == pytest.approx(ci.high, rel=1e-9)
    assert row["ci_width_independent"] == pytest.approx(welch.high - welch.low, rel=1e-9)
    assert row["scenario_mean"] == pytest.approx(pol.mean())
    assert row["baseline_mean"] == pytest.approx(base.mean())


def test_levels_at_horizons_come_from_the_timeseries(batch_dir, compared):
    ts = pd.read_parquet(batch_dir / "timeseries.parquet")
    levels = pd.read_csv(compared.out_dir / "levels.csv")
    assert set(levels["horizon"]) == {"run", "5"}  # 5-year batch: year 5 is the final year
    x = ts[(ts["year"] == 5) & (ts["scenario"] == "small_policy")]["poverty_headcount"]
    row = _row(levels, outcome="poverty_headcount", horizon="5", scenario="small_policy")
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((x.mean(), lo, hi))
    assert row["n"] == R


def test_common_random_numbers_make_the_paired_interval_several_times_narrower(compared):
    c = compared.comparison.set_index(["outcome", "horizon"])
    for outcome in ("poverty_years_per_household", "asset_poverty_final"):
        row = c.loc[(outcome, "run")]
        assert row["ci_width_independent"] > 3 * row["ci_width_paired"], outcome
        assert row["width_ratio"] > 3
    # the policy (more off-farm income) reduces poverty-years, significantly
    py = c.loc[("poverty_years_per_household", "run")]
    assert py["diff_ci_high"] < 0 and bool(py["better"]) is True


def test_compare_prints_a_table_and_writes_a_self_contained_report(batch_dir, capsys):
    assert cli.main(["compare", str(batch_dir), "--baseline", "small_base"]) == 0
    out = capsys.readouterr().out
    assert "poverty-years per household" in out and "small_policy" in out
    assert "CI width paired | independent seeds" in out
    assert f"{batch_dir}/compare/" in out
    for name in ("comparison.csv", "levels.csv", "cost_effectiveness.csv", "report.html"):
        assert (batch_dir / "compare" / name).stat().st_size > 0
    html = (batch_dir / "compare" / "report.html").read_text()
    assert "Outcomes over time" in html and "Herd size" in html and "Cost vs. poverty" in html
    assert "independent seeds" in html
    assert len(html) > 1_000_000  # plotly.js is inline ...
    assert not re.findall(r"<script[^>]*\bsrc=", html)  # ... not loaded from a CDN
    assert not re.findall(r"<link[^>]*href=\"http", html)


@pytest.mark.parametrize("grown", [False, True])
def test_cost_effectiveness_divides_cost_by_poverty_reduction(tmp_path, grown):
    """A hand-made batch folder: costs and poverty known exactly. ``grown``: the runs
    count the households living in the region each year (the table grew by 10%), and
    the poverty-years and asset-poor households averted are counted over them."""
    n_hh, reps = 100, 5
    rng = np.random.default_rng(3)
    rows = []
    for r in range(reps):
        base_py, base_ap = 8.0 + rng.normal(), 0.30 + 0.01 * rng.normal()
        for sc, cost, dpy, dap in (("baseline", 0.0, 0.0, 0.0), ("cash", 1000.0 + 10 * r, 0.5, 0.02),
                                   ("useless", 500.0, 0.0, -0.01)):
            rows.append({"task_id": f"{sc}/{r}", "scenario": sc, "replicate": r, "status": "ok",
                         "error": None, "elapsed_s": 0.1,
                         "poverty_years_per_household": base_py - dpy,
                         "asset_poverty_final": base_ap - dap, "fiscal_cost_total": cost})
            if grown:  # what experiments.run.runner.summarise writes: counts over N_y
                rows[-1]["poverty_years_total"] = (base_py - dpy) * n_hh * 1.1
                rows[-1]["asset_poor_households_final"] = (base_ap - dap) * n_hh * 1.1
    (tmp_path / "runs.parquet").write_bytes(b"")
    pd.DataFrame(rows).to_parquet(tmp_path / "runs.parquet")
    ts = pd.DataFrame([{"scenario": s, "replicate": r, "year": y, "poverty_headcount": 0.2,
                        "herd_sfu_p10": 1, "herd_sfu_p25": 2, "herd_sfu_median": 3,
                        "herd_sfu_p75": 4, "herd_sfu_p90": 5}
                       for s in ("baseline", "cash", "useless") for r in range(reps)
                       for y in (1, 2)])
    ts.to_parquet(tmp_path / "timeseries.parquet")
    scen = {s: {"hash": s, "resolved": {"params": {"population.households": n_hh}}, "source": s}
            for s in ("baseline", "cash", "useless")}
    (tmp_path / "manifest.json").write_text(json.dumps({
        "kind": "batch", "scenarios": scen, "scenario_order": list(scen), "replicates": reps}))
    costs = compare(tmp_path).costs.set_index("scenario")
    cash = costs.loc["cash"]
    g = 1.1 if grown else 1.0
    assert cash["extra_fiscal_cost_kmnt"] == pytest.approx(1020.0)
    assert cash["poverty_years_averted"] == pytest.approx(0.5 * n_hh * g)
    assert cash["asset_poor_households_averted"] == pytest.approx(0.02 * n_hh * g)
    assert cash["cost_per_poverty_year_averted_kmnt"] == pytest.approx(1020.0 / 50 / g)
    assert cash["cost_per_household_out_of_asset_poverty_kmnt"] == pytest.approx(1020.0 / 2 / g)
    assert (cash["cost_per_poverty_year_ci_low"] <= 1020 / 50 / g
            <= cash["cost_per_poverty_year_ci_high"])
    useless = costs.loc["useless"]
    assert math.isnan(useless["cost_per_poverty_year_averted_kmnt"])
    assert "no poverty-years averted" in useless["note"]
    out = (tmp_path / "compare" / "summary.txt").read_text()
    assert "n/a" in out and f"{1020 / 50 / g:,.0f} [" in out


@pytest.mark.parametrize("case", ["no_folder", "unfinished", "unknown_baseline"])
def test_bad_input_is_one_line_and_exit_code_2(case, batch_dir, tmp_path, capsys):
    args = {"no_folder": [str(tmp_path / "nothing")],
            "unknown_baseline": [str(batch_dir), "--baseline", "nope"]}.get(case)
    if case == "unfinished":
        (tmp_path / "manifest.json").write_text(json.dumps({"kind": "batch", "scenarios": {}}))
        args = [str(tmp_path)]
    assert cli.main(["compare", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("herdtrap compare: error:")


def test_demo_runs_the_policy_comparison_and_prints_where_the_report_is(tmp_path, capsys):
    out = tmp_path / "demo"
    rc = cli.main(["demo", "--replicates", "2", "--years", "2", "--out", str(out),
                   "--backend", "sequential", "--no-progress"])
    assert rc == 0
    printed = capsys.readouterr().out
    report = (out / "compare" / "report.html").resolve()
    assert f"report: {report}" in printed
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(dict.fromkeys(runs["scenario"])) == ["status_quo", "child_money",
                                                     "shock_responsive_topup", "insurance",
                                                     "hybrid_transfer"]
    costs = pd.read_csv(out / "compare" / "cost_effectiveness.csv").set_index("scenario")
    assert (costs["baseline"] == "status_quo").all()  # reforms against today's policies
    assert costs.loc["child_money", "extra_fiscal_cost_kmnt"] > 0


def _failing_run(name: str):
    from experiments.run.runner import simulate

    def run(scenario, seed, panel_fraction=0.0):
        if scenario.name == name:
            raise RuntimeError("the model failed")
        return simulate(scenario, seed, panel_fraction=panel_fraction)
    return run


def test_a_scenario_whose_every_run_failed_is_left_out_and_named(tmp_path, capsys):
    files = write_scenarios(tmp_path / "sc")
    broken = tmp_path / "sc" / "small_broken.toml"
    broken.write_text('name = "small_broken"\nbase = "small_base.toml"\n')
    out = tmp_path / "batch"
    run_batch(load_scenarios([str(p) for p in [*files, broken]], 2), 3, out,
              backend="sequential", progress=False, run=_failing_run("small_broken"))
    assert cli.main(["compare", str(out), "--no-html"]) == 0
    printed = capsys.readouterr().out
    assert "not compared: small_broken (every run failed" in printed
    comparison = pd.read_csv(out / "compare" / "comparison.csv")
    assert set(comparison["scenario"]) == {"small_policy"}


@pytest.mark.parametrize("case", ["one_scenario", "only_baseline_ran", "baseline_failed"])
def test_nothing_to_compare_is_one_line_and_exit_2(case, tmp_path, capsys):
    files = write_scenarios(tmp_path / "sc")
    out = tmp_path / "batch"
    names = [str(files[0])] if case == "one_scenario" else [str(p) for p in files]
    failing = {"one_scenario": None, "only_baseline_ran": "small_policy",
               "baseline_failed": "small_base"}[case]
    run_batch(load_scenarios(names, 2), 2, out, backend="sequential", progress=False,
              run=_failing_run(failing) if failing else None)
    args = ["compare", str(out)] + (["--baseline", "small_base"] if failing else [])
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert {"one_scenario": "one scenario", "only_baseline_ran": "every run of small_policy",
            "baseline_failed": "every run of the baseline"}[case] in err[0]
    assert not (out / "compare").exists()

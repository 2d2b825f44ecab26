"""Who gains and who loses (experiments/analysis/distribution.py): the household outcomes
of a batch reproduce the run-level outcomes, group effects add up to the overall effect,
a policy identical to the baseline moves nobody, a transfer to small herds reaches the
smallest-herd quintiles, and compare and brief report it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from small_scenarios import write_scenarios

from experiments import cli
from experiments.analysis.compare import compare
from experiments.analysis.distribution import (
    BY,
    OUTCOMES,
    distribution,
    paired_households,
    read_outcomes,
)
from experiments.run.batch import load_scenarios, run_batch

R = 4


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("scenarios")
    files = write_scenarios(folder)
    # the baseline again under another name: every effect must be exactly zero
    same = folder / "small_same.toml"
    same.write_text('name = "small_same"\nbase = "small_base.toml"\n')
    # cash to the households with the smallest herds per person only
    cash = folder / "small_cash.toml"
    cash.write_text(
        'name = "small_cash"\nbase = "small_base.toml"\n'
        '[policies.needs_based_transfer]\namount = 60.0\nmeasure = "herd"\n'
        'herd_line = 15.0\nexclusion_error = 0.0\ninclusion_error = 0.0\n')
    out = tmp_path_factory.mktemp("dist") / "batch"
    run_batch(load_scenarios([str(p) for p in (*files, same, cash)], None), R, out,
              backend="sequential", progress=False)
    return out


@pytest.fixture(scope="module")
def outcomes(batch_dir) -> pd.DataFrame:
    o = read_outcomes(batch_dir)
    assert o is not None
    return o


@pytest.fixture(scope="module")
def dist(outcomes):
    return distribution(outcomes, ["small_base", "small_policy", "small_same", "small_cash"],
                        "small_base")


def test_household_poverty_years_add_up_to_the_runs_poverty_years(batch_dir, outcomes):
    """Two paths: the yearly headcount x households (runs.parquet) and the households'
    own poverty years summed."""
    runs = pd.read_parquet(batch_dir / "runs.parquet").set_index(["scenario", "replicate"])
    summed = (outcomes.astype({"scenario": str})  # read as categories
              .groupby(["scenario", "replicate"])["poverty_years"].sum())
    np.testing.assert_allclose(summed.sort_index().to_numpy(),
                               runs["poverty_years_total"].sort_index().to_numpy())
    full = pd.read_parquet(batch_dir / "household_outcomes.parquet")
    assert (full["poverty_years"] <= full["years"]).all()
    assert (full["years"] >= 1).all() and (full["years"] <= 5).all()


@pytest.mark.parametrize("scenario", ["small_policy", "small_cash"])
def test_the_overall_effect_is_the_paired_difference_of_the_runs(batch_dir, dist, scenario):
    """The runs' paired difference in poverty years (runs.parquet, from the yearly
    headcounts) is the households' paired effects plus the poverty years of the households
    that lived in the region in one run only (counted apart)."""
    runs = pd.read_parquet(batch_dir / "runs.parquet").set_index(["scenario", "replicate"])
    o = read_outcomes(batch_dir)
    pairs = paired_households(o, scenario, "small_base")
    key = ["replicate", "hid"]
    o = o.astype({"scenario": str})
    both = o[o["scenario"] == scenario].merge(o[o["scenario"] == "small_base"], on=key,
                                              how="outer", suffixes=("_s", "_b"))
    only_s = both.loc[both["scenario_b"].isna(), "poverty_years_s"].sum()
    only_b = both.loc[both["scenario_s"].isna(), "poverty_years_b"].sum()
    diff = (runs.loc[scenario, "poverty_years_total"]
            - runs.loc["small_base", "poverty_years_total"]).sum()
    overall = dist.of(scenario, "overall").iloc[0]
    assert overall["poverty_years"] * len(pairs) + only_s - only_b == pytest.approx(diff)
    assert overall["only_in_scenario_per_replicate"] * R == pytest.approx(
        both["scenario_b"].isna().sum())


@pytest.mark.parametrize("by", BY)
@pytest.mark.parametrize("scenario", ["small_policy", "small_cash"])
def test_group_effects_weighted_by_household_shares_add_up(dist, scenario, by):
    g = dist.of(scenario, by)
    overall = dist.of(scenario, "overall").iloc[0]
    assert g["households_share"].sum() == pytest.approx(1.0)
    for col, _, _ in OUTCOMES:
        assert (g["households_share"] * g[col]).sum() == pytest.approx(overall[col], abs=1e-9)


def test_a_scenario_identical_to_the_baseline_moves_nobody(dist):
    t = dist.table[dist.table["scenario"] == "small_same"]
    for col, _, _ in OUTCOMES:
        assert (t[col] == 0).all(), col
    assert set(dist.of("small_same", "beneficiary")["group"]) == {"others"}


def test_cash_for_small_herds_goes_to_the_smallest_herd_quintiles(dist):
    q = dist.of("small_cash", "quintile").set_index("group")
    received = q["received_kmnt"]
    assert received["Q1 (smallest herds)"] > 0
    # the line (15 SFU per person) is below the starting herds of the upper quintiles:
    # they are paid only if their herd falls below it (a dzud, a growing family)
    assert received["Q1 (smallest herds)"] > 10 * received["Q5 (largest herds)"]
    # of what the starting households receive (quintiles of equal size: their means add
    # up as their totals do), the two smallest quintiles get nearly all (measured: 97%)
    quintiles = received.loc[[g for g in received.index if g.startswith("Q")]]
    assert len(quintiles) == 5
    assert quintiles.iloc[:2].sum() > 0.9 * quintiles.sum()
    ben = dist.of("small_cash", "beneficiary").set_index("group")
    assert ben.loc["beneficiaries", "consumption_pc_mean_low"] > 0  # they consume more
    assert ben.loc["others", "received_kmnt"] <= 0.5


def test_compare_and_brief_report_who_gains(batch_dir, tmp_path, capsys):
    res = compare(batch_dir, baseline="small_base")
    assert res.distribution is not None
    table = pd.read_csv(res.out_dir / "distribution.csv")
    assert set(table["by"]) == {"overall", *BY}
    assert "Who gains" in res.text
    assert "Who gains and who loses" in (res.out_dir / "report.html").read_text()
    assert cli.main(["brief", str(batch_dir), "--baseline", "small_base", "--no-images"]) == 0
    md = (batch_dir / "brief" / "brief.md").read_text()
    assert "## Who gains and who loses" in md and "### small_cash" in md
    assert (batch_dir / "brief" / "distribution.csv").is_file()
    capsys.readouterr()


def test_a_batch_without_household_outcomes_is_compared_without_the_section(batch_dir, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(batch_dir, old)
    (old / "household_outcomes.parquet").unlink()
    shutil.rmtree(old / "compare", ignore_errors=True)
    res = compare(old, baseline="small_base")
    assert res.distribution is None
    assert not (res.out_dir / "distribution.csv").exists()
    assert "Who gains" not in res.text

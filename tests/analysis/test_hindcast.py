"""Hindcast: history replayed against the NSO census, for any aimag in NSO-format files.

The shared NSO folder holds only Zavkhan and Khuvsgul, so "another aimag" is a
synthetic one: Khuvsgul's rows renamed and perturbed (census scaled, mortality
jittered), with only the two required tables, as a new user might bring.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import hindcast_compute as hc
from experiments.cli import main as cli
from model.region import default_data_dir

DATA = default_data_dir()


def synthetic_aimag(tmp_path, name="Testaimag", scale=0.7, seed=1):
    rng = np.random.default_rng(seed)
    pop = pd.read_csv(DATA / hc.F_POP)
    pop = pop[pop["Aimag"] == "Khuvsgul"].copy()
    pop["Aimag"] = name
    pop["Thousand_head"] = pop["Thousand_head"] * scale
    mort = pd.read_csv(DATA / hc.F_MORT)
    mort = mort[mort["Aimag"] == "Khuvsgul"].copy()
    mort["Aimag"] = name
    cols = [c for c in mort.columns if c.startswith("Mort_") or c.startswith("All")]
    mort[cols] = np.clip(mort[cols] * rng.uniform(0.85, 1.15, size=(len(mort), 1)), 0, 0.9)
    pop.to_csv(tmp_path / hc.F_POP, index=False)
    mort.to_csv(tmp_path / hc.F_MORT, index=False)
    return tmp_path


@pytest.fixture(scope="module")
def zavkhan():
    return hc.run_hindcast(DATA, "Zavkhan", 1992, 2024, replicates=3, households=1500,
                           progress=False)


@pytest.fixture(scope="module")
def khuvsgul():
    return hc.run_hindcast(DATA, "Khuvsgul", 1992, 2024, replicates=3, households=1500,
                           progress=False)


@pytest.mark.parametrize("aimag", ["zavkhan", "khuvsgul"])
def test_hindcast_tracks_census_and_dzud_collapses(aimag, request):
    """Issue 8's check: total stock within 15% of the census in most years, the
    2000-02 and 2010 collapses reproduced (herd.offtake_rate is fitted on these two
    hindcasts, docs/VALIDATION.md; this guards the fit against model changes)."""
    result = request.getfixturevalue(aimag)
    s = result.summary
    assert s["years_compared"] == 32
    assert list(result.years.index) == list(range(1993, 2025))
    # most years within 15% of the census, and annual growth moves with the census
    assert s["share_within_tolerance"] >= 0.5
    assert s["corr_growth"] > 0.7
    # the 2000-02 and 2010 collapses are found in the census and reproduced
    by_years = {c["years"]: c for c in s["collapses"]}
    dzud = [c for y, c in by_years.items() if y.endswith("2001") or y.endswith("2002")
            or y.endswith("2010")]
    assert len(dzud) == 2
    assert all(c["reproduced"] for c in dzud)
    assert all(c["sim_trough_change"] < -0.1 for c in dzud)
    # the species mix follows the census: goats (the cashmere boom) within 0.3 log
    goat = result.species.set_index("species").loc["goat"]
    assert abs(goat["mean_log_error"]) < 0.3


def test_synthetic_aimag_runs_like_a_new_users_data(tmp_path, zavkhan):
    d = synthetic_aimag(tmp_path)
    r = hc.run_hindcast(d, "testaimag", 1992, 2024, replicates=1, households=400,
                        progress=False)
    assert r.aimag == "Testaimag"
    assert r.summary["years_compared"] == 32
    # errors of the same order as for the real aimags
    assert r.summary["rmse_log"] < 3 * max(zavkhan.summary["rmse_log"], 0.15)
    assert r.summary["corr_growth"] > 0.6
    # the missing optional tables were filled from fallbacks and said so
    assert any("not in the data folder" in n for n in r.notes)


def test_cli_writes_results_folder(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    d = synthetic_aimag(tmp_path / "data")
    out = tmp_path / "out"
    rc = cli(["hindcast", "--data", str(d), "--aimag", "Testaimag", "--start", "2005",
              "--end", "2015", "--replicates", "1", "--households", "300", "--out", str(out),
              "--no-png"])
    assert rc == 0
    assert "RMSE of log error" in capsys.readouterr().out
    years = pd.read_csv(out / "hindcast_years.csv")
    assert list(years["year"]) == list(range(2006, 2016))
    assert {"census", "sim_mean", "log_error"} <= set(years.columns)
    assert (out / "hindcast.html").is_file()
    assert (out / "hindcast_summary.json").is_file()


@pytest.mark.parametrize("argv, message", [
    (["--aimag", "Nowhere"], "available: Khuvsgul, Zavkhan"),
    (["--aimag", "Zavkhan", "--start", "1950"], "no census"),
    (["--aimag", "Zavkhan", "--start", "2010", "--end", "2005"], "must be after"),
])
def test_bad_input_is_one_line_exit_2(argv, message, capsys):
    rc = cli(["hindcast", "--data", str(DATA), *argv])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_data_folder_is_exit_2(tmp_path, capsys):
    assert cli(["hindcast", "--data", str(tmp_path), "--aimag", "Zavkhan"]) == 2
    assert "lacks required NSO table" in capsys.readouterr().err

"""`herdtrap frontier`: spec errors, the statistics on known cases, a small frontier end to
end (a point identical to the baseline costs and gains exactly nothing), resume after
kill -9, and the brief of a frontier folder."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from killing import kill_after_first_part

from experiments import cli
from experiments.analysis.frontier_compute import (
    Design,
    FrontierSpec,
    at_budget,
    equal_budget,
    point_table,
)

REPO = Path(__file__).resolve().parents[2]

SMALL = """
name = "small"
baseline = "status_quo"
replicates = 3
years = 3
households = 150
outcomes = ["poverty_headcount_mean", "asset_poverty_final"]
budgets = [200.0]

[[designs]]
name = "cash"
scenario = "needs_based_transfer"
policy = "needs_based_transfer"
lever = "amount"
values = [15.0, 60.0]

[[designs]]
name = "child_money"
policy = "child_money"
lever = "amount"
values = [100.0, 150.0]
"""


def _write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# --------------------------------------------------------------------------- bad specs

BAD = {
    "unknown key": SMALL + "\ncolour = 1\n",
    "no designs": SMALL.split("[[designs]]")[0],
    "one replicate": SMALL.replace("replicates = 3", "replicates = 1"),
    "unknown outcome": SMALL.replace('"asset_poverty_final"', '"happiness"'),
    "unknown policy": SMALL.replace('policy = "child_money"', 'policy = "lottery"'),
    "not numeric": SMALL.replace('lever = "amount"\nvalues = [100.0, 150.0]',
                                 'lever = "age_band"\nvalues = [1.0]'),
    "out of range": SMALL.replace("values = [15.0, 60.0]", "values = [15.0, 60000.0]"),
    "twice": SMALL.replace('name = "child_money"', 'name = "cash"'),
    "both": SMALL.replace('lever = "amount"\nvalues = [15.0, 60.0]',
                          'lever = "amount"\nlevers = ["amount"]\nvalues = [15.0, 60.0]'),
    "budget": SMALL.replace("budgets = [200.0]", "budgets = [-5.0]"),
    "toml": "name = \n",
    "yearly without horizons": SMALL.replace('"asset_poverty_final"', '"asset_poverty"'),
    "horizon after the end": SMALL.replace("years = 3", "years = 3\nhorizons = [2, 5]"),
    "parameter": SMALL.replace("budgets = [200.0]",
                               'budgets = [200.0]\n[parameters]\n"herd.colour" = 1.0'),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_spec_is_one_line_and_exit_code_2(case, tmp_path, capsys):
    spec = _write(tmp_path, BAD[case])
    rc = cli.main(["frontier", str(spec), "--out", str(tmp_path / "out"), "--no-images",
                   "--backend", "sequential", "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert str(spec) in err or "designs" in err
    assert not (tmp_path / "out").exists()  # nothing written


# --------------------------------------------------------------------------- statistics


def _spec(budgets=(150.0,)) -> FrontierSpec:
    return FrontierSpec(name="t", baseline="b", replicates=3, outcomes=("poverty_headcount_mean",),
                        budgets=budgets, designs=(
                            Design("a", "b", "p", ("x",), (1.0, 2.0), False),
                            Design("c", "b", "q", ("y",), (1.0, 2.0), False)))


def _pairs():
    """Design a: cost 100/200, gain 1/3 per replicate +-0.1; design c: cost 100/200, gain
    2/2.5. Known: at 150, a gains 2, c gains 2.25."""
    noise = np.array([-0.1, 0.0, 0.1])
    frames = {
        "a@1": pd.DataFrame({"cost": 100.0 + 0 * noise, "poverty_headcount_mean": 1.0 + noise}),
        "a@2": pd.DataFrame({"cost": 200.0 + 0 * noise, "poverty_headcount_mean": 3.0 + noise}),
        "c@1": pd.DataFrame({"cost": 100.0 + 0 * noise, "poverty_headcount_mean": 2.0 + noise}),
        "c@2": pd.DataFrame({"cost": 200.0 + 0 * noise, "poverty_headcount_mean": 2.5 - noise}),
    }
    return frames


class _Points:
    index = {"a@1": ("a", 1.0), "a@2": ("a", 2.0), "c@1": ("c", 1.0), "c@2": ("c", 2.0)}


def test_the_frontier_and_the_equal_budget_table_on_a_known_case():
    spec, pairs = _spec((150.0, 190.0, 250.0)), _pairs()
    points = point_table(spec, _Points, pairs)
    on = dict(zip(points["scenario"], points["on_frontier"], strict=True))
    # at 100, c (2.0) beats a (1.0); at 200, a (3.0) beats c (2.5)
    assert on == {"a@1": False, "a@2": True, "c@1": True, "c@2": False}
    a = at_budget(points[points["design"] == "a"], pairs, "poverty_headcount_mean", 150.0)
    np.testing.assert_allclose(a, [1.9, 2.0, 2.1])
    eq = equal_budget(spec, points, pairs).set_index(["budget", "design"])
    assert eq.loc[(150.0, "c"), "rank"] == 1 and eq.loc[(150.0, "c"), "gain_poverty_headcount_mean"] == pytest.approx(2.25)
    # at 190: a gains 2.8, c 2.45: a is best, by 0.35 on every replicate but one
    assert eq.loc[(190.0, "a"), "rank"] == 1
    assert eq.loc[(190.0, "a"), "margin_over_next"] == pytest.approx(0.35)
    # 250 is outside both designs' swept costs
    assert eq.loc[(250.0, "a"), "note"].startswith("budget outside")


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def small_frontier(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("frontier")
    spec = _write(tmp, SMALL)
    out = tmp / "out"
    assert cli.main(["frontier", str(spec), "--out", str(out), "--no-images",
                     "--backend", "sequential", "--no-progress"]) == 0
    return out


def test_a_small_frontier_writes_its_tables_and_report(small_frontier):
    f = small_frontier / "frontier"
    points = pd.read_csv(f / "points.csv")
    assert list(points["scenario"]) == ["cash@amount=15", "cash@amount=60",
                                        "child_money@amount=100", "child_money@amount=150"]
    # Child Money at today's amount is the status quo itself: nothing costs or changes
    same = points.set_index("scenario").loc["child_money@amount=100"]
    assert same["extra_cost"] == 0 and same["gain_poverty_headcount_mean"] == 0
    more = points.set_index("scenario").loc["child_money@amount=150"]
    assert more["extra_cost_low"] > 0  # paying more costs more, in every replicate
    cash = points[points["design"] == "cash"].set_index("value")
    assert cash.loc[60.0, "extra_cost"] > cash.loc[15.0, "extra_cost"] > 0
    eq = pd.read_csv(f / "equal_budget.csv")
    assert set(eq["design"]) == {"cash", "child_money"} and (eq["budget"] == 200.0).all()
    html = (f / "report.html").read_text()
    assert "Equal-budget frontier" in html and "<script" in html
    assert not re.search(r"<script[^>]*\bsrc=[\"']?(https?:)?//", html)  # plotly.js inline
    assert "kMNT per household per year" in (f / "summary.txt").read_text()


def test_the_brief_of_a_frontier_folder_shows_the_equal_budget_table(small_frontier):
    assert cli.main(["brief", str(small_frontier), "--no-images"]) == 0
    md = (small_frontier / "brief" / "brief.md").read_text()
    assert "## At equal budgets" in md and "At 200 kMNT per household per year" in md
    # a frontier's brief leads with its answer, not with every grid point's findings
    key = md.split("## Key findings")[1].split("##")[0]
    assert key.strip().startswith("- At 200 kMNT per household per year")
    assert "grid points against status_quo" in key and "cash@amount=15" not in key


def test_killed_part_way_a_frontier_resumes_to_the_same_result(tmp_path, small_frontier):
    spec = _write(tmp_path, SMALL)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "experiments.cli", "frontier", str(spec), "--out", str(out),
           "--no-images", "--backend", "sequential", "--no-progress", "--flush-every", "1"]
    kill_after_first_part(cmd, out)
    assert not (out / "frontier").exists()
    assert cli.main(cmd[3:]) == 0  # the same command resumes
    got = pd.read_csv(out / "frontier" / "points.csv")
    want = pd.read_csv(small_frontier / "frontier" / "points.csv")
    pd.testing.assert_frame_equal(got, want)


def test_a_frontier_under_climate_futures_ranks_the_designs_by_regret(tmp_path):
    futures = _write(tmp_path, '[today]\n[harsh]\n"climate.dzud_prob_scale" = 2.0\n'
                     '"climate.severity_shift" = 0.5\n', "futures.toml")
    spec = _write(tmp_path, SMALL.replace('budgets = [200.0]',
                                          f'budgets = [200.0]\nfutures = "{futures.name}"'))
    out = tmp_path / "out"
    assert cli.main(["frontier", str(spec), "--out", str(out), "--no-images",
                     "--backend", "sequential", "--no-progress"]) == 0
    f = out / "frontier"
    points = pd.read_csv(f / "points.csv")
    assert set(points["future"]) == {"today", "harsh"} and len(points) == 8
    # the same lever value costs and gains differently when winters are harder
    cash = points[points["design"] == "cash"].set_index(["future", "value"])
    assert cash.loc[("harsh", 60.0), "gain_poverty_headcount_mean"] != cash.loc[
        ("today", 60.0), "gain_poverty_headcount_mean"]
    rob = pd.read_csv(f / "robustness.csv")
    assert set(rob["design"]) <= {"cash", "child_money"} and (rob["max_regret"] >= 0).all()
    assert (rob.groupby("budget")["robust_rank"].min() == 1).all()
    assert "Across futures at equal budgets" in (f / "summary.txt").read_text()
    assert "Across climate futures" in (f / "report.html").read_text()


@pytest.mark.parametrize("flags", [["--jobs", "0"], ["--scheduler", "tcp://1.2.3.4:8786"],
                                   ["--flush-every", "0"]])
def test_bad_flags_are_one_line_and_exit_code_2(flags, tmp_path, capsys):
    spec = _write(tmp_path, SMALL)
    rc = cli.main(["frontier", str(spec), "--out", str(tmp_path / "out"), *flags])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()

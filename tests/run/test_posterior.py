"""herdtrap batch --posterior: one parameter draw per replicate, the same for every scenario;
compare and brief say that their intervals then include parameter uncertainty (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from small_scenarios import write_scenarios

from experiments.run.batch import load_scenarios, run_batch
from experiments.run.posterior import PosteriorError, load_posterior

ROOT = Path(__file__).resolve().parents[2]


def _posterior(path: Path, rows: dict[str, list[float]], weight=None) -> Path:
    frame = pd.DataFrame(rows)
    frame["weight"] = weight if weight is not None else 1.0
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """The same small batch (6 replicates) with fixed parameters and with a posterior over
    the offtake rate and the herd's running cost (which drives poverty most, docs/SENSITIVITY.md)."""
    tmp = tmp_path_factory.mktemp("posterior")
    scenarios = load_scenarios([str(p) for p in write_scenarios(tmp / "sc")], None)
    post = load_posterior(_posterior(tmp / "posterior.csv", {
        "herd.offtake_rate": [0.15, 0.18, 0.165, 0.155],
        "herd.running_cost_per_sfu": [2.0, 28.0, 15.0, 6.0]}))
    out = {}
    for name, p in (("fixed", None), ("posterior", post)):
        run_batch(scenarios, 6, tmp / name, backend="sequential", progress=False, posterior=p)
        out[name] = tmp / name
    return out, post


def test_each_replicate_draws_one_parameter_set_for_every_scenario(batches):
    out, post = batches
    m = json.loads((out["posterior"] / "manifest.json").read_text())
    draws = m["posterior"]["draws"]
    assert m["spec"]["posterior"] == post.sha256 and len(draws) == 6
    # every draw is a row of the posterior, and the replicates do not all draw the same row
    rows = {tuple(r) for r in post.frame[list(post.names)].to_numpy()}
    assert all(tuple(d[n] for n in post.names) in rows for d in draws.values())
    assert len({tuple(d.values()) for d in draws.values()}) > 1
    # deterministic in (root seed, replicate)
    assert post.draw(m["root_seed"], 3) == draws["3"]
    # the runs of replicate r of both scenarios used that draw: the same offtake rate gives
    # the same stock in year 1 for the two scenarios (the policy acts on wages only) ...
    ts = pd.read_parquet(out["posterior"] / "timeseries.parquet")
    y1 = ts[ts.year == 1].pivot(index="replicate", columns="scenario", values="sales_sfu")
    np.testing.assert_allclose(y1["small_base"], y1["small_policy"], rtol=0.05)
    # ... and runs with different draws differ from the fixed-parameter batch
    fixed = pd.read_parquet(out["fixed"] / "timeseries.parquet")
    f1 = fixed[fixed.year == 1].pivot(index="replicate", columns="scenario", values="sales_sfu")
    assert not np.allclose(y1["small_base"], f1["small_base"])


def test_parameter_uncertainty_widens_the_intervals_and_compare_says_so(batches):
    out, _ = batches
    width = {}
    for name, folder in out.items():
        r = subprocess.run([sys.executable, "-m", "experiments.cli", "compare", str(folder)],
                           capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 0, r.stderr
        if name == "posterior":
            assert "draws its parameters (herd.offtake_rate, herd.running_cost_per_sfu)" in r.stdout
        else:
            assert "stochastic variation only" in r.stdout
        levels = pd.read_csv(folder / "compare" / "levels.csv")
        lv = levels[(levels.outcome == "poverty_headcount_mean") & (levels.horizon == "run")
                    & (levels.scenario == "small_base")].iloc[0]
        width[name] = lv.ci_high - lv.ci_low
    assert width["posterior"] > 1.5 * width["fixed"], width


def test_the_brief_of_a_posterior_batch_says_why_its_intervals_are_wider(batches, tmp_path):
    out, _ = batches
    r = subprocess.run([sys.executable, "-m", "experiments.cli", "brief", str(out["posterior"]),
                        "--no-images"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    md = (out["posterior"] / "brief" / "brief.md").read_text()
    assert "from the fitted posterior" in md and "cover the uncertainty of these parameters" in md
    assert "--posterior" in md  # the reproduce command draws from the same posterior


@pytest.mark.parametrize("content, message", [
    ("a,b\n1,2\n", "no 'weight' column"),
    ("no.such,weight\n1,1\n", "'no.such' is not a parameter"),
    ("herd.offtake_rate,weight\n0.5,1\n", "herd.offtake_rate"),
    ("herd.offtake_rate,weight\n0.16,-1\n", "weights must be non-negative"),
])
def test_bad_posterior_files_are_one_line_errors(tmp_path, content, message):
    p = tmp_path / "p.csv"
    p.write_text(content)
    with pytest.raises(PosteriorError, match=message.replace(".", r"\.")):
        load_posterior(p)


def test_a_scenario_that_sets_a_drawn_parameter_is_refused(tmp_path):
    paths = write_scenarios(tmp_path / "sc")
    post = _posterior(tmp_path / "p.csv", {"income.offfarm_per_adult": [1500.0, 1700.0]})
    r = subprocess.run([sys.executable, "-m", "experiments.cli", "batch", *map(str, paths),
                        "-r", "2", "--posterior", str(post), "--backend", "sequential",
                        "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    assert "small_policy" in r.stderr and "income.offfarm_per_adult" in r.stderr
    assert not (tmp_path / "out").exists()

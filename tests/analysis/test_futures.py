"""Climate futures: `batch --futures` runs every design under every future (the future
changes the winters), `compare --futures` ranks the designs in each future with their
regret, and bad futures files are one line with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments import cli
from experiments.analysis.compare import compare_futures
from experiments.analysis.triggers import read_triggers
from model.scenario import SCENARIO_DIR

FUTURES = """
[today]
description = "as fitted"
[harsh]
description = "more and harder dzuds"
"climate.dzud_prob_scale" = 2.0
"climate.severity_shift" = 0.5
"""


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("futures")
    base = tmp / "f_base.toml"
    base.write_text(f'name = "f_base"\nbase = "{SCENARIO_DIR / "status_quo.toml"}"\n'
                    '[run]\nyears = 8\n[parameters]\n"population.households" = 250\n')
    cash = tmp / "f_cash.toml"
    cash.write_text('name = "f_cash"\nbase = "f_base.toml"\n'
                    '[policies.needs_based_transfer]\namount = 60.0\n')
    futures = tmp / "futures.toml"
    futures.write_text(FUTURES)
    out = tmp / "batch"
    assert cli.main(["batch", str(base), str(cash), "--futures", str(futures), "--replicates",
                     "4", "--out", str(out), "--backend", "sequential", "--no-progress"]) == 0
    return out


def test_every_design_runs_under_every_future_and_the_future_changes_the_winters(batch_dir):
    runs = pd.read_parquet(batch_dir / "runs.parquet")
    assert set(runs["scenario"]) == {"f_base@today", "f_base@harsh", "f_cash@today",
                                     "f_cash@harsh"}
    t = read_triggers(batch_dir)  # the status quo's index insurance records every winter
    index = t.groupby("scenario")["index"].mean()
    assert index["f_base@harsh"] > 1.5 * index["f_base@today"]
    # designs see the same winters within a future (paired)
    a = t[t["scenario"] == "f_base@harsh"].sort_values(["replicate", "year", "soum_code"])
    b = t[t["scenario"] == "f_cash@harsh"].sort_values(["replicate", "year", "soum_code"])
    assert (a["index"].to_numpy() == b["index"].to_numpy()).all()


def test_compare_futures_ranks_the_designs_and_computes_regret(batch_dir):
    res = compare_futures(batch_dir)
    t = res.ranking.table
    assert set(t["future"]) == {"today", "harsh"} and res.ranking.baseline == "f_base"
    for _, g in t.groupby("future"):
        best = g["gain"].max()
        assert (g["regret"] - (best - g["gain"])).abs().max() < 1e-12
        assert g.loc[g["best"], "regret"].iloc[0] == 0 and g["rank"].min() == 1
    base = t[t["design"] == "f_base"]
    assert (base["gain"] == 0).all()
    rob = res.ranking.robustness
    assert list(rob["robust_rank"]) == [1, 2]
    assert rob["max_regret"].is_monotonic_increasing
    # the usual comparison within each future, against the baseline of that future
    for f in ("today", "harsh"):
        assert res.per_future[f].baseline == f"f_base@{f}"
        assert (res.out_dir / f / "report.html").is_file()
    assert (res.out_dir / "futures.html").is_file()
    figs = {p.name for p in res.out_dir.glob("futures.*")}
    assert {"futures.png", "futures.svg"} <= figs or "futures.png/svg skipped" in res.text
    assert "minimax regret" in res.text


BAD = {
    "not climate": '[x]\n"herd.offtake_rate" = 0.16\n',
    "out of range": '[x]\n"climate.dzud_prob_scale" = 9.0\n',
    "unknown": '[x]\n"climate.colder" = 1.0\n',
    "name": '["a@b"]\n"climate.severity_shift" = 0.1\n',
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_futures_file_is_one_line_and_exit_code_2(case, tmp_path, capsys):
    f = tmp_path / "futures.toml"
    f.write_text(BAD[case])
    rc = cli.main(["batch", "baseline", "--futures", str(f), "--replicates", "2",
                   "--out", str(tmp_path / "out"), "--backend", "sequential"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and str(f) in err, err
    assert not (tmp_path / "out").exists()


def test_compare_futures_on_a_batch_without_futures_is_one_line(tmp_path, capsys):
    out = tmp_path / "plain"
    assert cli.main(["batch", "baseline", "--replicates", "2", "--years", "2", "--out",
                     str(out), "--backend", "sequential", "--no-progress"]) == 0
    capsys.readouterr()
    assert cli.main(["compare", str(out), "--futures"]) == 2
    assert "--futures" in capsys.readouterr().err


def test_the_demo_under_climate_futures_ranks_the_reforms(tmp_path, capsys):
    futures = tmp_path / "futures.toml"
    futures.write_text(FUTURES)
    out = tmp_path / "demo"
    assert cli.main(["demo", "--futures", str(futures), "--replicates", "2", "--years", "2",
                     "--out", str(out), "--backend", "sequential", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "minimax regret" in text and "futures.html" in text
    ranking = pd.read_csv(out / "compare" / "futures.csv")
    assert set(ranking["future"]) == {"today", "harsh"}
    assert "hybrid_transfer" in set(ranking["design"])

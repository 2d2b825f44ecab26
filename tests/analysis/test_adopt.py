"""`herdtrap adopt`: a fit's posterior medians become the parameter table's defaults
(issue 16: "the default shipped parameters are the posterior's central values")."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from experiments.analysis import adopt, fit
from model.parameters import parameter_table

ROOT = Path(__file__).resolve().parents[2]


def _summary(folder: Path, parameters: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(
        {"spec": "experiments/specs/fit_default.toml", "parameters": parameters}))
    return folder


def test_the_committed_fit_is_of_the_current_model_and_its_centers_are_parameter_sets():
    """The committed fit can be adopted (it is of the current model); its medoid is one of
    its particles and every central value lies inside the prior range."""
    assert fit._stale_text(fit.COMMITTED_FIT) == []
    post = pd.read_csv(fit.COMMITTED_FIT / "posterior.csv")
    names = [c for c in post.columns if c != "weight"]
    point = adopt.medoid(fit.COMMITTED_FIT, names)
    assert any(all(row[n] == point[n] for n in names) for _, row in post.iterrows())
    table = parameter_table()
    for center in ("medoid", "median"):
        for a in adopt.central_values(fit.COMMITTED_FIT, center):
            assert table[a.name].low <= a.new <= table[a.name].high, (center, a)
            assert a.old == table[a.name].default


def test_a_central_set_that_fits_worse_than_the_defaults_is_refused(tmp_path):
    """`herdtrap adopt` simulates the fit's targets at the defaults and at the central set
    (same seed) and refuses to write a set that fits worse: here an offtake rate at the top
    of its prior, which empties the herds of the hindcasts."""
    table_path = tmp_path / "parameters.toml"
    shutil.copy(ROOT / "model" / "parameters.toml", table_path)
    text = table_path.read_text()
    folder = _summary(tmp_path / "fit", {
        "herd.offtake_rate": {"median": 0.2, "q05": 0.19, "q95": 0.2, "prior": [0.13, 0.2]}})
    r = subprocess.run([sys.executable, "-m", "experiments.cli", "adopt", str(folder),
                        "--center", "median", "--seeds", "1", "--table", str(table_path)],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "worse than the current defaults" in r.stderr, r.stderr
    assert "current defaults" in r.stdout and "paired by seed" in r.stdout
    assert table_path.read_text() == text


def test_the_report_says_which_parameter_set_fits_best():
    from experiments.analysis.adopt import Fitness

    summary = {"epsilons": [9.0, 4.5]}
    params = {"herd.offtake_rate": 0.155}

    def comparison(defaults, medoid, rmse=(0.12, 0.19)):
        return {"defaults": {"params": params, "fitness": Fitness(
                    sum(defaults) / len(defaults), rmse[0], 0.8, len(defaults), defaults)},
                "medoid": {"params": params, "fitness": Fitness(
                    sum(medoid) / len(medoid), rmse[1], 0.5, len(medoid), medoid)}}

    # better on the fitted statistics (within noise) but worse on the held-out years
    text = "\n".join(fit._central_text(comparison((4.0, 5.0, 6.0), (3.0, 5.5, 5.0)), summary,
                                       adopted=False))
    assert "within the noise" in text and "the defaults stay the hand fit" in text
    assert "0.120 at the defaults against 0.190 at the medoid" in text and "same 3 seeds" in text
    # clearly better on both: adopt it
    text = "\n".join(fit._central_text(comparison((4.0, 5.0, 6.0), (2.0, 3.1, 3.9), (0.12, 0.1)),
                                       summary, adopted=False))
    assert "within the noise" not in text and "--center medoid" in text
    text = "\n".join(fit._central_text(comparison((4.0, 5.0), (4.0, 5.0)), summary, adopted=True))
    assert "adopted central set" in text
    # the central set's stock lower than the defaults' in every held-out target: said so
    c = comparison((4.0, 5.0, 6.0), (3.0, 5.5, 5.0))
    for label, bias in (("defaults", {"Zavkhan": 0.07, "Mongolia": -0.09}),
                        ("medoid", {"Zavkhan": -0.11, "Mongolia": -0.16})):
        f = c[label]["fitness"]
        c[label]["fitness"] = Fitness(f.distance, f.held_out_rmse, f.held_out_within, f.seeds,
                                      f.per_seed, bias)
    summary["targets"] = [{"label": "stock:Zavkhan", "held_out": False, "years": [1993, 2024],
                           "fit_until": 2015}]
    text = "\n".join(fit._central_text(c, summary, adopted=False))
    assert "Zavkhan +0.07 at the defaults, -0.11 at the medoid" in text
    assert "fit the stock of Zavkhan 1993–2015 best" in text and "pull the parameters apart" in text


def test_worse_on_either_the_fitted_or_the_held_out_statistics_vetoes_a_set():
    from experiments.analysis.adopt import Fitness, worse_than

    now = Fitness(4.0, 0.12, 0.8, 2, (4.0, 4.0))
    assert worse_than(now, Fitness(3.9, 0.11, 0.8, 2, (3.9, 3.9))) == []
    assert "fitted" in worse_than(now, Fitness(4.1, 0.11, 0.8, 2, (4.1, 4.1)))[0]
    assert "held-out" in worse_than(now, Fitness(3.0, 0.2, 0.8, 2, (3.0, 3.0)))[0]


def test_rounding_moves_a_median_by_at_most_a_fortieth_of_its_interval():
    for q05, q95, median in ((0.1424, 0.17, 0.15423), (1.84, 11.3, 5.7252), (0.0291, 0.276, 0.1414),
                             (100.0, 900.0, 433.3), (0.5, 0.5, 0.5)):
        step = adopt.rounding_step(q05, q95, median)
        rounded = round(median / step) * step
        if q95 > q05:
            assert step <= (q95 - q05) / 20 < 10 * step
            assert abs(rounded - median) <= (q95 - q05) / 40
        else:
            assert abs(rounded - median) <= 0.005 * median


def test_adopt_rewrites_defaults_and_sources_and_keeps_the_rest(tmp_path):
    table_path = tmp_path / "parameters.toml"
    shutil.copy(ROOT / "model" / "parameters.toml", table_path)
    before = tomllib.loads(table_path.read_text())
    folder = _summary(tmp_path / "fit", {
        "herd.offtake_rate": {"median": 0.16234, "q05": 0.15, "q95": 0.18, "prior": [0.13, 0.2]},
        "herd.precaution": {"median": 7.77, "q05": 2.0, "q95": 11.0, "prior": [0, 12]},
    })
    cmd = [sys.executable, "-m", "experiments.cli", "adopt", str(folder), "--table", str(table_path),
           "--center", "median", "--seeds", "0"]
    dry = subprocess.run([*cmd, "--dry-run"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "0.162" in dry.stdout and tomllib.loads(table_path.read_text()) == before
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    after = tomllib.loads(table_path.read_text())
    assert after["herd.offtake_rate"]["default"] == 0.162
    assert after["herd.precaution"]["default"] == 7.8
    src = after["herd.precaution"]["source"]
    assert src.startswith("[fit] posterior median") and "2.00-11.00" in src
    assert "Before the fit: " in src and not src.split("Before the fit: ")[1].startswith("[est]")
    # everything else is untouched
    for name in before:
        if name not in ("herd.offtake_rate", "herd.precaution"):
            assert after[name] == before[name], name
    # adopting again replaces the note instead of stacking a second one
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True).returncode == 0
    again = tomllib.loads(table_path.read_text())["herd.precaution"]["source"]
    assert again.count("[fit]") == 1 and again == src


@pytest.mark.parametrize("parameters, message", [
    ({"no.such_parameter": {"median": 1, "q05": 0, "q95": 2}}, "not in the parameter table"),
    ({"herd.offtake_rate": {"median": 0.9, "q05": 0.8, "q95": 0.95}}, "herd.offtake_rate"),
    ({"herd.offtake_rate": {"q05": 0.8}}, "not a fit summary"),
])
def test_a_bad_summary_is_a_one_line_error_and_writes_nothing(tmp_path, parameters, message):
    table_path = tmp_path / "parameters.toml"
    shutil.copy(ROOT / "model" / "parameters.toml", table_path)
    text = table_path.read_text()
    folder = _summary(tmp_path / "fit", parameters)
    r = subprocess.run([sys.executable, "-m", "experiments.cli", "adopt", str(folder),
                        "--center", "median", "--table", str(table_path)], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert table_path.read_text() == text


def test_a_fit_of_an_earlier_model_is_refused(tmp_path):
    folder = _summary(tmp_path / "fit", {
        "herd.offtake_rate": {"median": 0.16, "q05": 0.15, "q95": 0.18}})
    (folder / "manifest.json").write_text(json.dumps(
        {"sessions": [{"git": {"commit": "HEAD"}, "model_fingerprint": "0" * 16}]}))
    r = subprocess.run([sys.executable, "-m", "experiments.cli", "adopt", str(folder),
                        "--dry-run"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "earlier model" in r.stderr, r.stderr


def test_attribution_orders_parameters_by_held_out_harm_and_names_the_pull():
    """One parameter at a time: the table puts the move that harms the held-out years most
    first, pairs the fitted distance by seed, and says where a move fits the fitted years
    better and the held-out years worse."""
    from experiments.analysis.adopt import Fitness, attribution_rows

    now = Fitness(5.0, 0.12, 0.8, 3, (4.0, 5.0, 6.0), {"Zavkhan": 0.07, "Mongolia": -0.09})
    moves = {
        "herd.target_decay": Fitness(4.0, 0.24, 0.4, 3, (3.1, 4.0, 4.9),
                                     {"Zavkhan": -0.10, "Mongolia": -0.24}),
        "herd.offtake_rate": Fitness(7.0, 0.10, 0.8, 3, (6.0, 7.1, 7.9),
                                     {"Zavkhan": 0.14, "Mongolia": -0.02}),
        "consumption.mpc_cash": Fitness(5.0, 0.121, 0.8, 3, (4.5, 5.5, 5.0),
                                        {"Zavkhan": 0.07, "Mongolia": -0.09}),
    }
    base = {"herd.target_decay": 0.03, "herd.offtake_rate": 0.155, "consumption.mpc_cash": 0.3}
    point = {"herd.target_decay": 0.13, "herd.offtake_rate": 0.149, "consumption.mpc_cash": 0.36}
    rows = attribution_rows(now, base, point, moves)
    assert [r["parameter"] for r in rows] == ["herd.target_decay", "consumption.mpc_cash",
                                              "herd.offtake_rate"]
    assert rows[0]["distance_change"] == pytest.approx(-1.0)
    assert rows[0]["distance_se"] == pytest.approx(0.0, abs=0.06)
    assert rows[0]["held_out_change"] == pytest.approx(0.12)
    text = "\n".join(fit._attribution_text(now, rows, "medoid"))
    assert "| herd.target_decay | 0.03 → 0.13 | -1.00" in text
    assert "held-out mean log error Mongolia" in text and "-0.24" in text
    assert "`herd.target_decay` (0.03 → 0.13: RMSE 0.240)" in text
    assert "`herd.offtake_rate` (" not in text  # it helps the held-out years
    assert "The same move of `herd.target_decay` fits the fitted years better" in text


def test_adopt_attribute_moves_one_parameter_at_a_time(tmp_path):
    """`herdtrap adopt --dry-run --attribute` reports each changed parameter's move alone;
    without seeds it is refused with a clear message."""
    table_path = tmp_path / "parameters.toml"
    shutil.copy(ROOT / "model" / "parameters.toml", table_path)
    text = table_path.read_text()
    kappa = tomllib.loads(text)["herd.precaution"]["default"]  # its median is its default
    folder = _summary(tmp_path / "fit", {
        "herd.offtake_rate": {"median": 0.19, "q05": 0.18, "q95": 0.2, "prior": [0.13, 0.2]},
        "herd.precaution": {"median": kappa, "q05": 2.0, "q95": 11.0, "prior": [0, 12]},
        "herd.target_decay": {"median": 0.2, "q05": 0.1, "q95": 0.3, "prior": [0.02, 0.3]}})
    cmd = [sys.executable, "-m", "experiments.cli", "adopt", str(folder), "--center", "median",
           "--table", str(table_path), "--dry-run", "--attribute"]
    r = subprocess.run([*cmd, "--seeds", "0"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 2 and "--attribute simulates" in r.stderr, r.stderr
    r = subprocess.run([*cmd, "--seeds", "1"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout.split("one parameter at a time", 1)[1]
    # the two moved parameters, each alone; precaution is at its default and not moved
    assert "herd.offtake_rate" in out and "herd.target_decay" in out
    assert "herd.precaution" not in out
    assert table_path.read_text() == text


def test_the_report_compares_the_seed_noise_with_the_tolerance_and_names_wide_marginals():
    from experiments.analysis.adopt import Fitness

    now = Fitness(5.0, 0.12, 0.8, 3, (3.5, 5.0, 6.5))
    summary = {"epsilons": [9.0, 4.5], "parameters": {
        "herd.target_decay": {"q05": 0.03, "q95": 0.28, "prior": [0.02, 0.3]},   # 89%: wide
        "herd.offtake_rate": {"q05": 0.142, "q95": 0.17, "prior": [0.13, 0.2]}}}  # 40%
    text = fit._noise_text(now, summary)
    assert "standard deviation of 1.50 (from 3.50 to 6.50 over the 3 seeds, mean 5.00)" in text
    assert "ε = 4.50 is below that mean" in text
    assert "`herd.target_decay`" in text and "`herd.offtake_rate`" not in text
    summary["epsilons"] = [9.0, 5.5]
    assert "above that mean" in fit._noise_text(now, summary)
    assert fit._noise_text(Fitness(5.0, 0.1, 0.8, 1, (5.0,)), summary) == ""

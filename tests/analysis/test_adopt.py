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

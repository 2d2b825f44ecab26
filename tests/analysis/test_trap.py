"""Trap diagnostic: E[h(t+1) | h(t)], its equilibria and CIs, on panels with known dynamics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import trap_compute
from experiments.cli import main as cli

THRESHOLD = 20.0  # SFU per person


def s_shaped_panel(n=2500, years=10, seed=0) -> pd.DataFrame:
    """(1 + h') = (1 + h) exp(mu(z) + sigma e - sigma^2/2), mu rising through 0 at z_u.

    E[(1 + h') / (1 + h) | h] = exp(mu(z)): herds below THRESHOLD shrink in
    expectation, herds above grow; herds falling below 0.5 SFU/person exit.
    """
    rng = np.random.default_rng(seed)
    z = rng.uniform(1.0, 6.0, n)
    persons = rng.integers(2, 7, n)
    herding = np.ones(n, dtype=bool)
    rows = []
    sigma = 0.2
    for t in range(years + 1):
        h = np.expm1(z)
        rows.append(pd.DataFrame({"year": t, "household": np.arange(n),
                                  "herd_sfu": np.where(herding, h * persons, 0.0),
                                  "persons": persons, "herding": herding}))
        mu = 0.15 * np.tanh((z - np.log1p(THRESHOLD)) / 0.4)
        z = z + mu + sigma * rng.standard_normal(n) - sigma**2 / 2
        z = np.maximum(z, 0.0)
        herding = herding & (np.expm1(z) >= 0.5)
    df = pd.concat(rows, ignore_index=True)
    df["scenario"], df["replicate"] = "s_shaped", 0
    return df


def linear_panel(n=2000, years=8, seed=1) -> pd.DataFrame:
    """h' = 10 + 0.8 h + noise: one stable equilibrium at 50 SFU/person, no threshold."""
    rng = np.random.default_rng(seed)
    h = rng.uniform(1.0, 150.0, n)
    rows = []
    for t in range(years + 1):
        rows.append(pd.DataFrame({"year": t, "household": np.arange(n), "herd_sfu": h,
                                  "persons": 1, "herding": True}))
        h = np.maximum(10.0 + 0.8 * h + 3.0 * rng.standard_normal(n), 0.1)
    df = pd.concat(rows, ignore_index=True)
    df["scenario"], df["replicate"] = "linear", 0
    return df


def test_s_shaped_threshold_recovered_within_ci():
    panel = s_shaped_panel()
    est = trap_compute.estimate(trap_compute.transitions(panel), scenario="s", n_boot=100)
    thr = est.threshold
    assert thr is not None and thr["kind"] == "unstable"
    assert thr["h_lo"] <= THRESHOLD <= thr["h_hi"]
    assert thr["h_hi"] / thr["h_lo"] < 1.6  # a usefully narrow interval
    assert thr["support"] > 0.9
    assert "unstable threshold at" in est.message()


def test_linear_recursion_has_no_threshold():
    est = trap_compute.estimate(trap_compute.transitions(linear_panel()), scenario="linear", n_boot=50)
    assert est.threshold is None
    assert "no poverty-trap threshold" in est.message()
    stable = [e for e in est.equilibria if e["kind"] == "stable"]
    assert len(stable) == 1 and abs(stable[0]["h"] - 50.0) < 5.0


def test_transitions_treat_exit_as_absorbing_zero():
    panel = pd.DataFrame({
        "year": [0, 1, 2, 0, 1, 2], "household": [0, 0, 0, 1, 1, 1],
        "herd_sfu": [40.0, 8.0, 8.0, 40.0, 44.0, 48.0], "persons": 4,
        "herding": [True, False, False, True, True, True]})
    t = trap_compute.transitions(panel)
    # household 0: one transition into exit (10 -> 0), none from the exited state
    h0 = t[t["household"] == 0]
    assert list(h0["h"]) == [10.0] and list(h0["h_next"]) == [0.0]
    assert len(t[t["household"] == 1]) == 2


def test_transitions_follow_household_ids_not_slots():
    """Slot 0 holds household 0 until it dissolves after year 1; from year 2 it holds the
    new household 7. No transition joins the two; household 7's own years count."""
    panel = pd.DataFrame({
        "year": [0, 1, 2, 3], "household": [0, 0, 0, 0], "hid": [0, 0, 7, 7],
        "herd_sfu": [40.0, 36.0, 4.0, 8.0], "persons": [4, 4, 2, 2], "herding": True})
    t = trap_compute.transitions(panel)
    assert list(zip(t["household"], t["h"], t["h_next"], strict=True)) == [
        (0, 10.0, 9.0), (7, 2.0, 4.0)]


def test_trap_share_counts_exited_households_as_below():
    panel = pd.DataFrame({
        "scenario": "a", "replicate": 0, "year": [1, 1, 1, 1],
        "household": [0, 1, 2, 3], "herd_sfu": [10.0, 200.0, 400.0, 500.0],
        "persons": [1, 2, 4, 5], "herding": [True, True, True, False]})
    out = trap_compute.trap_share(panel, threshold=50.0)
    row = out.iloc[0]
    # h = 10 (below), 100, 100 (above), exited (below)
    assert row["trap_share"] == pytest.approx(0.5)
    assert row["trap_share_herding"] == pytest.approx(1 / 3)


def test_cli_writes_trap_folder(tmp_path, capsys):
    panel = s_shaped_panel(n=1500, years=8)
    panel.to_parquet(tmp_path / "panel.parquet")
    rc = cli(["trap", str(tmp_path), "--bootstrap", "40", "--no-png"])
    assert rc == 0
    printed = capsys.readouterr()
    assert "unstable threshold" in printed.out and "1 weather replicate" in printed.out
    # one replicate = one weather path: a one-line warning names the replicates needed
    warning = [line for line in printed.err.splitlines() if "warning" in line]
    assert len(warning) == 1 and f"at least {trap_compute.MIN_REPLICATES}" in warning[0]
    eq = pd.read_csv(tmp_path / "trap" / "trap.csv")
    assert "unstable" in set(eq["kind"])
    share = pd.read_csv(tmp_path / "trap" / "trap_share.csv")
    assert set(share["year"]) == set(range(9)) and share["trap_share"].between(0, 1).all()
    meta = json.loads((tmp_path / "trap" / "trap.json").read_text())
    assert meta["threshold_sfu_per_person"] == pytest.approx(eq.loc[eq["kind"] == "unstable",
                                                                     "h"].iloc[0], rel=1e-4)
    assert (tmp_path / "trap" / "trap_curve.html").is_file()


def test_head_conversion_uses_species_mix_and_family_size():
    # 100 sheep and 4 persons (25 SFU/person); 20 cattle + 20 horses and 6 persons
    # (260 SFU in 40 head, 43 SFU/person)
    panel = pd.DataFrame({"sheep": [100, 0], "goat": 0, "cattle": [0, 20], "horse": [0, 20],
                          "camel": 0, "persons": [4, 6], "herding": True})
    c = trap_compute.herd_conversion(panel)
    assert c["sfu_per_head"] == pytest.approx(360 / 140) and c["persons"] == pytest.approx(5.0)
    # 100 head per household of this mix and size = 51.4 SFU per person
    assert 100 * c["sfu_per_head"] / c["persons"] == pytest.approx(51.43, abs=0.01)
    near = trap_compute.herd_conversion(panel, around=25.0)  # only the sheep herd (25 SFU/person)
    assert near["rows"] == 1 and near["head_share"]["sheep"] == 1.0


def test_cli_without_panel_is_exit_2(tmp_path, capsys):
    assert cli(["trap", str(tmp_path)]) == 2
    assert "--household-panel" in capsys.readouterr().err


def test_validate_records_the_threshold_where_the_app_reads_it(tmp_path):
    """`herdtrap validate` writes validation/trap.json; the app shows that threshold and its CI."""
    from experiments.analysis import validate, validate_compute
    from experiments.webapp.explore import validation_threshold

    est = trap_compute.estimate(trap_compute.transitions(s_shaped_panel()), scenario="s", n_boot=50)
    path = validate.write_trap_json(tmp_path, est, replicates=4, seed=0,
                                    git={"commit": "0123456789abcdef", "dirty": False})
    assert path == tmp_path / validate_compute.TRAP_JSON_NAME
    shown = validation_threshold(path)
    assert shown["value"] == pytest.approx(est.threshold["h"])
    assert f"95% CI {est.threshold['h_lo']:.1f}–{est.threshold['h_hi']:.1f}" in shown["where"]
    assert "herdtrap validate" in shown["where"] and "model 0123456" in shown["where"]
    # no threshold (a linear recursion): nothing to show, no made-up number
    flat = trap_compute.estimate(trap_compute.transitions(linear_panel()), scenario="linear", n_boot=20)
    assert validation_threshold(validate.write_trap_json(
        tmp_path, flat, replicates=4, seed=0, git={})) is None
    (tmp_path / "broken.json").write_text("{not json")
    assert trap_compute.read_threshold(tmp_path / "broken.json") is None


# ---------------------------------------------------------------- honesty of the CI
#: Independent root seeds and the batch each one runs: the baseline (its 2,240
#: households) over 15 years with REPLICATES weather paths, every household in the panel.
#: Measured on 48 such batches (model of commit f1ad951): an interval covers 89% of the
#: other batches' thresholds (the t ideal below: 89%); the old household-only bootstrap
#: covered 23%, and none of 2,000 random sets of 10 batches reached the floor with it.
#: With the refitted economy (59866ac) the ten seeds here give 87% and 20% (old).
ROOT_SEEDS = range(10)
REPLICATES = 4


def _model_batch(root: int):
    """Panel of one baseline batch with root seed ``root`` (as `herdtrap batch`)."""
    from experiments.run.runner import simulate
    from model.scenario import load_scenario
    from model.streams import run_seed_sequence

    scen = load_scenario("baseline", years=15)
    frames = []
    for r in range(REPLICATES):
        p = simulate(scen, run_seed_sequence(5000 + root, r), panel_fraction=1.0).panel
        p["scenario"], p["replicate"] = scen.name, r
        frames.append(p[list(trap_compute.PANEL_COLUMNS)])
    return pd.concat(frames, ignore_index=True)


def test_threshold_ci_covers_the_estimates_of_other_root_seeds():
    """Batches that differ only in their root seed (their weather paths) give CIs
    that contain each other's point estimates about as often as an honest 95%
    interval would: for a t interval over R replicates that is P(|T_{R-1}| <
    t*/sqrt(2)) ~ 0.89 for R = 4 (both estimates vary). A CI that resamples
    households within fixed weather paths covers about a quarter of them.
    The threshold is used when every seed finds one, else the best-supported
    stable equilibrium (the check is about the CI, not the trap's existence)."""
    from scipy import stats

    ests = [trap_compute.estimate(trap_compute.transitions(_model_batch(root)), n_boot=100)
            for root in ROOT_SEEDS]
    if all(e.threshold is not None for e in ests):
        eq = [e.threshold for e in ests]
    else:
        stable = [[q for q in e.equilibria if q["kind"] == "stable"] for e in ests]
        assert all(stable), "some root seeds find neither a threshold nor a stable equilibrium"
        eq = [max(s, key=lambda q: q["support"]) for s in stable]
    h = np.array([q["h"] for q in eq])
    lo = np.array([q["h_lo"] for q in eq])
    hi = np.array([q["h_hi"] for q in eq])
    assert np.isfinite(lo).all() and np.isfinite(hi).all() and (lo <= h).all() and (h <= hi).all()
    k = len(ests)
    covered = [lo[i] <= h[j] <= hi[i] for i in range(k) for j in range(k) if i != j]
    rate = float(np.mean(covered))
    df = REPLICATES - 1
    expected = 2 * stats.t.cdf(stats.t.ppf(0.975, df) / np.sqrt(2), df) - 1
    # one CI per seed: allow 2.5 binomial standard errors of k draws below the rate
    floor = expected - 2.5 * np.sqrt(expected * (1 - expected) / k)
    assert rate >= floor, (f"intervals cover {rate:.0%} of the other seeds' estimates, expected "
                           f"about {expected:.0%} (at least {floor:.0%}): thresholds {np.round(h, 1)}, "
                           f"CIs {np.round(lo, 1)}-{np.round(hi, 1)}")
    # and they still say something: the median interval spans less than a factor of 4
    # (4 replicates x 15 years is a small batch; t = 3.18)
    assert np.median(hi / lo) < 4.0

"""RIMA-II-style resilience capacity index on simulated households."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import resilience as rima


def fake_households(n=600, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    wealth = rng.standard_normal(n)
    df = pd.DataFrame({"soum": rng.integers(0, 10, n), "replicate": 0})
    for pillar, variables in rima.PILLARS.items():
        for v in variables:
            df[v] = (wealth if pillar in ("AST", "AC") else 0.0) + rng.standard_normal(n)
    df["ssn_insured_share"] = 0.0  # nobody insured: no variation
    df[rima.OUTCOME] = wealth + 0.5 * rng.standard_normal(n)
    return df


def test_index_pillars_weights_and_scale():
    df = fake_households()
    idx = rima.fit_index(df)
    assert set(idx.weights) == {"ABS", "AST", "SSN", "AC"}
    assert sum(abs(w) for w in idx.weights.values()) == pytest.approx(1.0)
    # the pillars that carry the outcome get the weight
    assert idx.weights["AST"] > 0.3 and idx.weights["AC"] > 0.3
    assert abs(idx.weights["ABS"]) < 0.15
    assert idx.scores["RCI"].min() == pytest.approx(0) and idx.scores["RCI"].max() == pytest.approx(100)
    unused = idx.loadings[~idx.loadings["used"]]
    assert list(unused["variable"]) == ["ssn_insured_share"]
    ast = idx.loadings[idx.loadings["pillar"] == "AST"]
    assert (ast["loading"] > 0.4).all()


@pytest.fixture(scope="module")
def rima_run():
    return rima.run_rima(replicates=1, households=600, ks=(4,))


def test_model_households_have_every_pillar_variable(rima_run):
    panel = rima_run.panel
    for variables in rima.PILLARS.values():
        assert set(variables) <= set(panel.columns)
    assert panel["dzud_loss"].mean() > 0.1  # the 2009/10 winter hit hard
    assert (panel["ac_species_diversity"].between(0, 1)).all()
    # one row per household living in the region before the dzud, followed by its id
    assert not panel.duplicated(["replicate", "hid"]).any()


def test_pre_dzud_index_predicts_recovery(rima_run):
    t = rima_run.tests[4]
    assert 0.05 < t["recovery_rate"] < 0.95
    res = t["logit_unadjusted"]
    assert res["or_lo"] > 1.0  # higher capacity before the dzud, more recovery after it
    assert t["lpm"]["lo"] > 0

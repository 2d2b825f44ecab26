"""The levers of the paradox experiment (experiments/specs/paradox.toml): the hybrid's
state-contingent transfer that restores a household to the critical line (Ikegami et
al.), and an insurance subsidy targeted on herd per person."""

from __future__ import annotations

import dataclasses

import numpy as np

from model.model import HerdtrapModel
from model.policies.insurance import Insurance
from model.policies.programme import herd_sfu_per_person
from model.policies.transfers import HybridTransfer
from model.scenario import load_scenario
from model.species import SFU


def _replayed_dzud(policies: dict, households: int = 500):
    """Zavkhan and Khuvsgul from spring 2009, the 2009/10 dzud (NSO loss year 2010)."""
    sc = load_scenario("baseline").with_overrides(
        years=2, params={"population.households": households}, policies=policies)
    return dataclasses.replace(sc, start_year=2009, regime="replay", replay_years=(2010, 2011))


def test_the_state_contingent_transfer_restores_households_pushed_below_the_line(monkeypatch):
    line = 30.0
    seen = []
    original = HybridTransfer.schedule

    def record(self, step, amount, *args, **kwargs):
        m = self.model
        hh = m.households
        head_per_sfu = m.target_mix[hh.aimag] / SFU
        price = np.einsum("ij,ij->i", head_per_sfu, m.prices())
        seen.append((np.asarray(amount).copy(), hh.herd_sfu.copy(),
                     np.maximum(hh.persons, 1).copy(),
                     m.winter_outcome.before_sfu.copy(), price))
        return original(self, step, amount, *args, **kwargs)

    monkeypatch.setattr(HybridTransfer, "schedule", record)
    sc = _replayed_dzud({"hybrid_transfer": {
        "amount_poor": 0.0, "critical_line": line, "vulnerable_line": 60.0,
        "vulnerable_payment": "to_critical_line", "loss_threshold": 0.05}})
    m = HerdtrapModel(sc, seed=3, create_agents=False)
    for _ in range(4):
        m.step()
    assert seen, "the 2009/10 dzud triggers the shock part"
    amount, herd, persons, before, price = seen[0]
    paid = amount > 0
    assert paid.sum() >= 5
    # paid: non-poor before the winter, below the critical line after it
    assert (before[paid] >= line * persons[paid]).all()
    assert (herd[paid] < line * persons[paid]).all()
    # the amount buys back exactly the missing sheep units
    np.testing.assert_allclose(amount[paid] / price[paid], line * persons[paid] - herd[paid])
    # households that stayed above the line get nothing
    stayed = (before >= line * persons) & (herd >= line * persons)
    assert stayed.any() and (amount[stayed] == 0).all()


def test_a_targeted_subsidy_reaches_only_the_band(monkeypatch):
    low, high = 10.0, 40.0
    bands = []
    original = Insurance.sell

    def record(self, model):
        pp = herd_sfu_per_person(model)
        bands.append(((pp >= low) & (pp < high) & model.households.herding).copy())
        return original(self, model)

    monkeypatch.setattr(Insurance, "sell", record)
    sc = load_scenario("baseline").with_overrides(
        years=1, params={"population.households": 600},
        policies={"insurance": {"uptake": "fixed", "uptake_rate": 0.0, "subsidy_share": 1.0,
                                "subsidy_min_herd": low, "subsidy_max_herd": high,
                                "subsidy_uptake_rate": 1.0}})
    m = HerdtrapModel(sc, seed=1, create_agents=False)
    m.step()  # spring: the sales season
    band = bands[0]
    insured = m.households.insured.sum(axis=1) > 0
    # nobody outside the band takes it up (rate 0), everyone in it with animals does (free)
    assert band.sum() > 50
    assert not insured[~band].any()
    assert insured[band].mean() > 0.95
    sold = m.ledger.frame()
    subsidy = sold[(sold["account"] == "insurance") & (sold["item"] == "premium_subsidy")]
    assert subsidy["value"].sum() > 0

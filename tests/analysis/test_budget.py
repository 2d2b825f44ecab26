"""Budget neutrality: a policy scaled to a budget costs that budget within 2%."""

from __future__ import annotations

import pytest

from experiments.analysis.budget import BudgetError, expected_cost, scale_to_budget
from experiments.cli import main as cli
from model.scenario import load_scenario

SEEDS = [0, 1]


def _small(name: str):
    return load_scenario(name, years=6, params={"population.households": 300})


@pytest.mark.parametrize(("scenario", "policy", "lever", "factor"), [
    ("child_money", "child_money", "amount", 1.7),
    ("needs_based_transfer", "needs_based_transfer", "amount", 0.6),
    ("hybrid_transfer", "hybrid_transfer", "amount_vulnerable", 1.4),
])
def test_scaled_policy_hits_the_budget_within_2_percent(scenario, policy, lever, factor):
    base = _small(scenario)
    budget = factor * expected_cost(base, policy, SEEDS)
    scaled = scale_to_budget(base, policy, budget, lever=lever, seeds=SEEDS, tol=0.02)
    assert expected_cost(scaled, policy, SEEDS) == pytest.approx(budget, rel=0.02)
    assert scaled.policies[policy][lever] != base.policies[policy][lever]
    assert scaled.name.startswith(f"{base.name}@")


def test_two_policies_at_equal_cost():
    budget = 400_000.0
    a = scale_to_budget(_small("child_money"), "child_money", budget, seeds=SEEDS)
    b = scale_to_budget(_small("needs_based_transfer"), "needs_based_transfer", budget,
                        seeds=SEEDS)
    ca = expected_cost(a, "child_money", SEEDS)
    cb = expected_cost(b, "needs_based_transfer", SEEDS)
    assert ca == pytest.approx(budget, rel=0.02) and cb == pytest.approx(budget, rel=0.02)


def test_unreachable_budget_and_bad_inputs_are_clear_errors():
    base = _small("child_money")
    with pytest.raises(BudgetError, match="outside its range"):
        scale_to_budget(base, "child_money", 1e12, seeds=[0])
    with pytest.raises(BudgetError, match="not active"):
        scale_to_budget(base, "restocking", 1e5, seeds=[0])
    with pytest.raises(BudgetError, match="not a numeric lever"):
        scale_to_budget(base, "child_money", 1e5, lever="targeting", seeds=[0])


def test_command_line_writes_an_inheriting_scenario(tmp_path, capsys):
    out = tmp_path / "cm_budget.toml"
    code = cli(["budget", "child_money", "child_money", "300000", "--seeds", "0", "--out", str(out)])
    assert code == 0
    s = load_scenario(out, years=6, params={"population.households": 300})
    assert s.policies["child_money"]["amount"] != 20.0
    assert "expected fiscal cost" in capsys.readouterr().out
    assert cli(["budget", "child_money", "insurance", "1000"]) == 2


def test_a_budget_scales_a_lever_of_a_second_instance():
    """`herdtrap budget` addresses an instance's lever as policies.<name>.<lever>."""
    from experiments.analysis.budget import scale_to_budget
    from model.policies import TYPE_KEY
    from model.scenario import load_scenario

    sc = load_scenario("zavkhan_2019_20_pilot", years=2, params={"population.households": 200})
    scaled = scale_to_budget(sc, "shock_responsive_topup_2", 500.0, lever="amount", seeds=(0,))
    phase2 = scaled.policies["shock_responsive_topup_2"]
    assert phase2[TYPE_KEY] == "shock_responsive_topup"
    assert phase2["amount"] != sc.policies["shock_responsive_topup_2"]["amount"]
    assert scaled.policies["shock_responsive_topup"] == sc.policies["shock_responsive_topup"]

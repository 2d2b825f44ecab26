"""Policies: payout and premium formulas, ledger identities, common random numbers,
insurance in dzud vs. ordinary winters, the Zavkhan pilot and every scenario file."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from small_scenarios import assert_worlds

from experiments.run.runner import simulate
from model.household import income_index
from model.ledger import COUNT_ITEMS, NON_FISCAL_ACCOUNTS
from model.model import DECOUPLED, HerdtrapModel
from model.parameters import ParameterError
from model.policies import REGISTRY, validate_policies
from model.policies.insurance import bip_payout_rate, drp_payout_rate, premium_rates
from model.policies.programme import apply_targeting_errors, select_soums
from model.region import load_region
from model.scenario import SCENARIO_DIR, ScenarioError, load_scenario

REPO = Path(__file__).resolve().parents[2]
SMALL = {"population.households": 300}
#: every scenario file with a programme (baseline and no_policy have none)
POLICY_SCENARIOS = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")
                          if p.stem not in ("baseline", "no_policy"))


# ---------------------------------------------------------------- formulas (hand-computed)
def test_base_product_pays_between_trigger_and_exhaustion():
    index = np.array([0.0, 0.05, 0.07, 0.10, 0.30, 0.45])
    got = bip_payout_rate(index, trigger=0.07, exhaustion=0.30)
    np.testing.assert_allclose(got, [0, 0, 0, 0.03, 0.23, 0.23])
    # 100 insured sheep with SI 150 kMNT at 12% mortality: 100 * 150 * 0.05 = 750 kMNT
    assert 100 * 150 * bip_payout_rate(np.array(0.12), 0.07, 0.30) == pytest.approx(750.0)


def test_government_layer_pays_above_exhaustion_only():
    got = drp_payout_rate(np.array([0.1, 0.3, 0.45]), exhaustion=0.30)
    np.testing.assert_allclose(got, [0, 0, 0.15])
    # base + government layer = SI × (index − trigger) for any index above the trigger
    idx = np.linspace(0.07, 0.95, 50)
    np.testing.assert_allclose(bip_payout_rate(idx, 0.07, 0.3) + drp_payout_rate(idx, 0.3),
                               idx - 0.07)


def test_premium_is_expected_payout_times_loading_less_subsidy():
    full, hh = premium_rates(np.array([0.01, 0.02]), loading=1.5, subsidy_share=0.4)
    np.testing.assert_allclose(full, [0.015, 0.03])
    np.testing.assert_allclose(hh, [0.009, 0.018])


def test_targeting_errors():
    eligible = np.array([True, True, False, False])
    u = np.array([0.05, 0.5, 0.05, 0.5])
    got = apply_targeting_errors(eligible, u, exclusion_error=0.1, inclusion_error=0.1)
    assert got.tolist() == [False, True, True, False]


def test_soum_selection_by_name_code_and_rural():
    region = load_region(["Zavkhan", "Khuvsgul"])
    rural = select_soums(region, "Zavkhan:rural", "t")
    assert rural.sum() == 23 and not rural[list(region.soum_codes).index(18101)]
    four = select_soums(region, "Zavkhan:Ikh-Uul,Zavkhan:Tosontsengel,Bayantes,18149", "t")
    assert sorted(region.soum_codes[four]) == [18110, 18125, 18140, 18149]
    with pytest.raises(ParameterError, match="ambiguous"):
        select_soums(region, "Ikh-Uul", "t")
    with pytest.raises(ParameterError, match="matches no soum"):
        select_soums(region, "Atlantis", "t")


def test_bad_levers_are_rejected_with_the_key_named():
    with pytest.raises(ParameterError, match="policies.child_money.amount"):
        validate_policies({"child_money": {"amount": -5.0}}, "f.toml")
    with pytest.raises(ParameterError, match="unknown key policies.insurance.trigerr"):
        validate_policies({"insurance": {"trigerr": 0.1}}, "f.toml")
    with pytest.raises(ParameterError, match="allowed: ex_ante, ex_post, fixed"):
        validate_policies({"shock_responsive_topup": {"trigger": "sometimes"}}, "f.toml")
    with pytest.raises(ScenarioError, match="policies.training.rollout_years"):
        load_scenario("training", policies={"training": {"rollout_years": 0}})
    # levers that contradict each other or the data are refused when the scenario is
    # loaded (exit 2), not inside the run (a failed run in a batch)
    with pytest.raises(ScenarioError, match="trigger = 0.3 must be below exhaustion"):
        HerdtrapModel("insurance", seed=0, params=SMALL,
                      policies={"insurance": {"trigger": 0.3, "exhaustion": 0.2}})
    with pytest.raises(ScenarioError, match="matches no soum"):
        load_scenario("shock_responsive_topup",
                      policies={"shock_responsive_topup": {"soums": "Atlantis"}})


def test_every_lever_has_unit_source_and_valid_default():
    for name, cls in REGISTRY.items():
        for key, lever in cls.levers.items():
            assert lever.unit and lever.source and lever.description, (name, key)
            assert lever.validate(lever.default) is not None or lever.type == "str"


# ---------------------------------------------------------------- programmes
def test_universal_child_money_pays_every_child_every_month():
    # one year: members age and are born in spring, so the children of year 1 are those
    # at its end
    m = HerdtrapModel("baseline", seed=1, years=1, params=SMALL,
                      policies={"child_money": {"amount": 20.0}}).run()
    hh = m.households
    kids = int((hh.children_0_5 + hh.children_6_17).sum())
    paid = m.ledger.value(1, "child_money", "transfers")
    assert paid == pytest.approx(20.0 * 12 * kids)
    ts = m.metrics()
    assert ts["coverage_child_money"].iloc[0] == pytest.approx(1.0)
    assert ts["children_reached_child_money"].iloc[0] == kids


def test_child_money_pmt_targets_smaller_herds_and_schedule_raises_amount():
    m = HerdtrapModel("baseline", seed=1, years=2, params=SMALL, policies={"child_money": {
        "targeting": "pmt", "target_share": 0.5, "exclusion_error": 0.1, "inclusion_error": 0.1,
        "amount_by_year": "2021:100"}}).run()
    ts = m.metrics()
    # about half at the start; the cutoff is fixed at t = 0, so it falls as herds grow
    assert 0.3 < ts["coverage_child_money"].iloc[0] < 0.65
    cm = next(p for p in m.policies.active if p.name == "child_money")
    assert cm.amount(2020) == 20.0 and cm.amount(2021) == 100.0
    per_child = ts["payments_child_money"] / ts["children_reached_child_money"]
    assert per_child.iloc[1] == pytest.approx(5 * per_child.iloc[0], rel=1e-9)


def _run_years(model: HerdtrapModel, years: int) -> list[dict]:
    """Step year by year, returning the household income of each completed year."""
    out = []
    for _ in range(years):
        for _ in range(4):
            model.step()
        out.append({"year": model.year - 1, "income": model.last_year["income"]})
    return out


ALL_POLICIES = {
    "child_money": {}, "shock_responsive_topup": {"trigger": "ex_post", "loss_threshold": 0.02,
                                                  "lag": 0},
    "insurance": {"subsidy_share": 0.3, "payout_lag": 0}, "needs_based_transfer": {},
    "hybrid_transfer": {"loss_threshold": 0.02}, "social_insurance": {"subsidy_share": 0.5},
    "restocking": {"loss_threshold": 0.02, "min_household_loss": 0.0}, "training": {},
    "social_pension": {},
}


@pytest.fixture(scope="module")
def replay_all():
    """All policies on, two replayed dzud winters (2001, 2010) and an ordinary one (2015)."""
    scen = load_scenario("baseline", years=4, params=SMALL, policies=ALL_POLICIES)
    scen = replace(scen, regime="replay", replay_years=(2010, 2015, 2001), start_year=2020)
    model = HerdtrapModel(scen, seed=4)
    incomes = _run_years(model, 3)
    return model, incomes


def test_ledger_identities(replay_all):
    model, incomes = replay_all
    ledger = model.ledger.frame()
    for rec in incomes:
        y = rec["year"]
        rows = ledger[ledger["year"] == y]
        money = rows[~rows["item"].isin(COUNT_ITEMS)]
        # fiscal cost = the sum of its parts
        fiscal = money[~money["account"].isin(NON_FISCAL_ACCOUNTS)]
        metrics_row = model.metrics().set_index("year").loc[y]
        assert metrics_row["fiscal_cost"] == pytest.approx(fiscal["value"].sum(), rel=1e-12)
        for account, part in fiscal.groupby("account"):
            assert metrics_row[f"fiscal_cost_{account}"] == pytest.approx(part["value"].sum())
        # household cash received = what the ledgers paid out
        income = rec["income"]
        got_transfers = income[:, income_index("transfers")].sum()
        got_insurance = income[:, income_index("insurance")].sum()
        # transfers: the programmes' transfers and the fund's sickness/maternity benefits
        paid_transfers = money[(money["item"] == "transfers")]["value"].sum() + money[
            (money["account"] == "social_insurance_fund") & (money["item"] == "benefits")][
            "value"].sum()
        paid_insurance = money[money["item"].isin(["payouts", "loss_layer"])]["value"].sum()
        assert got_transfers == pytest.approx(paid_transfers, rel=1e-9)
        assert got_insurance == pytest.approx(paid_insurance, rel=1e-9)
        # pensions: the fund's contributory pensions and the treasury's social pensions
        pensions = money[money["item"] == "pensions"]
        assert set(pensions["account"]) == {"social_insurance_fund", "social_pension"}
        assert income[:, income_index("pension")].sum() == pytest.approx(
            pensions["value"].sum(), rel=1e-9)
        # the policy metrics agree with the ledger
        assert metrics_row["insurer_payouts"] == pytest.approx(
            money[(money["account"] == "insurer") & (money["item"] == "payouts")]["value"].sum())


def test_policies_show_up_in_a_replayed_dzud(replay_all):
    model, _ = replay_all
    ts = model.metrics().set_index("year")
    for name in ALL_POLICIES:
        assert ts[f"beneficiaries_{name}"].sum() > 0, name
    assert ts.loc[1, "insurer_payouts"] > 0  # 2010 dzud, paid in winter (payout_lag 0)
    assert ts.loc[1, "insurance_payouts_government"] > 0  # Zavkhan lost 36% in 2010
    assert ts.loc[2, "insurer_payouts"] == 0  # 2015: an ordinary winter
    assert ts.loc[3, "insurer_payouts"] > 0  # 2001 dzud
    # basis risk: own losses and index payouts correlate, but imperfectly
    assert 0.1 < ts.loc[1, "basis_corr_insurance"] < 0.95


def test_insurance_premiums_are_a_few_percent_of_sum_insured():
    m = HerdtrapModel("status_quo", seed=2, years=3, params=SMALL).run()
    ts = m.metrics()
    assert ts["insurance_premium_rate"].between(0.01, 0.05).all()
    # the status quo's uptake: 11% of herder households buy (fixed rule)
    assert ts["coverage_insurance"].between(0.05, 0.2).all()
    assert (ts["insurer_premiums"] > 0).all()


def test_subsidy_is_a_fiscal_cost_and_the_insurer_gets_the_full_premium():
    m = HerdtrapModel("insurance", seed=2, years=2, params=SMALL,
                      policies={"insurance": {"subsidy_share": 0.5}}).run()
    sub = m.ledger.value(1, "insurance", "premium_subsidy")
    prem = m.ledger.value(1, "insurer", "premiums")
    assert sub > 0 and sub == pytest.approx(prem / 2, rel=1e-9)


def test_social_insurance_coverage_near_2018_level():
    m = HerdtrapModel("social_insurance", seed=3, years=2, params={"population.households": 2000},
                      policies={"social_insurance": {"subsidy_share": 0.0}}).run()
    assert m.metrics()["coverage_social_insurance"].iloc[0] == pytest.approx(0.26, abs=0.04)
    sub = HerdtrapModel("social_insurance", seed=3, years=2, params={"population.households": 2000},
                        policies={"social_insurance": {"subsidy_share": 1.0}}).run()
    assert sub.metrics()["coverage_social_insurance"].iloc[0] > 0.5


def test_training_raises_cashmere_and_lowers_losses_for_trained_only():
    m = HerdtrapModel("training", seed=3, years=4, params=SMALL).run()
    hh = m.households
    pol = next(p for p in m.policies.active if p.name == "training")
    assert 0.2 < pol.coverage(m) < 0.4  # share of the households in scope, not of slots
    np.testing.assert_allclose(hh.cashmere_factor[pol.trained], 1.1)
    # loss_factor starts as each household's persistent winter-loss factor (model init;
    # households founded during the run start at 1)
    n0 = m.initial.n
    start = np.ones(hh.n)
    start[:n0] = m.initial.loss_factor
    start[hh.formed_year > 0] = 1.0
    np.testing.assert_allclose(hh.loss_factor[~pol.trained], start[~pol.trained])
    np.testing.assert_allclose(hh.loss_factor[pol.trained],
                               (1.0 - pol.settings["loss_reduction"]) * start[pol.trained])
    assert m.ledger.value(1, "training", "training") == pytest.approx(
        500.0 * m.ledger.value(1, "training", "beneficiaries"))


# ---------------------------------------------------------------- common random numbers
def _winters(model: HerdtrapModel, years: int) -> np.ndarray:
    out = []
    for _ in range(years):
        for _ in range(4):
            model.step()
        out.append(model.winter.soum_mortality.copy())
    return np.array(out)


def test_policies_change_no_climate_draw():
    base = HerdtrapModel("baseline", seed=11, years=6, params=SMALL)
    pol = HerdtrapModel("combined", seed=11, years=6, params=SMALL)
    np.testing.assert_array_equal(_winters(base, 6), _winters(pol, 6))


def test_worlds_with_policies_active():
    """Starsim's test_worlds (as in test_model.py), with every policy on: with the
    interaction channels (soum density, prices, the aimag's species mix) off, changing
    one household in arm B changes no one else's trajectory, payments, insurance or
    enrolment."""
    a, b, others = assert_worlds(
        lambda: HerdtrapModel("baseline", seed=5, years=6, params={**SMALL, **DECOUPLED},
                              policies=ALL_POLICIES),
        0, lambda m: m.run())
    for pa, pb in zip(a.policies.active, b.policies.active, strict=True):
        np.testing.assert_allclose(pa.paid[others], pb.paid[others], err_msg=pa.name)


# ---------------------------------------------------------------- the Zavkhan pilot
def test_zavkhan_pilot_reproduces_the_design_and_reports_reach():
    m = HerdtrapModel("zavkhan_2019_20_pilot", seed=0, years=2)
    assert m.spec.start_year == 2019 and m.spec.replay_years == (2020,)
    assert m.region.aimags == ("Zavkhan",)
    for _ in range(4):  # year 1: spring 2019 to the winter 2019/20
        m.step()
    hh = m.households
    codes = m.region.soum_codes[hh.soum]
    phase1_soums = np.isin(codes, [18125, 18140, 18110, 18149])
    p1 = next(p for p in m.policies.active if p.name == "shock_responsive_topup")
    p2 = next(p for p in m.policies.active if p.name == "shock_responsive_topup_2")
    assert p1.soum_mask.sum() == 4 and p2.soum_mask.sum() == 23
    kids1 = hh.children_0_5[phase1_soums].sum()
    kids2_winter = hh.children_0_5[codes != 18101].sum()
    ages_winter = hh.ages.copy()
    m.step()  # spring 2020: members are a year older, babies are born
    hh = m.households
    codes = m.region.soum_codes[hh.soum]
    kids2_spring = hh.children_0_5[codes != 18101].sum()
    # children who turned 6 left the top-up's band; the test would be empty without them
    turned_six = ((ages_winter == 5) & (hh.ages[:ages_winter.shape[0]] == 6)).sum()
    assert turned_six > 0
    m.run()
    # phase 1: MNT 40,000 once per child 0-5 in the four soums, December 2019 (year 1)
    assert m.ledger.value(1, "shock_responsive_topup", "transfers") == pytest.approx(40.0 * kids1)
    assert m.ledger.value(2, "shock_responsive_topup", "transfers") == 0.0
    # phase 2: MNT 20,000 x 3 months per child 0-5 in the rural soums: Feb (winter of
    # year 1), Mar-Apr (spring of year 2: the children 0-5 after a year of ageing)
    assert m.ledger.value(1, "shock_responsive_topup_2", "transfers") == pytest.approx(
        20.0 * kids2_winter)
    assert m.ledger.value(2, "shock_responsive_topup_2", "transfers") == pytest.approx(
        40.0 * kids2_spring)
    ts = m.metrics().set_index("year")
    assert ts.loc[1, "children_reached_total_shock_responsive_topup"] == kids1
    assert ts.loc[1, "pilot_children_shock_responsive_topup"] == 2729
    assert ts.loc[1, "pilot_children_shock_responsive_topup_2"] == 6747
    # the replayed winter 2019/20 is NSO loss year 2020 (Zavkhan SFU mortality 2.4%)
    assert ts.loc[1, "mortality_sfu_zavkhan"] == pytest.approx(0.024, abs=0.012)


def test_pilot_runs_from_the_command_line(tmp_path):
    out = tmp_path / "pilot"
    exe = Path(sys.executable).with_name("herdtrap")
    res = subprocess.run([str(exe), "run", "zavkhan_2019_20_pilot", "--years", "2", "--out",
                          str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert ts["reach_ratio_shock_responsive_topup_2"].iloc[0] > 0
    ledger = pd.read_parquet(out / "ledger.parquet")
    assert {"shock_responsive_topup", "shock_responsive_topup_2", "child_money"} <= set(
        ledger["account"])


# ---------------------------------------------------------------- every scenario file
@pytest.mark.parametrize("name", POLICY_SCENARIOS)
def test_every_scenario_runs_and_its_policy_shows_up(name):
    scen = load_scenario(name, params={"population.households": 400})
    assert scen.policies, f"{name} has no policy"
    out = simulate(scen, seed=0)
    ts, ledger = out.timeseries, out.ledger
    for policy in scen.policies:
        assert f"beneficiaries_{policy}" in ts and f"payments_{policy}" in ts
        assert policy in set(ledger["account"])
        assert ts[f"beneficiaries_{policy}"].sum() > 0, f"{name}: {policy} reached nobody"
    assert ts["fiscal_cost"].sum() > 0
    assert out.summary["fiscal_cost_total"] > 0

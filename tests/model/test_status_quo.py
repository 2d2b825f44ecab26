"""The status quo and dated policy schedules (issue 13): a run in any year gets the
policies in force that year, every reform is the status quo plus what it states, and
the demo, compare and brief compare reforms with the status quo."""

from __future__ import annotations

import tomllib

import pytest

from experiments.analysis import compare_compute
from experiments.run import demo
from model.model import HerdtrapModel
from model.scenario import SCENARIO_DIR, ScenarioError, build_scenario, load_scenario

SMALL = {"population.households": 200}
REFORMS = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")
                 if p.stem not in ("baseline", "no_policy", "status_quo"))


def _paid_per_child_month(scenario, start_year: int, years: int = 1) -> list[float]:
    """Child Money paid per child reached per month, each simulated year."""
    sc = load_scenario(scenario, params=SMALL).with_overrides(years=years)
    sc = build_scenario(name=sc.name, run={"years": years, "aimags": list(sc.aimags),
                                           "start_year": start_year},
                        parameters=sc.params, policies=sc.policies)
    ts = HerdtrapModel(sc, seed=3).run().metrics()
    return (ts["payments_child_money"] / ts["children_reached_child_money"] / 12).tolist()


# ---------------------------------------------------------------- schedules pick the year
def test_run_starting_2008_pays_the_quarterly_child_money_of_2007_2012():
    # MNT 25,000 a quarter = 8,333 a month (Ministry of Finance)
    assert _paid_per_child_month("status_quo", 2008) == pytest.approx([25.0 / 3], rel=1e-3)


def test_run_starting_2011_pays_the_human_development_fund_cash():
    # 2011: the HDF paid every citizen, children included, MNT 21,000 a month
    assert _paid_per_child_month("status_quo", 2011) == pytest.approx([21.0])


def test_a_run_through_the_history_follows_each_year_and_then_today():
    paid = _paid_per_child_month("status_quo", 2019, years=6)  # 2019 ... 2024
    assert paid == pytest.approx([20.0, 80.0, 100.0, 100.0, 100.0, 100.0], rel=1e-9)


def test_before_2005_no_child_money_and_before_2012_no_index_insurance():
    sc = load_scenario("status_quo", params=SMALL)
    sc = build_scenario(name="sq1998", run={"years": 2, "aimags": list(sc.aimags),
                                            "start_year": 2003},
                        parameters=sc.params, policies=sc.policies)
    ts = HerdtrapModel(sc, seed=1).run().metrics().set_index("calendar_year")
    assert ts.loc[2003, "payments_child_money"] == 0
    assert ts.loc[2004, "payments_child_money"] == 0
    assert ts["insurance_policies_sold"].sum() == 0
    assert ts["social_insurance_enrolled"].sum() > 0  # voluntary social insurance since 1995


def test_schedule_table_and_end_year_pay_nothing_outside_the_years_in_force():
    m = HerdtrapModel("baseline", seed=1, years=4, params=SMALL, policies={"child_money": {
        "amount": 20.0, "start_year": 2021, "end_year": 2022,
        "amount_by_year": {"2022": 50.0}}}).run()
    ts = m.metrics().set_index("calendar_year")
    assert ts.loc[2020, "payments_child_money"] == 0 and ts.loc[2023, "payments_child_money"] == 0
    per = ts["payments_child_money"] / ts["children_reached_child_money"] / 12
    assert per.loc[2021] == pytest.approx(20.0) and per.loc[2022] == pytest.approx(50.0)


def test_insurance_sold_in_its_last_year_still_pays_the_claims_after_it_ends():
    sc = build_scenario(name="ins", run={"years": 2, "aimags": ["Zavkhan"], "start_year": 2009},
                        climate={"regime": "replay", "replay_years": [2010, 2011]},
                        parameters=SMALL, policies={"insurance": {
                            "end_year": 2009, "uptake": "fixed", "uptake_rate": 0.5,
                            "payout_lag": 2}})
    ts = HerdtrapModel(sc, seed=1).run().metrics().set_index("calendar_year")
    assert ts.loc[2009, "insurance_policies_sold"] > 0
    assert ts.loc[2010, "insurance_policies_sold"] == 0
    assert ts.loc[2010, "insurer_payouts"] > 0  # the 2010 dzud, paid in summer 2010


@pytest.mark.parametrize(("levers", "expect"), [
    ({"amount_by_year": {"20x5": 3.0}}, "not a calendar year"),
    ({"amount_by_year": {"2005": -3.0}}, "outside the allowed range"),
    ({"amount_by_year": "2005-3"}, "not YEAR:VALUE"),
    ({"start_year": 2010, "end_year": 2005}, "is after end_year"),
    ({"targeting_by_year": {"2005": "lottery"}}, "allowed: universal, pmt"),
    ({"age_band_by_year": {"2005": "0-5"}}, "fixed when the run starts"),
])
def test_bad_schedules_are_one_clear_error_naming_the_key(levers, expect):
    with pytest.raises(ScenarioError, match=expect) as err:
        load_scenario("baseline", policies={"child_money": levers})
    msg = str(err.value)
    assert "\n" not in msg and "baseline.toml" in msg and "child_money" in msg


# ---------------------------------------------------------------- status quo and reforms
def test_status_quo_holds_todays_programmes_at_their_observed_levels():
    sq = load_scenario("status_quo")
    assert set(sq.policies) == {"child_money", "insurance", "social_insurance",
                                "social_pension"}
    assert sq.policies["social_pension"]["amount"] == 288.0
    assert sq.policies["child_money"]["amount"] == 100.0
    assert sq.policies["child_money"]["targeting"] == "universal"
    assert sq.policies["insurance"]["uptake_rate"] == pytest.approx(0.11)
    assert sq.policies["social_insurance"]["base_coverage"] == pytest.approx(0.262)
    assert load_scenario("no_policy").policies == {}
    assert load_scenario("no_policy").start_year == sq.start_year


@pytest.mark.parametrize("name", REFORMS)
def test_every_reform_is_the_status_quo_plus_its_stated_change(name):
    raw = tomllib.loads((SCENARIO_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    assert raw["base"] == "status_quo.toml"
    sq = load_scenario("status_quo")
    reform = load_scenario(name)
    stated = raw.get("policies", {})
    expected = build_scenario(name=name, run={"years": sq.years, "aimags": list(reform.aimags),
                                              "start_year": reform.start_year},
                              climate={"regime": reform.regime,
                                       "replay_years": list(reform.replay_years)},
                              parameters=reform.params,
                              policies={**{k: dict(v) for k, v in sq.policies.items()},
                                        **{k: {**sq.policies.get(k, {}), **v}
                                           for k, v in stated.items()}})
    assert reform.policies == expected.policies
    assert stated, f"{name} states no change"
    for policy, levers in stated.items():  # each stated lever differs from the status quo
        if policy in sq.policies:
            assert any(sq.policies[policy].get(k) != reform.policies[policy][k] for k in levers)


def test_child_money_reform_pays_more_than_the_status_quo_every_year():
    sq = HerdtrapModel("status_quo", seed=1, years=2, params=SMALL).run().metrics()
    cm = HerdtrapModel("child_money", seed=1, years=2, params=SMALL).run().metrics()
    assert (cm["payments_child_money"] / sq["payments_child_money"]).tolist() == pytest.approx(
        [1.5, 1.5], rel=0.05)


# ---------------------------------------------------------------- defaults
def test_demo_compare_and_brief_compare_with_the_status_quo():
    assert demo.DEMO_SCENARIOS[0] == "status_quo" and demo.DEMO_BASELINE == "status_quo"
    assert compare_compute.default_baseline(["child_money", "baseline", "status_quo"]) == "status_quo"
    assert compare_compute.default_baseline(["child_money", "baseline"]) == "baseline"
    assert compare_compute.default_baseline(["a", "b"]) == "a"

"""Named policy instances and levers declared once (model/policies/levers.toml).

A scenario may hold two instances of one policy under different names
(``[policies.<name>]`` with ``policy = "<policy>"``): each acts on its own levers and
reports under its own name. Every lever is declared once; levers several policies
share come from one group."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from model.model import HerdtrapModel
from model.policies import REGISTRY, TYPE_KEY, _load_builtin
from model.policies.levers import LEVERS_FILE, group_fields, policy_levers
from model.scenario import SCENARIO_DIR, ScenarioError, load_scenario

REPO = Path(__file__).resolve().parents[2]
BASE = f'base = "{SCENARIO_DIR / "baseline.toml"}"\n'
SMALL = {"population.households": 300}
#: a top-up paid once per child 0-5 in the winter after the autumn of the given year
ONCE = {"trigger": "fixed", "months": 1, "first_season_months": 1, "lag": 1, "age_band": "0-5"}
EARLY = {**ONCE, "years": [2020], "amount": 20.0, "soums": "Zavkhan"}
LATE = {**ONCE, "years": [2022], "amount": 55.0, "soums": "Khuvsgul"}


def _run(policies: dict) -> HerdtrapModel:
    """Three years from spring 2020 (winters 2020/21 .. 2022/23), Zavkhan and Khuvsgul."""
    return HerdtrapModel(load_scenario("baseline", years=3, params=SMALL, policies=policies),
                         seed=3).run()


def _columns(model: HerdtrapModel, name: str):
    ts = model.metrics().set_index("year")
    return ts[[c for c in ts.columns if c.endswith(f"_{name}")]]


def test_two_instances_of_one_policy_keep_their_own_levers_and_results():
    """The early top-up (2020, Zavkhan) and the late one (2022, Khuvsgul) in one scenario,
    the late one a second instance: each pays in its own year, soums and amount, and the
    early one pays exactly what it pays alone (the late one has not paid yet)."""
    both = _run({"shock_responsive_topup": EARLY,
                 "late_topup": {TYPE_KEY: "shock_responsive_topup", **LATE}})
    alone = _run({"shock_responsive_topup": EARLY})
    early, late = (next(p for p in both.policies.active if p.name == n)
                   for n in ("shock_responsive_topup", "late_topup"))
    assert type(late) is type(early)
    assert (late.settings["amount"], late.settings["years"]) == (55.0, "2022")
    # its own metric columns and ledger account, under its own name
    cols = _columns(both, "late_topup")
    assert {"payments_late_topup", "children_reached_total_late_topup"} <= set(cols)
    ledger = both.ledger.frame()
    paid = ledger[ledger["item"] == "transfers"].groupby(["account", "year"])["value"].sum()
    assert paid.loc["shock_responsive_topup"].index.tolist() == [1]   # winter 2020/21
    assert paid.loc["late_topup"].index.tolist() == [3]               # winter 2022/23
    # each in its own soums, paying its own amount per child (a whole number of children)
    r = both.region
    assert early.soum_mask.tolist() == (r.soum_aimag == r.aimags.index("Zavkhan")).tolist()
    assert late.soum_mask.tolist() == (r.soum_aimag == r.aimags.index("Khuvsgul")).tolist()
    for name, year, amount in (("shock_responsive_topup", 1, 20.0), ("late_topup", 3, 55.0)):
        children = paid.loc[(name, year)] / amount
        assert children > 0 and children == pytest.approx(round(children))
    # year 1: the early top-up's columns are those of the scenario without the late one
    ts_alone = alone.metrics().set_index("year")
    ts_both = both.metrics().set_index("year")
    early_cols = [c for c in ts_alone.columns if c.endswith("_shock_responsive_topup")]
    assert ts_both.loc[1, early_cols].equals(ts_alone.loc[1, early_cols])
    assert ts_both.loc[1, "payments_shock_responsive_topup"] > 0
    assert ts_both.loc[1, "payments_late_topup"] == 0


def test_instances_act_after_their_policy_in_registry_order():
    """The order of acting follows the policies' order in the registry; an instance named
    as its policy comes first, its further instances follow by name (so the Zavkhan
    pilot's phases act as phase 1, phase 2, as with the former subclass)."""
    sc = load_scenario("baseline", years=1, params=SMALL, policies={
        "training": {}, "b_topup": {TYPE_KEY: "shock_responsive_topup"},
        "a_topup": {TYPE_KEY: "shock_responsive_topup"}, "shock_responsive_topup": {},
        "child_money": {}})
    names = [p.name for p in HerdtrapModel(sc, seed=0).policies.active]
    assert names == ["child_money", "shock_responsive_topup", "a_topup", "b_topup", "training"]
    pilot = HerdtrapModel("zavkhan_2019_20_pilot", seed=0, years=1, params=SMALL)
    assert [p.name for p in pilot.policies.active if "topup" in p.name] == [
        "shock_responsive_topup", "shock_responsive_topup_2"]


def test_a_former_second_topup_table_still_means_a_second_instance(tmp_path):
    """A scenario written for the former ShockResponsiveTopup2 ([policies.
    shock_responsive_topup_2] without a policy key) resolves as the explicit form."""
    body = (BASE + '[run]\nyears = 1\n[parameters]\n'
            '"population.households" = 100\n[policies.shock_responsive_topup_2]\namount = 33.0\n')
    old = tmp_path / "old.toml"
    old.write_text(body)
    new = tmp_path / "new.toml"
    new.write_text(body.replace("amount = 33.0", 'policy = "shock_responsive_topup"\namount = 33.0'))
    a, b = load_scenario(old), load_scenario(new)
    assert a.policies == b.policies
    assert a.policies["shock_responsive_topup_2"][TYPE_KEY] == "shock_responsive_topup"


@pytest.mark.parametrize("table, message", [
    ('[policies.phase_2]\npolicy = "shock_responsive_top"\n',
     r"policies\.phase_2\.policy = 'shock_responsive_top' is not a policy; allowed: child_money,"),
    ('[policies.phase_2]\npolicy = 3\n', r"policies\.phase_2\.policy = 3 is not a policy"),
    ('[policies.phase_2]\namount = 3.0\n', r"unknown policy 'phase_2'.*policy = \"<policy>\""),
    ('[policies.child_money]\npolicy = "insurance"\n',
     r"\[policies\.child_money\] is the policy 'child_money'"),
    ('[policies.fund_2]\npolicy = "social_insurance"\n',
     r"social_insurance runs once per scenario.*allowed: .*shock_responsive_topup"),
    ('[policies.Phase-2]\npolicy = "shock_responsive_topup"\n', r"lower-case letters"),
    ('[policies.phase_2]\npolicy = "shock_responsive_topup"\nmonth = 2\n',
     r"unknown key policies\.phase_2\.month; allowed: "),
    ('[policies.phase_2]\npolicy = "shock_responsive_topup"\nlag = 9\n',
     r"policies\.phase_2\.lag = 9 is outside the allowed range \[0, 8\]"),
])
def test_a_bad_instance_is_one_error_naming_the_file_and_key(tmp_path, table, message):
    path = tmp_path / "bad.toml"
    path.write_text(f"{BASE}{table}")
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{path}: ")
    assert "\n" not in str(err.value)


def test_the_command_line_refuses_an_unknown_policy_type_with_exit_code_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BASE + '[policies.phase_2]\npolicy = "topup"\n')
    exe = Path(sys.executable).with_name("herdtrap")
    res = subprocess.run([str(exe), "run", str(path), "--years", "1", "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert res.returncode == 2
    assert f"{path}: policies.phase_2.policy = 'topup' is not a policy; allowed:" in res.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- levers declared once
def _lever_file() -> dict:
    return tomllib.loads((REPO / "model" / "policies" / LEVERS_FILE).read_text())


def test_levers_are_declared_only_in_the_lever_file():
    """No policy module builds a lever (a Param) itself: levers.toml is the one place."""
    offenders = []
    for path in sorted((REPO / "model" / "policies").glob("*.py")):
        if path.name == "levers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
                    "Param", "ChoiceParam", "ListParam", "lever", "choice", "list_lever"):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
    _load_builtin()
    for name, cls in REGISTRY.items():
        assert cls.levers == policy_levers(name), name


def test_no_policy_redeclares_a_shared_group():
    """A lever named as a group's lever takes it from the group and restates none of the
    group's fields with the group's value (so a group's unit or range is written once)."""
    raw = _lever_file()
    groups = raw["groups"]
    grouped = {lever: g for g, levers in groups.items() for lever in levers}
    checked = 0
    for policy in REGISTRY:
        for lever, row in raw[policy].items():
            if lever not in grouped:
                continue
            assert row.get("group") == grouped[lever], f"{policy}.{lever} is not in its group"
            same = {k for k, v in group_fields(row["group"])[lever].items() if row.get(k) == v}
            assert not same, f"[{policy}.{lever}] restates {same} of group {row['group']}"
            checked += 1
    assert checked >= 20  # admin_cost x7, active years, targeting errors, ages, thresholds


def lever_row(key: str, p) -> str:
    """A lever's row in docs/POLICIES.md: lever, default, range, unit, description, source."""
    def fmt(v):
        if v is None:
            return "none"
        if isinstance(v, bool):
            return "true" if v else "false"
        return f'"{v}"' if isinstance(v, str) else f"{v:g}"

    rng = "" if p.low is None else f"{p.low:g} – {p.high:g}"
    desc = p.description.replace("amount_by_year", "`amount_by_year`")
    return f"| `{key}` | {fmt(p.default)} | {rng} | {p.unit} | {desc} | {p.source} |"


def test_the_lever_tables_of_the_documentation_are_those_of_the_lever_file():
    """Each policy's section of docs/POLICIES.md lists every lever it declares, as
    levers.toml declares it (start_year/end_year may be listed for any policy)."""
    _load_builtin()
    text = (REPO / "docs" / "POLICIES.md").read_text()
    seen = set()
    for section in text.split("\n## "):
        title = section.splitlines()[0]
        if " — `" not in title:
            continue
        name = title.split(" — `")[1].split("`")[0]
        levers = REGISTRY[name].levers_of()
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        listed = [row.split("`")[1] for row in rows]
        assert set(REGISTRY[name].levers) <= set(listed), name
        for key, row in zip(listed, rows, strict=True):
            assert row == lever_row(key, levers[key]), f"{name}.{key}"
        seen.add(name)
    assert seen == set(REGISTRY)

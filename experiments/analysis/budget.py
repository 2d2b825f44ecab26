"""Budget neutrality: scale a policy lever so that the policy's expected fiscal
cost equals a budget, so that policies are compared at equal cost.

The expected cost C(x) of lever value x is the mean, over the given seeds
(common random numbers: the same seeds at every x), of the policy's yearly
fiscal cost over the horizon (ledger account = policy name; insurer money
excluded). C is close to linear in a payment lever (transfers scale with it;
admin and behaviour respond little), so a secant search on
f(x) = C(x) − budget converges in a few short runs::

    from experiments.analysis.budget import scale_to_budget
    s = scale_to_budget("child_money", "child_money", 500_000.0, lever="amount",
                        seeds=[0, 1, 2])
    # s is a Scenario with [policies.child_money] amount set; s.name ends in "@500000"

Command line (writes a scenario file that inherits the original)::

    herdtrap budget scenarios/child_money.toml child_money 500000 \
        --lever amount --seeds 0 1 2 --out scenarios/child_money_500m.toml
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from experiments.errors import UsageError
from model.scenario import Scenario, load_scenario


class BudgetError(UsageError, ValueError):
    """The budget cannot be reached with this lever (or the inputs are invalid): the
    command line prints it as one line, exit code 2."""


def expected_cost(scenario: Scenario, policy: str, seeds: Sequence[int]) -> float:
    """Mean over seeds of the policy's mean yearly fiscal cost (kMNT per year)."""
    from model.model import HerdtrapModel

    costs = []
    for seed in seeds:
        m = HerdtrapModel(scenario, seed=seed, create_agents=False, panel_rows=None).run()
        per_year = [m.ledger.fiscal_cost(y).get(policy, 0.0) for y in range(1, scenario.years + 1)]
        costs.append(float(np.mean(per_year)))
    return float(np.mean(costs))


def scale_to_budget(
    scenario: Scenario | str | Path,
    policy_name: str,
    budget_kmnt_per_year: float,
    *,
    lever: str = "amount",
    seeds: Sequence[int] = (0, 1, 2),
    tol: float = 0.02,
    max_iter: int = 12,
    verbose: bool = False,
) -> Scenario:
    """A copy of ``scenario`` whose ``policy_name.lever`` makes the policy's expected
    fiscal cost (mean yearly cost over the horizon, over ``seeds``) equal
    ``budget_kmnt_per_year`` within ``tol`` (relative).

    Raises BudgetError if the lever is not a number, the policy is not in the
    scenario, or the budget needs a value outside the lever's allowed range.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if policy_name not in scenario.policies:
        raise BudgetError(
            f"policy {policy_name!r} is not active in scenario {scenario.name!r} "
            f"(active: {', '.join(scenario.policies) or 'none'})"
        )
    if budget_kmnt_per_year <= 0:
        raise BudgetError(f"budget must be > 0 kMNT per year, got {budget_kmnt_per_year}")
    from model.policies import policy_class

    spec = policy_class(policy_name, scenario.policies[policy_name]).levers.get(lever)
    if spec is None or spec.type not in ("float", "int"):
        raise BudgetError(f"policies.{policy_name}.{lever} is not a numeric lever")
    low = spec.low if spec.low is not None else 0.0
    high = spec.high if spec.high is not None else np.inf

    def with_value(x: float) -> Scenario:
        v = int(round(x)) if spec.type == "int" else float(x)
        return scenario.with_overrides(policies={policy_name: {lever: v}})

    def f(x: float) -> float:
        c = expected_cost(with_value(x), policy_name, seeds)
        if verbose:
            print(f"  {lever} = {x:.6g}: cost {c:,.0f} kMNT/year", file=sys.stderr)
        return c

    target = float(budget_kmnt_per_year)
    x = float(scenario.policies[policy_name][lever])
    if x <= 0:
        x = min(max(low, 1.0), high)
    c = f(x)
    if c <= 0:
        raise BudgetError(
            f"policies.{policy_name} costs nothing at {lever} = {x:g} over this horizon "
            "(no payments were triggered); scale another lever or lengthen the horizon"
        )
    history = [(x, c)]
    for _ in range(max_iter):
        if abs(c - target) <= tol * target:
            break
        if len(history) >= 2 and history[-1][0] != history[-2][0]:
            (xa, ca), (xb, cb) = history[-2], history[-1]
            slope = (cb - ca) / (xb - xa)
            nxt = xb + (target - cb) / slope if slope > 0 else xb * target / max(cb, 1e-12)
        else:
            nxt = x * target / max(c, 1e-12)  # cost roughly proportional to the lever
        nxt = float(np.clip(nxt, low, high))
        if nxt == x:
            raise BudgetError(
                f"budget {target:,.0f} kMNT/year needs policies.{policy_name}.{lever} outside "
                f"its range [{low:g}, {high:g}] (cost at {x:g}: {c:,.0f} kMNT/year)"
            )
        x, c = nxt, f(nxt)
        history.append((x, c))
    if abs(c - target) > tol * target:
        raise BudgetError(
            f"could not reach {target:,.0f} kMNT/year within {tol:.0%} in {max_iter} steps "
            f"(last: {lever} = {x:g} costs {c:,.0f})"
        )
    v = int(round(x)) if spec.type == "int" else float(x)
    return scenario.with_overrides(
        policies={policy_name: {lever: v}},
        name=f"{scenario.name}@{budget_kmnt_per_year:g}",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", help="scenario file or name in scenarios/")
    parser.add_argument("policy", help="policy name, e.g. child_money")
    parser.add_argument("budget", type=float, help="budget in kMNT per year")
    parser.add_argument("--lever", default="amount", help="numeric lever to scale (default amount)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tol", type=float, default=0.02)
    parser.add_argument("--out", type=Path, default=None,
                        help="write a scenario file inheriting the original with the lever set")


def main(args: argparse.Namespace) -> int:
    """`herdtrap budget`: errors propagate to the command line (one line, exit code 2)."""
    base = load_scenario(args.scenario)
    scaled = scale_to_budget(base, args.policy, args.budget, lever=args.lever,
                             seeds=args.seeds, tol=args.tol, verbose=True)
    value = scaled.policies[args.policy][args.lever]
    cost = expected_cost(scaled, args.policy, args.seeds)
    print(f"{args.policy}.{args.lever} = {value:.6g} -> expected fiscal cost "
          f"{cost:,.0f} kMNT/year (budget {args.budget:,.0f}, "
          f"{(cost / args.budget - 1):+.2%})")
    if args.out:
        src = Path(base.source) if base.source else None
        rel = src.resolve() if src else None
        try:
            rel_path = rel.relative_to(args.out.resolve().parent) if rel else None
        except ValueError:
            rel_path = rel
        text = (
            f"# {args.policy} scaled to {args.budget:g} kMNT/year "
            f"(seeds {args.seeds}; herdtrap budget)\n"
            + (f'base = "{rel_path}"\n' if rel_path else "")
            + f'name = "{scaled.name}"\n\n[policies.{args.policy}]\n{args.lever} = {value!r}\n'
        )
        tmp = args.out.with_suffix(args.out.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(args.out)
        print(f"wrote {args.out}")
    return 0

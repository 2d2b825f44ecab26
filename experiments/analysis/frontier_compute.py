"""Equal-budget frontiers (issue 15, item 1): the spec, its scenarios, and the statistics.

A frontier spec (TOML) names policy designs; each design sweeps one lever (or scales
several together) over a grid. Every grid point is a scenario, run with the baseline
in one batch (paired replicates: common random numbers), so the whole frontier is one
resumable batch folder. From its ``runs.parquet``:

* per point, the paired extra fiscal cost per household per year (kMNT) and the gain
  on each outcome (baseline − scenario for outcomes where lower is better), each with
  a 95% Student-t interval over replicates;
* the frontier: the points no other point beats at the same or lower cost;
* the equal-budget table: each design's gain at the budgets the spec names, by linear
  interpolation between its two grid points around the budget (per replicate, on the
  points' mean costs), the best design, and its paired margin over the runner-up.

Spec keys::

    name = "frontier_example"          # results/frontier-<name>/ by default
    description = "Which design ..."   # optional: the question, in plain words
    baseline = "status_quo"            # scenario name or file
    replicates = 8                     # paired replicates per point
    years = 20                         # horizon of every scenario (optional)
    seed = 20200101                    # root seed (optional)
    households = 2240                  # population.households of every scenario (optional)
    outcomes = ["poverty_headcount_mean", "asset_poverty_final"]   # the first is the headline
    budgets = [50.0, 100.0, 200.0]     # kMNT per household per year, the equal-budget table

    [[designs]]
    name = "child_money"               # label
    scenario = "status_quo"            # the scenario the lever is set in (default: baseline)
    policy = "child_money"             # a policy of that scenario
    lever = "amount"                   # a numeric lever of the policy
    values = [120.0, 150.0, 200.0]     # the lever's values
    # or: levers = ["amount_poor", "amount_vulnerable"] with scale = [0.5, 1, 2]
    #     (multipliers of the scenario's values of all these levers)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.compare_compute import t_interval
from experiments.errors import UsageError
from experiments.run.runner import OUTCOMES
from experiments.specfile import need, read_toml
from model.scenario import Scenario, ScenarioError, load_scenario

SPEC_KEYS = {"name", "description", "baseline", "replicates", "years", "seed", "households", "outcomes",
             "budgets", "designs", "futures", "horizons", "parameters"}
#: separates a yearly outcome from its horizon in an outcome key: "poverty_headcount@10"
AT = "@"
DESIGN_KEYS = {"name", "scenario", "policy", "lever", "values", "levers", "scale"}
DEFAULT_OUTCOMES = ("poverty_headcount_mean", "asset_poverty_final")
COST = "fiscal_cost_per_household_year"
#: Upper bounds that keep a frontier a few-hours job at most.
MAX_POINTS = 200
MAX_REPLICATES = 1000


@dataclass(frozen=True)
class Design:
    name: str
    scenario: str
    policy: str
    levers: tuple[str, ...]
    values: tuple[float, ...]  # lever values (one lever) or multipliers (scale)
    scaled: bool  # values are multipliers of the scenario's lever values


@dataclass(frozen=True)
class FrontierSpec:
    name: str
    baseline: str
    replicates: int
    designs: tuple[Design, ...]
    outcomes: tuple[str, ...] = DEFAULT_OUTCOMES
    budgets: tuple[float, ...] = ()
    years: int | None = None
    seed: int | None = None
    households: int | None = None
    source: str = ""
    #: climate futures (experiments/run/futures.py): the frontier in each of them
    futures: tuple[Any, ...] = ()
    #: years at which yearly outcomes are read (outcome keys "name@year")
    horizons: tuple[int, ...] = ()
    #: parameter overrides of every scenario (baseline included)
    parameters: dict[str, Any] = field(default_factory=dict)
    #: the outcomes as the spec names them (before expansion over horizons)
    named_outcomes: tuple[str, ...] = ()
    #: what the frontier asks, in plain words (briefs and reports lead with it)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description or None,
                "baseline": self.baseline, "replicates": self.replicates,
                "years": self.years, "seed": self.seed, "households": self.households,
                "outcomes": list(self.named_outcomes or self.outcomes),
                "budgets": list(self.budgets), "horizons": list(self.horizons) or None,
                "parameters": dict(self.parameters) or None,
                "futures": {f.name: {"description": f.description, "params": f.params}
                            for f in self.futures} or None,
                "designs": [{"name": d.name, "scenario": d.scenario, "policy": d.policy,
                             "levers": list(d.levers), "values": list(d.values),
                             "scaled": d.scaled} for d in self.designs]}


def _numbers(raw: Mapping[str, Any], key: str, where: str) -> tuple[float, ...]:
    values = need(raw, key, (list,), where)
    if not values:
        raise UsageError(f"{where}: {key} must list at least one number")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise UsageError(f"{where}: {key} must be finite numbers, got {v!r}")
        out.append(float(v))
    if len(set(out)) != len(out):
        raise UsageError(f"{where}: {key} lists a value twice")
    return tuple(out)


def parse_spec(raw: Mapping[str, Any], where: str = "<spec>") -> FrontierSpec:
    """Validate a spec's TOML content; UsageError (one line: file and key) on bad input."""
    for key in raw:
        if key not in SPEC_KEYS:
            raise UsageError(f"{where}: unknown key {key!r}; allowed: "
                             f"{', '.join(sorted(SPEC_KEYS))}")
    name = need(raw, "name", (str,), where)
    if not name or any(c in name for c in "/\\") or name != name.strip():
        raise UsageError(f"{where}: name = {name!r}: a non-empty name without slashes")
    baseline = need(raw, "baseline", (str,), where, "status_quo")
    replicates = need(raw, "replicates", (int,), where)
    if not 2 <= replicates <= MAX_REPLICATES:
        raise UsageError(f"{where}: replicates = {replicates} is outside [2, {MAX_REPLICATES}] "
                         "(intervals need two)")
    years = need(raw, "years", (int,), where, None)
    if years is not None and not 1 <= years <= 200:
        raise UsageError(f"{where}: years = {years} is outside [1, 200]")
    seed = need(raw, "seed", (int,), where, None)
    if seed is not None and seed < 0:
        raise UsageError(f"{where}: seed = {seed} must be a non-negative integer")
    households = need(raw, "households", (int,), where, None)
    if households is not None and not 10 <= households <= 1_000_000:
        raise UsageError(f"{where}: households = {households} is outside [10, 1000000]")
    from experiments.outcomes import BY_NAME

    named = tuple(need(raw, "outcomes", (list,), where, list(DEFAULT_OUTCOMES)))
    horizons = tuple(need(raw, "horizons", (list,), where, []))
    if not all(isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= 200
               for h in horizons) or len(set(horizons)) != len(horizons):
        raise UsageError(f"{where}: horizons must be distinct whole years in [1, 200], "
                         f"got {list(horizons)}")
    if years is not None and horizons and max(horizons) > years:
        raise UsageError(f"{where}: horizon {max(horizons)} is after the last year ({years})")
    yearly = [k for k, o in BY_NAME.items() if o.kind == "yearly" and not k.startswith("fiscal")]
    outcomes: list[str] = []
    for o in named:
        if isinstance(o, str) and o in BY_NAME and BY_NAME[o].kind == "yearly" and horizons:
            if o.startswith("fiscal"):
                raise UsageError(f"{where}: outcomes: {o!r} is the cost, not an outcome")
            outcomes += [f"{o}{AT}{h}" for h in horizons]
        elif o in OUTCOMES and o != COST and not o.startswith("fiscal"):
            outcomes.append(o)
        else:
            allowed = ", ".join(k for k in OUTCOMES if not k.startswith("fiscal"))
            raise UsageError(f"{where}: outcomes: unknown outcome {o!r}; allowed: {allowed}"
                             + (f"; with horizons also {', '.join(yearly)}" if horizons else
                                "; yearly outcomes need horizons = [...]"))
    outcomes = tuple(outcomes)
    if not outcomes:
        raise UsageError(f"{where}: outcomes must name at least one outcome")
    parameters = need(raw, "parameters", (dict,), where, {})
    if parameters:
        from model.parameters import ParameterError, resolve

        try:
            resolve(parameters, where=f"{where}: parameters")
        except ParameterError as exc:
            raise UsageError(str(exc)) from None
    budgets = _numbers(raw, "budgets", where) if "budgets" in raw else ()
    if any(b <= 0 for b in budgets):
        raise UsageError(f"{where}: budgets must be > 0 (kMNT per household per year)")
    raw_designs = need(raw, "designs", (list,), where)
    if not raw_designs:
        raise UsageError(f"{where}: designs must list at least one [[designs]] table")
    designs = []
    for i, d in enumerate(raw_designs):
        w = f"{where}: designs[{i}]"
        if not isinstance(d, dict):
            raise UsageError(f"{w} must be a table ([[designs]])")
        for key in d:
            if key not in DESIGN_KEYS:
                raise UsageError(f"{w}: unknown key {key!r}; allowed: "
                                 f"{', '.join(sorted(DESIGN_KEYS))}")
        dname = need(d, "name", (str,), w)
        if not dname or any(c in dname for c in "/\\@="):
            raise UsageError(f"{w}: name = {dname!r}: a non-empty name without / \\ @ =")
        if "lever" in d and "levers" in d:
            raise UsageError(f"{w}: give lever (with values) or levers (with scale), not both")
        if "lever" in d:
            levers = (need(d, "lever", (str,), w),)
            if "scale" in d:
                values, scaled = _numbers(d, "scale", w), True
            else:
                values, scaled = _numbers(d, "values", w), False
        else:
            levers = tuple(need(d, "levers", (list,), w))
            if not levers or not all(isinstance(x, str) for x in levers):
                raise UsageError(f"{w}: levers must list lever names")
            if "values" in d:
                raise UsageError(f"{w}: with several levers give scale (multipliers), not values")
            values, scaled = _numbers(d, "scale", w), True
        designs.append(Design(name=dname, scenario=need(d, "scenario", (str,), w, baseline),
                              policy=need(d, "policy", (str,), w), levers=levers,
                              values=values, scaled=scaled))
    names = [d.name for d in designs]
    if len(set(names)) != len(names):
        raise UsageError(f"{where}: two designs are called "
                         f"{next(n for n in names if names.count(n) > 1)!r}")
    futures = _futures(raw.get("futures"), where)
    n_points = sum(len(d.values) for d in designs) * max(len(futures), 1)
    if n_points > MAX_POINTS:
        raise UsageError(f"{where}: {n_points} grid points (designs x futures); at most "
                         f"{MAX_POINTS}")
    return FrontierSpec(name=name, baseline=baseline, replicates=replicates,
                        designs=tuple(designs), outcomes=outcomes, budgets=budgets,
                        years=years, seed=seed, households=households, source=where,
                        futures=futures, horizons=horizons, parameters=dict(parameters),
                        named_outcomes=named,
                        description=need(raw, "description", (str,), where, ""))


def _futures(value: Any, where: str) -> tuple[Any, ...]:
    """``futures``: a futures file (path, relative to the spec's folder or the working
    folder), or the table a frontier folder records."""
    from experiments.run.futures import Future, load_futures

    if value is None:
        return ()
    if isinstance(value, dict):  # recorded in frontier.json
        return tuple(Future(k, v.get("description", ""), dict(v.get("params", {})))
                     for k, v in value.items())
    if not isinstance(value, str) or not value:
        raise UsageError(f"{where}: futures must be the path of a futures file, got {value!r}")
    path = Path(value)
    if not path.is_absolute() and not path.exists():
        near = Path(where).parent / path
        path = near if near.exists() else path
    return tuple(load_futures(path))


def load_spec(path: str | Path) -> FrontierSpec:
    """Read and validate a spec file."""
    return parse_spec(read_toml(path), where=str(path))


# --------------------------------------------------------------------------- scenarios


def point_name(design: Design, value: float) -> str:
    """Scenario name of a grid point, e.g. ``child_money@amount=150``."""
    what = "x" if design.scaled else f"{design.levers[0]}="
    return f"{design.name}@{what}{value:g}"


@dataclass
class Points:
    """The batch's scenarios: the baseline first, then every design's points."""

    baseline: Scenario
    scenarios: list[Scenario]
    #: scenario name -> (design, lever value or multiplier)
    index: dict[str, tuple[str, float]] = field(default_factory=dict)


def build_all(spec: FrontierSpec) -> dict[str | None, Points]:
    """The points of every future (key None without futures), in batch order."""
    if not spec.futures:
        return {None: build_scenarios(spec)}
    return {f.name: build_scenarios(spec, f) for f in spec.futures}


def build_scenarios(spec: FrontierSpec, future: Any = None) -> Points:
    """Every grid point as a scenario (UsageError for unknown scenarios, policies or levers,
    values outside a lever's range); under ``future``, named ``...@future``."""
    from model.policies import policy_class

    suffix = f"@{future.name}" if future is not None else ""

    def load(name: str) -> Scenario:
        try:
            s = load_scenario(name)
        except ScenarioError as exc:
            raise UsageError(f"{spec.source}: {exc}") from None
        over: dict[str, Any] = dict(spec.parameters)
        if future is not None:
            over.update(future.params)
        if spec.households is not None:
            over["population.households"] = spec.households
        return s.with_overrides(years=spec.years, params=over or None,
                                name=s.name + suffix)

    base = load(spec.baseline)
    out = [base]
    index: dict[str, tuple[str, float]] = {}
    for d in spec.designs:
        w = f"{spec.source}: design {d.name!r}"
        sc = base if d.scenario == spec.baseline else load(d.scenario)
        if d.policy not in sc.policies:
            raise UsageError(f"{w}: policy {d.policy!r} is not in scenario {sc.name!r} (its "
                             f"policies: {', '.join(sc.policies) or 'none'})")
        levers = policy_class(d.policy, sc.policies[d.policy]).levers
        for lever in d.levers:
            spec_l = levers.get(lever)
            if spec_l is None or spec_l.type not in ("float", "int"):
                numeric = [k for k, v in levers.items() if v.type in ("float", "int")]
                raise UsageError(f"{w}: {d.policy}.{lever} is not a numeric lever; numeric "
                                 f"levers: {', '.join(numeric)}")
        for v in d.values:
            changes: dict[str, Any] = {}
            for lever in d.levers:
                spec_l = levers[lever]
                x = float(sc.policies[d.policy][lever]) * v if d.scaled else v
                low = spec_l.low if spec_l.low is not None else -math.inf
                high = spec_l.high if spec_l.high is not None else math.inf
                if not low <= x <= high:
                    raise UsageError(f"{w}: {d.policy}.{lever} = {x:g} is outside its range "
                                     f"[{low:g}, {high:g}]")
                changes[lever] = int(round(x)) if spec_l.type == "int" else x
            name = point_name(d, v) + suffix
            try:
                point = sc.with_overrides(policies={d.policy: changes}, name=name)
            except ScenarioError as exc:
                raise UsageError(f"{w}: {exc}") from None
            out.append(point)
            index[name] = (d.name, v)
    return Points(baseline=base, scenarios=out, index=index)


# --------------------------------------------------------------------------- statistics


def _t(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t interval over replicates (non-finite values left out)."""
    x = np.asarray(x, dtype=float)
    return t_interval(x[np.isfinite(x)])


def sign_of(outcome: str) -> float:
    """+1 when lower is better (the gain is baseline − scenario), else −1."""
    from experiments.outcomes import BY_NAME

    o = BY_NAME.get(outcome.split(AT)[0])
    return 1.0 if o is None or o.better == "min" else -1.0


def _values(runs: pd.DataFrame, timeseries: pd.DataFrame | None, scenario: str,
            key: str) -> pd.Series:
    """Per replicate, outcome ``key`` of ``scenario``: a run summary, or with "@year" a
    yearly metric in that simulated year."""
    if AT not in key:
        return runs[runs["scenario"] == scenario].set_index("replicate")[key]
    name, year = key.split(AT)
    if timeseries is None:
        raise UsageError(f"outcome {key!r} needs the batch's timeseries.parquet")
    t = timeseries[(timeseries["scenario"] == scenario) & (timeseries["year"] == int(year))]
    return t.set_index("replicate")[name]


def paired(runs: pd.DataFrame, spec: FrontierSpec, points: Points,
           timeseries: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Per point, per replicate: extra cost and gains (wide frames, replicates as index)."""
    ok = runs[runs["status"] == "ok"]
    base_name = points.baseline.name
    b = ok[ok["scenario"] == base_name].set_index("replicate")
    base = {o: _values(ok, timeseries, base_name, o) for o in spec.outcomes}
    out = {}
    for name in points.index:
        s = ok[ok["scenario"] == name].set_index("replicate")
        reps = s.index.intersection(b.index)
        d = pd.DataFrame(index=reps)
        d["cost"] = s.loc[reps, COST] - b.loc[reps, COST]
        for o in spec.outcomes:
            v = _values(ok, timeseries, name, o)
            d[o] = sign_of(o) * (base[o].reindex(reps) - v.reindex(reps))
        out[name] = d
    return out


def point_table(spec: FrontierSpec, points: Points, pairs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per grid point: extra cost and gains with 95% CIs; on_frontier (headline)."""
    rows = []
    for name, (design, value) in points.index.items():
        d = pairs[name]
        row: dict[str, Any] = {"design": design, "value": value, "scenario": name,
                               "replicates": len(d)}
        row["extra_cost"], row["extra_cost_low"], row["extra_cost_high"] = _t(d["cost"])
        for o in spec.outcomes:
            row[f"gain_{o}"], row[f"gain_{o}_low"], row[f"gain_{o}_high"] = _t(d[o])
        rows.append(row)
    df = pd.DataFrame(rows)
    head = f"gain_{spec.outcomes[0]}"
    cost, gain = df["extra_cost"].to_numpy(), df[head].to_numpy()
    # on the frontier: no other point costs no more and gains more (or as much for less)
    dominated = [bool(np.any(((cost <= c) & (gain > g)) | ((cost < c) & (gain >= g))))
                 for c, g in zip(cost, gain, strict=True)]
    df["on_frontier"] = ~np.array(dominated, dtype=bool)
    return df


def at_budget(design_points: pd.DataFrame, pairs: dict[str, pd.DataFrame], outcome: str,
              budget: float) -> np.ndarray | None:
    """Per replicate, the design's gain at ``budget`` by linear interpolation between its
    two points around it (x: the points' mean extra costs); None outside the swept range."""
    p = design_points.sort_values("extra_cost")
    x = p["extra_cost"].to_numpy()
    if len(x) == 0 or budget < x.min() or budget > x.max():
        return None
    ys = np.column_stack([pairs[s][outcome].to_numpy() for s in p["scenario"]])
    return np.array([np.interp(budget, x, y) for y in ys])


def equal_budget(spec: FrontierSpec, points: pd.DataFrame,
                 pairs: dict[str, pd.DataFrame], outcome: str | None = None) -> pd.DataFrame:
    """Each design's gain (headline outcome, or ``outcome``) at each budget, the best, and
    its margin over the next."""
    o = outcome or spec.outcomes[0]
    rows = []
    for budget in spec.budgets:
        gains = {}
        for d in spec.designs:
            g = at_budget(points[points["design"] == d.name], pairs, o, budget)
            if g is not None:
                gains[d.name] = g
        ranked = sorted(gains, key=lambda k: -float(np.mean(gains[k])))
        for rank, name in enumerate(ranked, start=1):
            m, lo, hi = _t(gains[name])
            row = {"budget": budget, "design": name, "rank": rank, f"gain_{o}": m,
                   f"gain_{o}_low": lo, f"gain_{o}_high": hi,
                   "margin_over_next": float("nan"), "margin_low": float("nan"),
                   "margin_high": float("nan"), "best": rank == 1}
            if rank < len(ranked):  # paired margin over the next design (same replicates)
                mm, mlo, mhi = _t(gains[name] - gains[ranked[rank]])
                row.update(margin_over_next=mm, margin_low=mlo, margin_high=mhi)
            rows.append(row)
        for d in spec.designs:
            if d.name not in gains:
                rows.append({"budget": budget, "design": d.name, "rank": None,
                             f"gain_{o}": float("nan"), "best": False,
                             "note": "budget outside the design's swept costs"})
    return pd.DataFrame(rows)


def robustness(spec: FrontierSpec, per_future: dict[str, tuple[pd.DataFrame, dict]]
               ) -> pd.DataFrame:
    """At each budget, each design's regret in each future (the best design's gain there
    minus its own, per replicate: the replicates share seeds across futures' points) and
    its largest regret over the futures; ``per_future``: future -> (points, pairs)."""
    o = spec.outcomes[0]
    rows = []
    for budget in spec.budgets:
        gains = {}
        for f, (points, pairs) in per_future.items():
            for d in spec.designs:
                g = at_budget(points[points["design"] == d.name], pairs, o, budget)
                if g is not None:
                    gains[(f, d.name)] = g
        for f in per_future:
            here = {d: g for (ff, d), g in gains.items() if ff == f}
            if not here:
                continue
            best = max(here, key=lambda d: float(np.mean(here[d])))
            for d, g in here.items():
                r, lo, hi = _t(here[best] - g)
                rows.append({"budget": budget, "future": f, "design": d, "regret": r,
                             "regret_low": lo, "regret_high": hi, "best": d == best})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    worst = df.loc[df.groupby(["budget", "design"])["regret"].idxmax()]
    futures_reached = df.groupby(["budget", "design"])["future"].nunique()
    worst = worst.assign(futures=worst.set_index(["budget", "design"]).index.map(futures_reached))
    worst = worst.rename(columns={"regret": "max_regret", "regret_low": "max_regret_low",
                                  "regret_high": "max_regret_high", "future": "worst_future"})
    worst = worst.drop(columns="best").sort_values(["budget", "max_regret"])
    worst["robust_rank"] = worst.groupby("budget").cumcount() + 1
    return worst.reset_index(drop=True)


def by_outcome(spec: FrontierSpec, points: pd.DataFrame,
               pairs: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The equal-budget table of every outcome key (long: an ``outcome`` column, and
    ``gain``, ``gain_low``, ``gain_high``)."""
    frames = []
    for o in spec.outcomes:
        eq = equal_budget(spec, points, pairs, o)
        eq = eq.rename(columns={f"gain_{o}": "gain", f"gain_{o}_low": "gain_low",
                                f"gain_{o}_high": "gain_high"})
        frames.append(eq.assign(outcome=o))
    out = pd.concat(frames, ignore_index=True)
    return out[["outcome", *[c for c in out.columns if c != "outcome"]]]


def outcome_table(spec: FrontierSpec,
                  per: dict[str | None, tuple[pd.DataFrame, dict]]) -> pd.DataFrame:
    """:func:`by_outcome` of every future (a ``future`` column with futures); empty unless
    the spec has budgets and more than one outcome key."""
    if not spec.budgets or len(spec.outcomes) < 2:
        return pd.DataFrame()
    return pd.concat([by_outcome(spec, p, pairs).assign(future=f) if f is not None
                      else by_outcome(spec, p, pairs) for f, (p, pairs) in per.items()],
                     ignore_index=True)


def compute_all(spec: FrontierSpec, runs: pd.DataFrame, where: str = "",
                timeseries: pd.DataFrame | None = None) -> tuple[
        pd.DataFrame, pd.DataFrame, dict[str | None, tuple[pd.DataFrame, dict]]]:
    """Points and equal-budget tables of every future (a ``future`` column with futures),
    and future -> (points, pairs). UsageError when a point has fewer than two pairs."""
    points_all, eq_all, per = [], [], {}
    for future, points_of in build_all(spec).items():
        pairs = paired(runs, spec, points_of, timeseries)
        missing = [n for n, d in pairs.items() if len(d) < 2]
        if missing:
            raise UsageError(f"{where}: fewer than two paired replicates for "
                             f"{', '.join(missing)} (failed runs?); see runs.parquet, "
                             "column error")
        points = point_table(spec, points_of, pairs)
        eq = equal_budget(spec, points, pairs) if spec.budgets else pd.DataFrame()
        if future is not None:
            points.insert(0, "future", future)
            if not eq.empty:
                eq.insert(0, "future", future)
        per[future] = (points, pairs)
        points_all.append(points)
        eq_all.append(eq)
    eq = pd.concat(eq_all, ignore_index=True) if spec.budgets else pd.DataFrame()
    return pd.concat(points_all, ignore_index=True), eq, per


__all__ = ["AT", "COST", "by_outcome", "compute_all", "outcome_table", "DEFAULT_OUTCOMES", "Design", "FrontierSpec", "Points", "at_budget",
           "build_all", "build_scenarios", "robustness", "equal_budget", "load_spec", "paired",
           "parse_spec", "point_name", "point_table", "sign_of"]

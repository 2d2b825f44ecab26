"""The computing part of `herdtrap sensitivity SPEC.toml` (Sobol or Morris sensitivity
analysis with SALib): the spec, the sample, the runs and the indices. The command is
:mod:`experiments.analysis.sensitivity`; the report (HTML, figures, printed summary)
:mod:`experiments.report.sensitivity_render`.

A sensitivity spec (TOML) names the parameters to vary, the method, the
sample size, the outcomes, the scenario they apply to and the number R of
replicate seeds per sample row::

    name = "sobol_main"
    model = "herdtrap"             # or "ishigami" (SALib's test function)
    method = "sobol"               # or "morris"
    n = 512                        # Sobol: base samples (power of 2); Morris: trajectories
    second_order = false           # Sobol only: also S2 (2D + 2 rows per base sample)
    num_levels = 4                 # Morris only: grid levels
    replicates = 2                 # R replicate seeds per row (the same for every row)
    root_seed = 0                  # replicate r's seed = run_seed_sequence(root_seed, r)
    seed = 12345                   # sampler and bootstrap seed
    bootstrap = 1000               # bootstrap resamples for the confidence intervals
    conf_level = 0.95
    scenario = "baseline"          # scenario file or name in scenarios/
    years = 30                     # optional: override the scenario's horizon
    outcomes = ["poverty_headcount_final", "effect_poverty_headcount_final"]
    policy_scenario = "child_money"  # needed by effect_* outcomes
    baseline_scenario = "baseline"   # default: scenario
    parameters = "all"             # or a list of names from model/parameters.toml
    trap_threshold = 43.2          # SFU per person; needed by the trap_share_final outcome

    [ranges]                       # optional: narrow a parameter's range (inside the table's)
    "herd.offtake_rate" = [0.14, 0.17]

    [fixed]                        # optional: parameter overrides held fixed in every run
    "population.households" = 1000

The SALib problem (names, bounds) comes from the one parameter table
(:func:`model.parameters.uncertain_parameters`). Every sample row × replicate
(× arm: scenario, baseline, policy) is one task of the shared execution layer
(:mod:`experiments.run.execution`): the same backends, streaming part files,
resume and progress bar as `herdtrap batch`. A row's outcome is the mean over
its R replicates; an ``effect_<key>`` outcome is ``key(policy) − key(baseline)``
paired by replicate (same row parameters, same seeds). Outcomes are the keys of
:func:`experiments.run.runner.summarise` plus ``trap_share_final``: the share of
households whose herd per person is below ``trap_threshold`` at the horizon
(exited households count as 0), by :func:`experiments.analysis.trap_compute.trap_share` on the
run's final household state. The threshold is held fixed across the sample —
take it from `herdtrap trap` on a baseline batch.

Convergence (indices at N/2 and N): SALib's Sobol sample is built from a
scrambled Sobol' sequence of N base points; row block i (D + 2 rows, or 2D + 2
with second order) depends only on base point i, and scipy's Sobol' generator
with a fixed seed gives the first N/2 points of the N-point sequence. So the
first N/2 blocks of the design ARE ``sobol.sample(problem, N/2, seed=seed)``
(checked in tests/analysis/test_sensitivity.py) — a valid N/2 design, analysed without
extra runs. For Morris the first half of the trajectories is likewise a valid
design with half the trajectories.

Outputs in the results folder: manifest.json, sample.parquet, runs.parquet
(one row per task), outcomes.parquet (row, replicate, outcomes), indices.csv,
indices_S2.csv (with ``second_order``), convergence.csv and report.html.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.errors import UsageError
from experiments.outcomes import TRAP_SHARE
from experiments.report.provenance import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_parquet,
    command_line,
    git_commit,
    model_code_hash,
    now_iso,
    run_record,
)
from experiments.report.sensitivity_render import render_report
from experiments.specfile import need, read_toml
from model.parameters import parameter_table, uncertain_parameters
from model.scenario import Scenario, ScenarioError, load_scenario

METHODS = ("sobol", "morris")
MODELS = ("herdtrap", "ishigami")
EFFECT_PREFIX = "effect_"
SPEC_KEYS = {
    "name", "description", "model", "method", "n", "second_order", "num_levels",
    "replicates", "root_seed", "seed", "bootstrap", "conf_level", "scenario", "years",
    "outcomes", "policy_scenario", "baseline_scenario", "parameters", "ranges", "fixed",
    "trap_threshold",
}
#: Outcome computed by this module (not by runner.summarise): the share of households
#: whose herd per person is below ``trap_threshold`` (SFU per person) at the horizon,
#: exited households included as h = 0 (experiments.analysis.trap_compute.trap_share on the final state).
TRAP_OUTCOME = TRAP_SHARE.name  # "trap_share_final" (experiments/outcomes.py)
#: Ishigami test function (Ishigami & Homma 1990), SALib's default a = 7, b = 0.1.
ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1
#: Analytic indices of Ishigami with a = 7, b = 0.1 (Saltelli et al. 2008, Global
#: Sensitivity Analysis: The Primer, §4.7; SALib's test suite uses the same numbers).
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}


def herdtrap_outcomes() -> tuple[str, ...]:
    """Per-run outcomes a spec may name (keys of experiments.run.runner.summarise)."""
    from experiments.run.runner import OUTCOMES

    return (*OUTCOMES, TRAP_OUTCOME)


# ---------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class SensitivitySpec:
    """A validated sensitivity spec (see the module docstring for the file format)."""

    name: str
    method: str
    n: int
    outcomes: tuple[str, ...]
    parameters: tuple[str, ...]
    ranges: dict[str, tuple[float, float]]
    model: str = "herdtrap"
    description: str = ""
    second_order: bool = False
    num_levels: int = 4
    replicates: int = 1
    root_seed: int = 0
    seed: int = 12345
    bootstrap: int = 1000
    conf_level: float = 0.95
    scenario: str = "baseline"
    years: int | None = None
    policy_scenario: str | None = None
    baseline_scenario: str | None = None
    fixed: dict[str, Any] = field(default_factory=dict)
    trap_threshold: float | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ranges"] = {k: list(v) for k, v in self.ranges.items()}
        return d

    @property
    def effect_outcomes(self) -> tuple[str, ...]:
        return tuple(o for o in self.outcomes if o.startswith(EFFECT_PREFIX))


def parse_spec(raw: Mapping[str, Any], where: str = "<spec>") -> SensitivitySpec:
    """Validate a spec's raw TOML content; raise UsageError naming the file and key."""
    for key in raw:
        if key not in SPEC_KEYS:
            raise UsageError(f"{where}: unknown key {key!r}; allowed: {', '.join(sorted(SPEC_KEYS))}")
    model = need(raw, "model", str, where, "herdtrap")
    if model not in MODELS:
        raise UsageError(f"{where}: model = {model!r}; allowed: {', '.join(MODELS)}")
    method = need(raw, "method", str, where)
    if method not in METHODS:
        raise UsageError(f"{where}: method = {method!r}; allowed: {', '.join(METHODS)}")
    n = need(raw, "n", int, where)
    if method == "sobol" and (n < 2 or n & (n - 1)):
        raise UsageError(f"{where}: n = {n}: Sobol needs a power of 2 (>= 2), e.g. 256, 512, 1024")
    if method == "morris" and n < 2:
        raise UsageError(f"{where}: n = {n}: Morris needs at least 2 trajectories")
    second_order = need(raw, "second_order", bool, where, False)
    if second_order and method != "sobol":
        raise UsageError(f"{where}: second_order applies to method = \"sobol\" only")
    num_levels = need(raw, "num_levels", int, where, 4)
    if num_levels < 2 or num_levels % 2:
        raise UsageError(f"{where}: num_levels = {num_levels}: must be an even number >= 2")
    replicates = need(raw, "replicates", int, where, 1)
    if not 1 <= replicates <= 1000:
        raise UsageError(f"{where}: replicates = {replicates} is outside [1, 1000]")
    root_seed = need(raw, "root_seed", int, where, 0)
    seed = need(raw, "seed", int, where, 12345)
    for key, value in (("root_seed", root_seed), ("seed", seed)):
        if not 0 <= value < 2**63:
            raise UsageError(f"{where}: {key} = {value} must be a non-negative integer")
    bootstrap = need(raw, "bootstrap", int, where, 1000)
    if not 10 <= bootstrap <= 100_000:
        raise UsageError(f"{where}: bootstrap = {bootstrap} is outside [10, 100000]")
    conf_level = float(need(raw, "conf_level", (float, int), where, 0.95))
    if not 0.5 <= conf_level < 1:
        raise UsageError(f"{where}: conf_level = {conf_level} is outside [0.5, 1)")
    years = need(raw, "years", int, where, None)
    if years is not None and not 1 <= years <= 200:
        raise UsageError(f"{where}: years = {years} is outside [1, 200]")

    if model == "ishigami":
        allowed = ("y",)
        table_names = tuple(ISHIGAMI_S1)
    else:
        allowed = herdtrap_outcomes()
        table_names = tuple(p.name for p in uncertain_parameters())
    outcomes = need(raw, "outcomes", list, where, [allowed[0]])
    if not outcomes or not all(isinstance(o, str) for o in outcomes):
        raise UsageError(f"{where}: outcomes must be a non-empty list of names")
    if len(set(outcomes)) != len(outcomes):
        raise UsageError(f"{where}: outcomes has duplicates")
    for o in outcomes:
        base = o.removeprefix(EFFECT_PREFIX) if model == "herdtrap" else o
        if base not in allowed:
            raise UsageError(
                f"{where}: unknown outcome {o!r}; allowed: {', '.join(allowed)}"
                + (f" (or {EFFECT_PREFIX}<outcome> for a policy effect)" if model == "herdtrap"
                   else "")
            )
    trap_threshold = need(raw, "trap_threshold", (float, int), where, None)
    needs_trap = any(o.removeprefix(EFFECT_PREFIX) == TRAP_OUTCOME for o in outcomes)
    if needs_trap and trap_threshold is None:
        raise UsageError(f"{where}: outcome {TRAP_OUTCOME} needs trap_threshold (herd per person, "
                         "SFU, e.g. the threshold `herdtrap trap` estimates on a baseline batch)")
    if trap_threshold is not None and not 0 < trap_threshold < 1000:
        raise UsageError(f"{where}: trap_threshold = {trap_threshold} must be in (0, 1000) "
                         "SFU per person")
    policy = need(raw, "policy_scenario", str, where, None)
    baseline = need(raw, "baseline_scenario", str, where, None)
    if any(o.startswith(EFFECT_PREFIX) for o in outcomes) and policy is None:
        raise UsageError(f"{where}: {EFFECT_PREFIX}* outcomes need policy_scenario")
    if model == "ishigami" and (policy or baseline):
        raise UsageError(f"{where}: model = \"ishigami\" takes no policy or baseline scenario")

    params = need(raw, "parameters", (str, list), where, "all")
    if isinstance(params, str):
        if params != "all":
            raise UsageError(f"{where}: parameters must be \"all\" or a list of parameter names")
        names = table_names
    else:
        if not params or not all(isinstance(p, str) for p in params):
            raise UsageError(f"{where}: parameters must be a non-empty list of names")
        if len(set(params)) != len(params):
            raise UsageError(f"{where}: parameters has duplicates")
        for p in params:
            if p not in table_names:
                hint = ("it is not marked uncertain or has no range in model/parameters.toml"
                        if model == "herdtrap" and p in parameter_table() else
                        "see `herdtrap params`" if model == "herdtrap" else
                        f"allowed: {', '.join(table_names)}")
                raise UsageError(f"{where}: parameters: {p!r} cannot be varied ({hint})")
        names = tuple(params)
    if len(names) < 2:
        raise UsageError(f"{where}: vary at least 2 parameters")

    ranges_raw = need(raw, "ranges", dict, where, {})
    ranges: dict[str, tuple[float, float]] = {}
    full = _full_ranges(model)
    for p, rng in ranges_raw.items():
        if p not in names:
            raise UsageError(f"{where}: ranges.{p}: not among the varied parameters")
        if (not isinstance(rng, list) or len(rng) != 2
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)):
            raise UsageError(f"{where}: ranges.{p} must be [low, high], got {rng!r}")
        lo, hi = float(rng[0]), float(rng[1])
        tlo, thi = full[p]
        if not lo < hi:
            raise UsageError(f"{where}: ranges.{p} = [{lo:g}, {hi:g}]: low must be below high")
        if lo < tlo or hi > thi:
            unit = parameter_table()[p].unit if model == "herdtrap" else ""
            raise UsageError(
                f"{where}: ranges.{p} = [{lo:g}, {hi:g}] is outside the parameter table's "
                f"range [{tlo:g}, {thi:g}]" + (f" ({unit})" if unit else "")
            )
        ranges[p] = (lo, hi)

    fixed = need(raw, "fixed", dict, where, {})
    fixed = dict(_flatten(fixed))
    for p in fixed:
        if model == "ishigami":
            raise UsageError(f"{where}: model = \"ishigami\" takes no fixed parameters")
        if p in names:
            raise UsageError(f"{where}: fixed.{p} is also varied; remove it from one of them")
    spec = SensitivitySpec(
        name=need(raw, "name", str, where, Path(where).stem),
        description=need(raw, "description", str, where, ""),
        model=model, method=method, n=n, outcomes=tuple(outcomes), parameters=names,
        ranges=ranges, second_order=second_order, num_levels=num_levels,
        replicates=1 if model == "ishigami" else replicates, root_seed=root_seed, seed=seed,
        bootstrap=bootstrap, conf_level=conf_level,
        scenario=need(raw, "scenario", str, where, "baseline"), years=years,
        policy_scenario=policy, baseline_scenario=baseline, fixed=fixed,
        trap_threshold=None if trap_threshold is None else float(trap_threshold), source=where,
    )
    if model == "herdtrap":
        scenarios(spec)  # validates scenario files, fixed overrides and years now
    return spec


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    from model.parameters import flatten

    return flatten(tree, prefix)


def load_spec(path: str | Path) -> SensitivitySpec:
    """Read and validate a spec file (UsageError with file and key on bad input)."""
    return parse_spec(read_toml(path), where=str(path))


def _full_ranges(model: str) -> dict[str, tuple[float, float]]:
    if model == "ishigami":
        return {name: (-math.pi, math.pi) for name in ISHIGAMI_S1}
    return {p.name: (float(p.low), float(p.high)) for p in uncertain_parameters()}


# ---------------------------------------------------------------------------- SALib problem


def build_problem(spec: SensitivitySpec) -> dict[str, Any]:
    """The SALib problem: names and bounds from the parameter table, narrowed by the spec."""
    full = _full_ranges(spec.model)
    table = parameter_table()
    bounds = [list(spec.ranges.get(name, full[name])) for name in spec.parameters]
    units = [table[name].unit if spec.model == "herdtrap" else "" for name in spec.parameters]
    kinds = [table[name].type if spec.model == "herdtrap" else "float"
             for name in spec.parameters]
    return {
        "num_vars": len(spec.parameters),
        "names": list(spec.parameters),
        "bounds": bounds,
        "units": units,
        "types": kinds,
    }


def _salib_problem(problem: Mapping[str, Any]) -> dict[str, Any]:
    return {k: problem[k] for k in ("num_vars", "names", "bounds")}


def rows_per_block(spec: SensitivitySpec) -> int:
    """Rows per Sobol base sample (D + 2, or 2D + 2) or per Morris trajectory (D + 1)."""
    d = len(spec.parameters)
    if spec.method == "morris":
        return d + 1
    return 2 * d + 2 if spec.second_order else d + 2


def generate_sample(spec: SensitivitySpec, problem: Mapping[str, Any]) -> np.ndarray:
    """The design matrix (rows × parameters), seeded; integer parameters rounded."""
    salib = _salib_problem(problem)
    if spec.method == "sobol":
        from SALib.sample import sobol

        X = sobol.sample(salib, spec.n, calc_second_order=spec.second_order, seed=spec.seed)
    else:
        from SALib.sample import morris

        X = morris.sample(salib, spec.n, num_levels=spec.num_levels, seed=spec.seed)
    # samplers compute low + k (high - low) / m: clip float round-off (0.9000000000000001)
    bounds = np.asarray(problem["bounds"], dtype=float)
    X = np.clip(X, bounds[:, 0], bounds[:, 1])
    for j, kind in enumerate(problem["types"]):
        if kind == "int":
            X[:, j] = np.round(X[:, j])
    return X


def _analysis_rng(seed: int, outcome: str) -> np.random.Generator:
    """A fresh bootstrap generator per outcome (SALib's sobol ignores seed=0, so never 0)."""
    import zlib

    ss = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(outcome.encode()),))
    return np.random.default_rng(ss)


def analyse(
    spec: SensitivitySpec, problem: Mapping[str, Any], X: np.ndarray, Y: Mapping[str, np.ndarray]
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Indices per outcome: (indices table, S2 table or None)."""
    salib = _salib_problem(problem)
    frames, s2_frames = [], []
    for outcome, y in Y.items():
        y = np.asarray(y, dtype=float)
        rng = _analysis_rng(spec.seed, outcome)
        constant = bool(np.ptp(y) == 0.0)
        if spec.method == "sobol":
            from SALib.analyze import sobol

            if constant:  # no variance to decompose: every index is 0 (SALib would divide by 0)
                d = len(problem["names"])
                res = {k: np.zeros(d) for k in ("S1", "S1_conf", "ST", "ST_conf")}
                if spec.second_order:
                    res |= {"S2": np.full((d, d), np.nan), "S2_conf": np.full((d, d), np.nan)}
            else:
                res = sobol.analyze(salib, y, calc_second_order=spec.second_order,
                                    num_resamples=spec.bootstrap, conf_level=spec.conf_level,
                                    seed=rng)
            frame = pd.DataFrame({
                "outcome": outcome, "parameter": problem["names"], "unit": problem["units"],
                "S1": res["S1"], "S1_conf": res["S1_conf"],
                "ST": res["ST"], "ST_conf": res["ST_conf"],
            })
            if spec.second_order:
                names = problem["names"]
                rows = []
                for i in range(len(names)):
                    for j in range(i + 1, len(names)):
                        rows.append({"outcome": outcome, "parameter_1": names[i],
                                     "parameter_2": names[j], "S2": res["S2"][i, j],
                                     "S2_conf": res["S2_conf"][i, j]})
                s2_frames.append(pd.DataFrame(rows))
        else:
            from SALib.analyze import morris

            if constant:
                d = len(problem["names"])
                res = {k: np.zeros(d) for k in ("mu", "mu_star", "mu_star_conf", "sigma")}
            else:
                res = morris.analyze(salib, X, y, num_resamples=spec.bootstrap,
                                     conf_level=spec.conf_level, num_levels=spec.num_levels,
                                     seed=rng)
            frame = pd.DataFrame({
                "outcome": outcome, "parameter": problem["names"], "unit": problem["units"],
                "mu": np.asarray(res["mu"], float), "mu_star": np.asarray(res["mu_star"], float),
                "mu_star_conf": np.asarray(res["mu_star_conf"], float),
                "sigma": np.asarray(res["sigma"], float),
            })
            # mu* relative to the largest mu* of the outcome: comparable across outcomes
            top = frame["mu_star"].max()
            frame["mu_star_rel"] = frame["mu_star"] / top if top > 0 else 0.0
        frame["outcome_constant"] = constant
        frames.append(frame)
    indices = pd.concat(frames, ignore_index=True)
    s2 = pd.concat(s2_frames, ignore_index=True) if s2_frames else None
    return indices, s2


def convergence(
    spec: SensitivitySpec, problem: Mapping[str, Any], X: np.ndarray, Y: Mapping[str, np.ndarray]
) -> pd.DataFrame:
    """Indices at N/2 and N (the first N/2 blocks of the design are a valid N/2 design)."""
    block = rows_per_block(spec)
    out = []
    halves = [spec.n // 2, spec.n] if spec.n >= 4 else [spec.n]
    for n in halves:
        rows = n * block
        half_spec = _replace(spec, n=n)
        idx, _ = analyse(half_spec, problem, X[:rows], {k: v[:rows] for k, v in Y.items()})
        idx.insert(2, "n", n)
        out.append(idx)
    frame = pd.concat(out, ignore_index=True)
    return frame.sort_values(["outcome", "parameter", "n"], kind="stable").reset_index(drop=True)


def _replace(spec: SensitivitySpec, **changes: Any) -> SensitivitySpec:
    import dataclasses

    return dataclasses.replace(spec, **changes)


# ---------------------------------------------------------------------------- evaluation


def ishigami(x: np.ndarray, a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> np.ndarray:
    """Ishigami function: sin x1 + a sin² x2 + b x3⁴ sin x1 (x in [-π, π]³)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def scenarios(spec: SensitivitySpec) -> dict[str, Scenario]:
    """The scenarios (arms) each sample row runs: "scenario", and "baseline"/"policy"
    for effect outcomes. Fixed overrides and the horizon are applied; arms that
    resolve to the same scenario file share one run."""
    overrides: dict[str, Any] = {"params": spec.fixed} if spec.fixed else {}
    if spec.years is not None:
        overrides["years"] = spec.years
    try:
        arms = {"scenario": load_scenario(spec.scenario, **overrides)}
        if spec.policy_scenario is not None:
            arms["baseline"] = load_scenario(spec.baseline_scenario or spec.scenario, **overrides)
            arms["policy"] = load_scenario(spec.policy_scenario, **overrides)
    except ScenarioError as exc:
        raise UsageError(f"{spec.source}: {exc}") from None
    return arms


def arm_runs(spec: SensitivitySpec) -> dict[str, str]:
    """arm -> the arm whose run it reuses (identical resolved scenarios run once)."""
    if spec.model == "ishigami":
        return {"scenario": "scenario"}
    arms = scenarios(spec)
    by_hash: dict[str, str] = {}
    out = {}
    for arm, sc in arms.items():
        out[arm] = by_hash.setdefault(sc.hash, arm)
    return out


class IshigamiRun:
    """Run function for ``model = "ishigami"``, called by the execution layer in place of
    :func:`experiments.run.runner.simulate`: task ``row`` evaluates Ishigami at row ``row`` of
    the design (the row id travels in the task's scenario name)."""

    def __init__(self, X: np.ndarray):
        self.X = np.asarray(X, dtype=float)

    def __call__(self, scenario: Scenario, seed: Any, panel_fraction: float = 0.0) -> Any:
        from experiments.run.runner import RunOutput

        row = int(scenario.name.rsplit("row", 1)[1])
        y = float(ishigami(self.X[row:row + 1])[0])
        empty = pd.DataFrame()
        return RunOutput(timeseries=empty, summary={"y": y}, households=empty, soums=empty,
                         ledger=empty)


class TrapShareRun:
    """Run function for specs with the trap_share_final outcome: :func:`simulate`, plus
    the share of households below ``threshold`` SFU per person in the final state."""

    def __init__(self, threshold: float):
        self.threshold = float(threshold)

    def __call__(self, scenario: Scenario, seed: Any, panel_fraction: float = 0.0) -> Any:
        from experiments.analysis.trap_compute import trap_share
        from experiments.run.runner import simulate

        out = simulate(scenario, seed, panel_fraction=panel_fraction)
        final = out.households.assign(year=scenario.years)
        share = trap_share(final, self.threshold)
        out.summary[TRAP_OUTCOME] = float(share["trap_share"].iloc[0])
        return out


def run_function(spec: SensitivitySpec, X: np.ndarray) -> Any:
    """What the execution layer calls per task (None = experiments.run.runner.simulate)."""
    if spec.model == "ishigami":
        return IshigamiRun(X)
    if spec.trap_threshold is not None:
        return TrapShareRun(spec.trap_threshold)
    return None


def task_id(row: int, replicate: int, arm: str) -> str:
    return f"row{row:06d}/rep{replicate:03d}/{arm}"


def make_tasks(spec: SensitivitySpec, problem: Mapping[str, Any], X: np.ndarray) -> list[Any]:
    """Every (row, replicate, arm) run as an :class:`experiments.run.execution.Task`, row-major.

    Replicate r of every row (and of every arm) gets the seed
    ``run_seed_sequence(root_seed, r)``: common random numbers across rows and arms.
    """
    import dataclasses

    from experiments.run.execution import Task

    names, kinds = problem["names"], problem["types"]
    if spec.model == "ishigami":
        base = load_scenario("baseline")
        arms: dict[str, Scenario] = {"scenario": base}
    else:
        all_arms = scenarios(spec)
        distinct = set(arm_runs(spec).values())
        arms = {a: s for a, s in all_arms.items() if a in distinct}
    tasks = []
    for i, x in enumerate(X):
        values = {n: _python_value(k, v) for n, k, v in zip(names, kinds, x, strict=True)}
        for arm, sc in arms.items():
            if spec.model == "ishigami":
                row_sc = dataclasses.replace(sc, name=f"ishigami-row{i:06d}")
            else:
                row_sc = sc.with_overrides(params=values)
            for r in range(spec.replicates):
                tasks.append(Task(task_id=task_id(i, r, arm), scenario=row_sc,
                                  seed=(spec.root_seed, r),
                                  labels={"row": i, "replicate": r, "arm": arm}))
    return tasks


def _python_value(kind: str, v: float) -> Any:
    return int(round(v)) if kind == "int" else float(v)


def outcome_table(spec: SensitivitySpec, runs: pd.DataFrame) -> pd.DataFrame:
    """(row, replicate) -> the spec's outcomes; effects paired by replicate."""
    alias = arm_runs(spec)
    ok = runs[runs["status"] == "ok"]
    wide = {arm: ok[ok["arm"] == alias[arm]].set_index(["row", "replicate"]).sort_index()
            for arm in alias}
    index = wide["scenario"].index
    out = pd.DataFrame(index=index)
    for o in spec.outcomes:
        if o.startswith(EFFECT_PREFIX) and spec.model == "herdtrap":
            base = o.removeprefix(EFFECT_PREFIX)
            out[o] = wide["policy"][base] - wide["baseline"][base]
        else:
            out[o] = wide["scenario"][o]
    return out.reset_index()


def row_means(spec: SensitivitySpec, outcomes: pd.DataFrame, n_rows: int) -> dict[str, np.ndarray]:
    """Outcome per sample row = mean over its replicates, in row order."""
    means = outcomes.groupby("row")[list(spec.outcomes)].mean().reindex(range(n_rows))
    return {o: means[o].to_numpy(dtype=float) for o in spec.outcomes}


# ---------------------------------------------------------------------------- the run

MANIFEST = "manifest.json"


def design_identity(spec: SensitivitySpec, problem: Mapping[str, Any]) -> dict[str, Any]:
    """What fixes the runs of a folder: a folder holds exactly one design.

    Outcomes, bootstrap size and confidence level are not part of it: changing them
    and running the same folder again re-analyses the runs without re-running them.
    """
    arms = {} if spec.model == "ishigami" else {a: sc.hash for a, sc in scenarios(spec).items()}
    return {
        "model": spec.model, "method": spec.method, "n": spec.n,
        "second_order": spec.second_order,
        "num_levels": spec.num_levels if spec.method == "morris" else None,
        "seed": spec.seed, "replicates": spec.replicates, "root_seed": spec.root_seed,
        "trap_threshold": spec.trap_threshold, "names": list(problem["names"]), "bounds": [list(b) for b in problem["bounds"]],
        "arms": arms,
        "model_code": None if spec.model == "ishigami" else model_code_hash(),
    }


def _identity_difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    diffs = [f"{k} {old.get(k)!r} vs {new.get(k)!r}" for k in new
             if k not in ("arms", "model_code") and old.get(k) != new.get(k)]
    o, n = old.get("arms", {}), new.get("arms", {})
    diffs += [f"scenario of {a} changed (hash {o[a]} vs {n[a]})" for a in n if a in o and o[a] != n[a]]
    return "; ".join(diffs) or None


def default_out(spec: SensitivitySpec) -> Path:
    return Path("results") / f"sensitivity-{spec.name}"


@dataclass
class SensitivityResult:
    """What :func:`run_sensitivity` produced."""

    out: Path
    report: Any  # experiments.run.execution.Report
    indices: pd.DataFrame | None
    s2: pd.DataFrame | None
    convergence: pd.DataFrame | None
    manifest: dict[str, Any]


def _write_manifest(out: Path, *, spec: SensitivitySpec, problem: Mapping[str, Any],
                    identity: Mapping[str, Any], old: Mapping[str, Any] | None,
                    session: dict[str, Any], counts: Mapping[str, int], backend: str,
                    jobs: int, finished: str | None, analysis: Mapping[str, Any] | None,
                    ) -> dict[str, Any]:
    arms = {} if spec.model == "ishigami" else scenarios(spec)
    manifest = {
        "kind": "sensitivity",
        "command": command_line(),
        "spec": spec.to_dict(),
        "design": dict(identity),
        "problem": {k: problem[k] for k in ("num_vars", "names", "bounds", "units", "types")},
        "scenarios": {
            arm: {"name": sc.name, "hash": sc.hash, "resolved": sc.to_dict(), "source": sc.source}
            for arm, sc in arms.items()
        },
        "arm_runs": arm_runs(spec),
        "sampler": {"method": spec.method, "seed": spec.seed, "n": spec.n,
                    "second_order": spec.second_order, "num_levels": spec.num_levels,
                    "rows_per_block": rows_per_block(spec)},
        **run_record(spec.root_seed, spec.replicates, old, session, finished),
        "counts": dict(counts),
        "backend": backend,
        "jobs": jobs,
        "parallelism": session.get("parallelism") or (old or {}).get("parallelism"),
        "analysis": dict(analysis or {}),
        "files": sorted(p.name for p in out.iterdir()
                        if p.is_file() and not p.name.startswith(".")
                        and p.name != MANIFEST),
    }
    atomic_write_json(out / MANIFEST, manifest)
    return manifest


def run_sensitivity(
    spec: SensitivitySpec,
    out: Path,
    *,
    backend: str = "loky",
    jobs: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    flush_every: int | None = None,
    worker_timeout: float | None = None,
) -> SensitivityResult:
    """Sample, run (or resume) every task, analyse, and write the results folder."""
    import os

    from experiments.run.execution import BACKENDS, WORKER_TIMEOUT, ExecutionError, run_tasks
    from experiments.run.limits import check_limits

    worker_timeout = WORKER_TIMEOUT if worker_timeout is None else worker_timeout

    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if jobs is None or jobs == -1:
        jobs = os.cpu_count() or 1
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1 (or -1 for all cores), got {jobs}")
    if backend == "sequential":
        jobs = 1
    out = Path(out)
    problem = build_problem(spec)
    identity = design_identity(spec, problem)
    n_runs = rows_per_block(spec) * spec.n * spec.replicates * len(set(arm_runs(spec).values()))
    check_limits(runs=n_runs, jobs=jobs, error=UsageError)
    from experiments.run.execution import check_backend, folder_lock, resumable_manifest

    X = generate_sample(spec, problem)
    tasks = make_tasks(spec, problem, X)
    run = run_function(spec, X)
    desc = f"{spec.method} {len(X)} rows x {spec.replicates}"
    try:
        check_backend(backend, scheduler, worker_timeout)
        # The lock first, then the manifest check, then (once the backend is connected)
        # the sample and the manifest: a start refused or failing on the way writes nothing.
        with folder_lock(out):
            old = resumable_manifest(out, "sensitivity", "design", identity,
                                     _identity_difference, UsageError,
                                     what="sensitivity design", resume="run the original spec")
            started = now_iso()
            session = {"started": started, "finished": None, "backend": backend, "jobs": jobs,
                       "wall_s": None, "run_s": None, "ran": 0,
                       "git": git_commit()}  # the code this session's runs used
            prev = (old or {}).get("counts", {"done": 0, "failed": 0, "total": len(tasks)})
            common = {"spec": spec, "problem": problem, "identity": identity, "old": old,
                      "backend": backend, "jobs": jobs}

            def start(used) -> None:
                if used is not None:
                    session["parallelism"] = used.parallelism()
                sample = pd.DataFrame(X, columns=problem["names"])
                for name, kind in zip(problem["names"], problem["types"], strict=True):
                    if kind == "int":
                        sample[name] = sample[name].astype("int64")
                sample.insert(0, "row", np.arange(len(X), dtype=np.int64))
                atomic_write_parquet(out / "sample.parquet", sample)
                _write_manifest(out, session=session, counts=prev, finished=None,
                                analysis=None, **common)

            report = run_tasks(tasks, out, backend=backend, jobs=jobs, scheduler=scheduler,
                               worker_timeout=worker_timeout, progress=progress, desc=desc,
                               tables=(), flush_every=flush_every, run=run, on_start=start)
            if report.backend is not None:
                session["parallelism"] = report.backend.parallelism()
            return _finish(out, spec, problem, X, report, session, common)
    except ExecutionError as exc:
        raise UsageError(str(exc)) from None


def _finish(out: Path, spec: SensitivitySpec, problem: Mapping[str, Any], X: np.ndarray,
            report: Any, session: dict[str, Any], common: dict[str, Any]) -> SensitivityResult:
    """Analyse the finished runs and write indices, report and manifest (under the lock)."""
    session.update(finished=now_iso(), wall_s=round(report.wall_s, 3),
                   run_s=round(report.run_s, 3), ran=report.ran)
    counts = {"done": report.ok, "failed": report.failed, "total": report.total,
              "rows": len(X), "replicates": spec.replicates}
    if report.failed:
        manifest = _write_manifest(out, session=session, counts=counts, finished=None,
                                   analysis=None, **common)
        return SensitivityResult(out, report, None, None, None, manifest)

    t0 = time.perf_counter()
    runs = pd.read_parquet(out / "runs.parquet")
    outcomes = outcome_table(spec, runs)
    atomic_write_parquet(out / "outcomes.parquet", outcomes)
    Y = row_means(spec, outcomes, len(X))
    indices, s2 = analyse(spec, problem, X, Y)
    conv = convergence(spec, problem, X, Y)
    _write_csv(out / "indices.csv", indices)
    if s2 is not None:
        _write_csv(out / "indices_S2.csv", s2)
    else:
        (out / "indices_S2.csv").unlink(missing_ok=True)
    _write_csv(out / "convergence.csv", conv)
    analysis = {"seed": spec.seed, "bootstrap": spec.bootstrap, "conf_level": spec.conf_level,
                "outcomes": list(spec.outcomes),
                "convergence": "indices of the first N/2 blocks of the design and of all N"}
    atomic_write_bytes(out / "report.html", render_report(spec, problem, indices, s2, conv,
                                                          counts=counts).encode("utf-8"))
    session["analysis_s"] = round(time.perf_counter() - t0, 3)
    manifest = _write_manifest(out, session=session, counts=counts, finished=now_iso(),
                               analysis=analysis, **common)
    return SensitivityResult(out, report, indices, s2, conv, manifest)


def _write_csv(path: Path, df: pd.DataFrame) -> None:
    atomic_write_bytes(path, df.to_csv(index=False, float_format="%.6g").encode("utf-8"))

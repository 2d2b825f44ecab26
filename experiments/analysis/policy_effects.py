"""Does a policy help the households it pays? Beneficiaries against themselves in the
paired baseline.

For a policy scenario and its reference (the same households, seeds and weather:
common random numbers), the households the policy reached (paid, gave animals or
trained; ``Programme.beneficiaries``) are compared with the same household slots in
the reference run. The reference of a reform built on the status quo
(scenarios/status_quo.toml: it has every status-quo policy) is the status quo, and its
beneficiaries are those of the policies it changes or adds; the reference of any
other scenario is the same scenario without its policies:

* consumption: mean consumption per person over the run (kMNT per year);
* herd: mean herd over the run (SFU, 0 after exit);
* poor years: share of years with consumption per person below the poverty line.

Differences are per household, pooled over replicates; their 95% CI is a t-interval
over the replicate means (replicates are independent; households within a replicate
share weather and markets).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from model.model import HerdtrapModel
from model.scenario import Scenario, ScenarioError, load_scenario
from model.streams import run_seed_sequence

OUTCOMES = ("consumption", "herd", "poor_years")


@dataclass(frozen=True)
class Effect:
    scenario: str
    outcome: str
    mean: float  # policy − baseline, mean over beneficiaries and replicates
    low: float
    high: float
    beneficiaries: float  # mean number per replicate

    @property
    def positive(self) -> bool:
        """The CI lies above 0 (below 0 for poor years: fewer is better)."""
        return self.high < 0 if self.outcome == "poor_years" else self.low > 0


def _household_outcomes(m: HerdtrapModel) -> pd.DataFrame:
    """Per household id: mean consumption per person, herd and share of poor years over
    the years the household lived in the region (households founded or dissolved during
    the run count for their own years; demography is the same in paired runs)."""
    df = m.panel_frame()
    df = df[df["year"] > 0]
    line = 12.0 * m.line_month
    cons = df["consumption_kmnt"] / np.maximum(df["persons"], 1)
    out = pd.DataFrame({"hid": df["hid"], "consumption": cons, "herd": df["herd_sfu"],
                        "poor_years": (cons < line).astype(float)})
    return out.groupby("hid").mean()


def beneficiaries(m: HerdtrapModel, only: set[str] | None = None) -> np.ndarray:
    """Ids of the households reached by the run's policies (or by those named in ``only``)."""
    hids = [policy.beneficiary_hids() for policy in m.policies.active
            if hasattr(policy, "beneficiary_hids") and (only is None or policy.name in only)]
    return np.unique(np.concatenate(hids)) if hids else np.zeros(0, dtype=np.int64)


def status_quo_reference(sc: Scenario) -> Scenario | None:
    """The status quo, if ``sc`` is a reform built on it (it runs every status-quo policy)."""
    try:
        sq = load_scenario("status_quo")
    except ScenarioError:
        return None
    if sc.name == sq.name or not sq.policies or not set(sq.policies) <= set(sc.policies):
        return None
    return sq


def paired_effects(scenario: Scenario | str, *, replicates: int = 4, root_seed: int = 0,
                   years: int | None = None, households: int | None = None,
                   baseline: Scenario | str | None = None) -> list[Effect]:
    """Effects of ``scenario`` on its beneficiaries against ``baseline`` (default: its base)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    params = {"population.households": households} if households else None
    sc = sc.with_overrides(years=years, params=params)
    only = None
    sq = status_quo_reference(sc) if baseline is None else None
    if sq is not None:  # a reform: against the status quo, its own beneficiaries
        base = dataclasses.replace(sc, policies=sq.policies, name=f"{sc.name} as the status quo")
        only = {n for n, levers in sc.policies.items() if sq.policies.get(n) != levers}
    elif baseline is None:
        base = dataclasses.replace(sc, policies={}, name=f"{sc.name} without its policies")
    else:
        base = baseline if isinstance(baseline, Scenario) else load_scenario(baseline)
        base = base.with_overrides(years=sc.years, params=params)
    diffs: dict[str, list[float]] = {k: [] for k in OUTCOMES}
    n_ben = []
    for r in range(replicates):
        seed = run_seed_sequence(root_seed, r)
        pol = HerdtrapModel(sc, seed=seed, create_agents=False).run()
        ref = HerdtrapModel(base, seed=run_seed_sequence(root_seed, r), create_agents=False).run()
        a, b = _household_outcomes(pol), _household_outcomes(ref)
        # households in the outputs of both runs (a policy can bring a household that
        # never herded into herding, and so into scope, in one run only)
        ben = np.intersect1d(np.intersect1d(beneficiaries(pol, only), a.index.to_numpy()),
                             b.index.to_numpy())
        n_ben.append(int(ben.size))
        if not ben.size:
            continue
        for k in OUTCOMES:
            diffs[k].append(float((a.loc[ben, k] - b.loc[ben, k]).mean()))
    out = []
    for k in OUTCOMES:
        d = np.asarray(diffs[k])
        if d.size >= 2:
            half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
        else:
            half = float("inf")
        mean = float(d.mean()) if d.size else float("nan")
        out.append(Effect(sc.name, k, mean, mean - half, mean + half, float(np.mean(n_ben))))
    return out


def effects_table(effects: list[Effect]) -> list[dict[str, Any]]:
    return [{"scenario": e.scenario, "outcome": e.outcome, "difference": e.mean,
             "ci_low": e.low, "ci_high": e.high, "beneficiaries": e.beneficiaries}
            for e in effects]

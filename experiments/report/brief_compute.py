"""The content of `herdtrap brief DIR` (a citable policy brief from a finished batch
folder): the findings, their statistics and sentences, and the provenance, methods and
citation text. The command is :mod:`experiments.report.brief`; the Markdown, HTML and
figures are :mod:`experiments.report.brief_render`.

It reads the batch folder (manifest.json, runs.parquet, timeseries.parquet) and never
re-runs the model.

Statistics. Replicate r of every scenario shares the weather and household
luck of replicate r of the baseline (common random numbers), so scenarios are
compared by *paired* differences d_r = scenario_r − baseline_r over the
replicates that finished in both. The 95% CI is the t-interval
mean(d) ± t_{0.975, n−1} · sd(d) / √n. It covers the model's stochastic
variation (weather, household luck) with parameters fixed at their values; in a
batch run with ``--posterior`` each replicate draws its parameters from a fitted
posterior (the same draw for every scenario), and the CI covers their uncertainty
too (provenance.uncertainty_note words it for the brief and compare). It never
covers structural uncertainty.

Outcome values per run (what ``findings.csv`` holds, in these units):

* shares (poverty headcount, asset poverty, herding share): percent of
  households, at the end of the year; differences in percentage points;
* exits: exits from herding up to that year per 100 households;
* fiscal cost: MNT (2021 prices, undiscounted) per household per year,
  averaged over the years up to that year: Σ fiscal_cost / Σ N_y × 1000
  (the model's money is thousand MNT).

N_y is the number of households living in the region in year y (the household table
grows and shrinks with demography; the same in paired runs); "per 100 households"
divides by the mean of N_y over the years up to that year. Results written before the
timeseries had a ``households`` column use the initial number for every year.

At the horizon the values come from runs.parquet; at year 10 (when the
horizon is longer) from timeseries.parquet.
"""


from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.outcomes import BY_NAME
from experiments.report.html import fmt_ci, fmt_mnt, fmt_num
from experiments.report.provenance import REPO_ROOT, read_batch, uncertainty_note

CONFIDENCE = 0.95
#: Years reported besides the horizon (when the horizon is longer).
MILESTONE_YEARS = (10,)
KMNT_TO_MNT = 1000.0
PRICE_YEAR = 2021
CITATION_DOI = "10.5281/zenodo.22470385"
FINDINGS_COLUMNS = [
    "finding_id", "scenario", "baseline", "outcome", "horizon_year", "baseline_mean",
    "scenario_mean", "difference", "ci_low", "ci_high", "n_replicates", "unit", "sentence",
]
COST_UNIT = f"MNT per household per year ({PRICE_YEAR} prices)"


class BriefError(Exception):
    """A batch folder the brief cannot use (raised as the CLI's UsageError)."""


# --------------------------------------------------------------------------- statistics


def t_interval(values: Sequence[float] | np.ndarray) -> tuple[float, float, float, int]:
    """Mean and 95% t interval of the mean: (mean, low, high, n); NaN bounds if n < 2.

    The statistics are `herdtrap compare`'s (experiments/analysis/compare_compute.py), so that a
    brief and a comparison of the same batch print the same intervals.
    """
    from experiments.analysis import compare_compute

    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    mean, low, high = compare_compute.t_interval(x, CONFIDENCE)
    return mean, low, high, int(x.size)


def paired_difference(scenario: pd.Series, baseline: pd.Series) -> dict[str, float]:
    """Paired difference scenario − baseline over the replicates (index) both have.

    Uses :func:`experiments.analysis.compare_compute.paired` (t interval of the per-replicate
    differences). Returns baseline_mean, scenario_mean (over the paired
    replicates), difference, ci_low, ci_high and n.
    """
    from experiments.analysis import compare_compute

    both = pd.concat({"s": scenario, "b": baseline}, axis=1, join="inner").dropna()
    p = compare_compute.paired(both.sort_index(), "s", "b")
    return {
        "baseline_mean": p.baseline_mean,
        "scenario_mean": p.scenario_mean,
        "difference": p.diff_mean,
        "ci_low": p.diff_low,
        "ci_high": p.diff_high,
        "n": p.n,
    }


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcome:
    """A key outcome of the brief and how to compute it per run."""

    key: str
    label: str  # noun phrase used in sentences
    short: str  # table / axis label
    unit: str  # unit of the values in findings.csv
    kind: str  # "share" | "exits" | "cost"
    runs_column: str  # runs.parquet column (horizon)
    ts_column: str  # timeseries.parquet column (other years)
    better: str  # "min" or "max": the outcome catalogue's (experiments/outcomes.py)


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("poverty_headcount", "share of households below the poverty line",
            "Below the poverty line", "% of households", "share",
            "poverty_headcount_final", "poverty_headcount", BY_NAME["poverty_headcount_final"].better),
    Outcome("asset_poverty", "share of households in asset poverty",
            "In asset poverty", "% of households", "share",
            "asset_poverty_final", "asset_poverty", BY_NAME["asset_poverty_final"].better),
    Outcome("herding_share", "share of households still herding",
            "Still herding", "% of households", "share",
            "herding_share_final", "herding_share", BY_NAME["herding_share_final"].better),
    Outcome("exits", "cumulative exits from herding",
            "Exits from herding", "exits per 100 households (cumulative)", "exits",
            "exits_total", "exits", BY_NAME["exits_total"].better),
    Outcome("fiscal_cost", "fiscal cost", "Fiscal cost", COST_UNIT, "cost",
            "fiscal_cost_per_household_year", "fiscal_cost", BY_NAME["fiscal_cost_per_household_year"].better),
)
OUTCOME_BY_KEY = {o.key: o for o in OUTCOMES}


# --------------------------------------------------------------------------- the batch


@dataclass
class Batch:
    """A finished batch folder, read for the brief."""

    path: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame  # ok runs, one row per (scenario, replicate)
    failed: pd.DataFrame  # failed runs
    timeseries: pd.DataFrame  # rows of ok runs only
    scenarios: list[str]  # manifest order (those reported)
    baseline: str
    only: list[str] = field(default_factory=list)  # --scenarios subset, if any

    def resolved(self, scenario: str) -> dict[str, Any]:
        return self.manifest["scenarios"][scenario].get("resolved", {})

    def households(self, scenario: str) -> int:
        params = self.resolved(scenario).get("params", {})
        if "population.households" in params:
            return int(params["population.households"])
        ts = self.timeseries[self.timeseries["scenario"] == scenario]
        return int(ts["households"].iloc[0])

    def horizon(self, scenario: str) -> int:
        r = self.runs[self.runs["scenario"] == scenario]
        if "years" in r and len(r):
            return int(r["years"].iloc[0])
        return int(self.resolved(scenario).get("years", self.manifest.get("years")))

    def start_year(self, scenario: str) -> int:
        return int(self.resolved(scenario).get("start_year", 2020))


def load_batch(path: str | Path, baseline: str | None = None,
               only: Sequence[str] | None = None) -> Batch:
    """Read and check a batch folder; :class:`BriefError` names what is wrong.

    ``only``: report just these scenarios (and the baseline).
    """
    path = Path(path)
    files = read_batch(path, BriefError, panel=False)  # (the brief reads no panel)
    manifest, runs_all, ts = files.manifest, files.runs, files.timeseries
    ok = runs_all[runs_all["status"] == "ok"].copy()
    failed = runs_all[runs_all["status"] != "ok"].copy()
    ok["replicate"] = ok["replicate"].astype(int)
    ok = ok.sort_values(["scenario", "replicate"]).reset_index(drop=True)
    keys = set(zip(ok["scenario"], ok["replicate"].astype(int), strict=True))
    ts = ts[[(s, int(r)) in keys for s, r in zip(ts["scenario"], ts["replicate"], strict=True)]]
    ts = ts.sort_values(["scenario", "replicate", "year"]).reset_index(drop=True)
    scenarios = [s for s in files.order if s in set(ok["scenario"])]
    if not scenarios:
        raise BriefError(f"{path}: no finished runs (every run failed or none ran)")
    names = ", ".join(manifest["scenarios"])
    if baseline is None:
        from experiments.analysis.compare_compute import DEFAULT_BASELINES

        baseline = next((b for b in DEFAULT_BASELINES if b in manifest["scenarios"]),
                        next(iter(scenarios)))
    if baseline not in manifest["scenarios"]:
        raise BriefError(f"--baseline {baseline!r} is not a scenario of this batch; "
                         f"scenarios: {names}")
    if baseline not in scenarios:
        raise BriefError(f"baseline {baseline!r} has no finished runs in {path}")
    if only:
        if unknown := [s for s in only if s not in manifest["scenarios"]]:
            raise BriefError(f"--scenarios {', '.join(unknown)}: not in this batch; "
                             f"scenarios: {names}")
        scenarios = [s for s in scenarios if s in set(only) or s == baseline]
    return Batch(path, manifest, ok, failed, ts, scenarios, baseline, list(only or []))


def outcome_values(batch: Batch, outcome: Outcome, scenario: str, year: int) -> pd.Series:
    """Per-replicate values of ``outcome`` for ``scenario`` at simulated ``year``.

    Indexed by replicate, in the units of :class:`Outcome` (see module docstring).
    """
    ts = batch.timeseries[(batch.timeseries["scenario"] == scenario)
                          & (batch.timeseries["year"] <= year)]
    if "households" in ts:  # household-years up to ``year``, per replicate
        hh_years = ts.groupby("replicate")["households"].sum().astype(float)
    else:
        hh_years = float(batch.households(scenario) * year)
    n_hh = hh_years / year  # mean households living in the region per year
    if year == batch.horizon(scenario):
        r = batch.runs[batch.runs["scenario"] == scenario].set_index("replicate")
        col = r[outcome.runs_column].astype(float)
        if outcome.kind == "share":
            return col * 100.0
        if outcome.kind == "exits":
            return col / n_hh * 100.0
        return col * KMNT_TO_MNT
    g = ts.groupby("replicate")[outcome.ts_column]
    if outcome.kind == "share":
        last = ts[ts["year"] == year].set_index("replicate")[outcome.ts_column]
        return last.astype(float) * 100.0
    if outcome.kind == "exits":
        return g.sum().astype(float) / n_hh * 100.0
    return g.sum().astype(float) / hh_years * KMNT_TO_MNT


def report_years(horizon: int) -> list[int]:
    """Years the findings speak of: milestones shorter than the horizon, then the horizon."""
    return sorted({y for y in MILESTONE_YEARS if y < horizon} | {horizon})


# --------------------------------------------------------------------------- wording


def _level(x: float, o: Outcome) -> str:
    if o.kind == "share":
        return f"{x:.1f}%"
    if o.kind == "exits":
        return f"{x:.1f} per 100"
    return f"MNT {fmt_mnt(x)}"


def _amount(x: float, o: Outcome) -> str:
    if o.kind == "share":
        return f"{abs(x):.1f} percentage points"
    if o.kind == "exits":
        return f"{abs(x):.1f} per 100 households"
    return f"MNT {fmt_mnt(abs(x))} per household per year"


def when(year: int, start_year: int) -> str:
    """'After 10 years (end of 2029)': year 1 is the calendar year ``start_year``."""
    return f"After {year} years (end of {start_year + year - 1})"


def sentence(scenario: str, baseline: str, o: Outcome, year: int, start_year: int,
             d: dict[str, float], cost: dict[str, float] | None) -> str:
    """A plain sentence stating one finding with its CI."""
    diff, low, high = d["difference"], d["ci_low"], d["ci_high"]
    lead = f"{when(year, start_year)}, scenario “{scenario}”"
    levels = f"{_level(d['scenario_mean'], o)} vs {_level(d['baseline_mean'], o)}"
    if o.kind == "exits":
        levels = f"{d['scenario_mean']:.1f} vs {d['baseline_mean']:.1f} per 100"
    ref = {"baseline": "the baseline", "status_quo": "the status quo"}.get(
        baseline, f"the baseline “{baseline}”")
    spans_zero = math.isfinite(low) and low <= 0 <= high and not (low == high == 0)
    if o.kind == "cost":
        period = f"over the first {year} years, {PRICE_YEAR} prices, undiscounted"
        if diff == 0 and low == high == 0:
            return (f"{lead} costs the government the same as {ref} "
                    f"({_level(d['scenario_mean'], o)} per household per year, {period}).")
        if spans_zero:
            return (f"{lead} changes the fiscal cost by MNT {fmt_mnt(diff)} per household per "
                    f"year relative to {ref} ({fmt_ci(low, high, 'cost')}; "
                    f"{period}), a difference not distinguishable from zero.")
        verb = "more" if diff > 0 else "less"
        return (f"{lead} costs the government {_amount(diff, o)} {verb} than {ref} "
                f"({fmt_ci(low, high, 'cost', magnitude=True)}; {levels} per "
                f"household per year; {period}).")
    what = f"the {o.label}" if o.kind == "share" else o.label
    if spans_zero or (diff == 0 and low == high == 0):
        change = (f"does not change {what} distinguishably from {ref} "
                  f"(difference {fmt_num(diff, o.kind).replace('-', '−')}"
                  f"{' points' if o.kind == 'share' else ' per 100 households'}; "
                  f"{fmt_ci(low, high, o.kind)}; {levels})")
    else:
        verb = "lowers" if diff < 0 else "raises"
        change = (f"{verb} {what} by {_amount(diff, o)} "
                  f"({fmt_ci(low, high, o.kind, magnitude=True)}) relative to {ref} ({levels})")
    text = f"{lead} {change}"
    if cost is not None and o.kind == "share" and o.key != "herding_share":
        c = cost["difference"]
        if cost["ci_low"] == cost["ci_high"] == 0 and c == 0:
            text += ", at no extra fiscal cost"
        else:
            text += (f", at {'an extra fiscal cost' if c >= 0 else 'a fiscal saving'} of MNT "
                     f"{fmt_mnt(abs(c))} per "
                     f"household per year ({fmt_ci(cost['ci_low'], cost['ci_high'], 'cost')}, "
                     f"{PRICE_YEAR} prices)")
    return text + "."


# --------------------------------------------------------------------------- findings


def compute_findings(batch: Batch) -> pd.DataFrame:
    """One row per (non-baseline scenario, year, key outcome): see FINDINGS_COLUMNS."""
    rows: list[dict[str, Any]] = []
    base = batch.baseline
    cost_o = OUTCOME_BY_KEY["fiscal_cost"]
    for scenario in batch.scenarios:
        if scenario == base:
            continue
        horizon = batch.horizon(scenario)
        if horizon != batch.horizon(base):
            continue  # different horizons cannot be paired year by year
        for year in report_years(horizon):
            cost = _rounded(paired_difference(outcome_values(batch, cost_o, scenario, year),
                                              outcome_values(batch, cost_o, base, year)))
            for o in OUTCOMES:
                # the sentence states the numbers findings.csv stores (6 decimals), so
                # both round a 5.25 the same way
                d = _rounded(paired_difference(outcome_values(batch, o, scenario, year),
                                               outcome_values(batch, o, base, year)))
                if d["n"] == 0:
                    continue
                rows.append({
                    "finding_id": f"{scenario}:{o.key}:y{year}",
                    "scenario": scenario,
                    "baseline": base,
                    "outcome": o.key,
                    "horizon_year": year,
                    "baseline_mean": d["baseline_mean"],
                    "scenario_mean": d["scenario_mean"],
                    "difference": d["difference"],
                    "ci_low": d["ci_low"],
                    "ci_high": d["ci_high"],
                    "n_replicates": d["n"],
                    "unit": o.unit,
                    "sentence": sentence(scenario, base, o, year, batch.start_year(scenario),
                                         d, cost),
                })
    df = pd.DataFrame(rows, columns=FINDINGS_COLUMNS)
    num = ["baseline_mean", "scenario_mean", "difference", "ci_low", "ci_high"]
    df[num] = df[num].astype(float).round(6)
    return df


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in d.items()}


def level_table(batch: Batch, scenario: str, year: int) -> pd.DataFrame:
    """Mean and 95% CI of each key outcome for one scenario at ``year`` (not paired)."""
    rows = []
    for o in OUTCOMES:
        mean, low, high, n = t_interval(outcome_values(batch, o, scenario, year).to_numpy())
        rows.append({"outcome": o.key, "label": o.short, "unit": o.unit, "mean": mean,
                     "ci_low": low, "ci_high": high, "n": n, "kind": o.kind})
    return pd.DataFrame(rows)


def band_table(batch: Batch, column: str) -> pd.DataFrame:
    """Per scenario and calendar year: mean and 95% CI (in %) of a share column."""
    rows = []
    ts = batch.timeseries
    for (scenario, year), g in ts.groupby(["scenario", "year"], sort=True):
        mean, low, high, n = t_interval(g[column].to_numpy(dtype=float) * 100.0)
        rows.append({"scenario": scenario, "year": int(year),
                     "calendar_year": int(g["calendar_year"].iloc[0]) if "calendar_year" in g
                     else batch.start_year(scenario) + int(year) - 1,
                     "mean": mean, "low": low if n > 1 else mean,
                     "high": high if n > 1 else mean, "n": n})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- provenance


def _display_path(source: str | None) -> str | None:
    if not source:
        return None
    p = Path(source)
    if not p.is_absolute():  # relative to where the batch ran: try here, then the repository
        p = next((c for c in (Path.cwd() / p, REPO_ROOT / p) if c.exists()), Path.cwd() / p)
    try:
        return str(p.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(p.resolve())


def scenario_files(batch: Batch) -> list[str]:
    """The batch's scenario files, repository-relative when they are in the repository."""
    out = []
    m = batch.manifest
    for name in m.get("scenario_order") or list(m["scenarios"]):  # the batch's own order
        entry = m["scenarios"][name]
        src = _display_path(entry.get("source") or entry.get("resolved", {}).get("source"))
        out.append(src or name)
    return out


def _batch_years(batch: Batch) -> int:
    years = batch.manifest.get("years")
    return int(years) if isinstance(years, int) else batch.horizon(batch.baseline)


def scenario_file_warnings(batch: Batch) -> list[str]:
    """Scenario files that are missing or no longer resolve to the hash the batch used."""
    from model.scenario import ScenarioError, load_scenario

    out = []
    m = batch.manifest
    names = m.get("scenario_order") or list(m["scenarios"])
    for name, path in zip(names, scenario_files(batch), strict=True):
        want = m["scenarios"][name].get("hash")
        p = Path(path) if Path(path).is_absolute() else REPO_ROOT / path
        try:
            got = load_scenario(p, years=_batch_years(batch)).hash
        except (ScenarioError, OSError, ValueError) as exc:
            out.append(f"scenario file {path} cannot be read here ({exc})")
            continue
        if got != want:
            out.append(f"scenario file {path} has changed since the batch ran (hash {got}, "
                       f"batch used {want}): check out the commit above to reproduce")
    return out


def reproduce_command(batch: Batch, out_dir: str | None = None) -> str:
    """One command line that reruns the batch into ``out_dir`` and writes its brief."""
    m = batch.manifest
    out = out_dir or f"results/reproduce-{batch.path.resolve().name}"
    parts = ["herdtrap", "batch", *scenario_files(batch),
             "--replicates", str(m.get("replicates")),
             "--years", str(_batch_years(batch)),
             "--seed", str(m.get("root_seed")), "--out", out]
    frac = m.get("household_panel_fraction")
    if frac:
        parts += ["--household-panel", str(frac)]
    if m.get("posterior"):
        parts += ["--posterior", str(m["posterior"]["file"])]
    brief = ["herdtrap", "brief", out, "--baseline", batch.baseline]
    if batch.only:
        brief += ["--scenarios", *batch.only]
    return f"{shlex.join(parts)} && {shlex.join(brief)}"


def herdtrap_version(batch: Batch) -> str:
    v = batch.manifest.get("versions", {}).get("herdtrap")
    if v and v != "not installed":
        return v
    try:
        return metadata.version("herdtrap")
    except metadata.PackageNotFoundError:
        return "unknown"


def calibration_sources(aimags: Sequence[str]) -> dict[str, dict[str, str]]:
    """Region calibration sources per aimag (model/data/regions/*.json 'sources')."""
    try:
        from model.region import load_region

        return dict(load_region(tuple(aimags)).sources)
    except Exception as exc:  # a missing region file must not stop the brief
        return {", ".join(aimags): {"error": f"could not load region sources: {exc}"}}


def estimated_parameter_count() -> tuple[int, int, int]:
    """(parameters whose source is marked [est], parameters fitted to data by ABC-SMC
    (source marked [fit] by `herdtrap adopt`), all parameters)."""
    from model.parameters import parameter_table

    table = parameter_table()
    fitted = sum(p.source.startswith("[fit]") for p in table.values())
    est = sum("[est]" in p.source and not p.source.startswith("[fit]") for p in table.values())
    return est, fitted, len(table)


def _lever_defaults(policy: str, levers: dict[str, Any]) -> dict[str, Any]:
    try:
        from model.policies import policy_class

        return {k: p.default for k, p in policy_class(policy, levers).levers.items()}
    except Exception:  # an unknown policy: show every lever
        return {}


def scenario_differences(batch: Batch, scenario: str) -> str:
    """What a scenario sets differently from the baseline (policies and parameters)."""
    a, b = batch.resolved(scenario), batch.resolved(batch.baseline)
    bits = []
    for name, levers in sorted(a.get("policies", {}).items()):
        base_levers = b.get("policies", {}).get(name)
        if base_levers != levers:
            ref = base_levers if base_levers is not None else _lever_defaults(name, levers)
            lv = ", ".join(f"{k} = {v}" for k, v in sorted(levers.items())
                           if ref.get(k, object()) != v)
            bits.append(f"policy {name} ({lv})" if lv else f"policy {name}")
    for k, v in sorted(a.get("params", {}).items()):
        if b.get("params", {}).get(k) != v:
            bits.append(f"{k} = {v}")
    for key in ("years", "regime", "replay_years", "aimags", "start_year"):
        if a.get(key) != b.get(key):
            bits.append(f"{key} = {a.get(key)}")
    return "; ".join(bits) if bits else ("(reference)" if scenario == batch.baseline
                                         else "same settings as the baseline")


@dataclass
class BriefContent:
    """Everything the HTML and Markdown renderers need."""

    title: str
    date: str
    batch: Batch
    findings: pd.DataFrame
    figures: dict[str, dict[str, str]]  # stem -> {"png": rel path, "svg": rel path}
    figure_note: str | None
    reproduce: str
    commit: str
    dirty: bool | None
    version: str
    warnings: list[str] = field(default_factory=list)  # reproducibility caveats
    #: who gains and who loses (experiments.analysis.distribution); None: no outcomes
    distribution: Any = None
    #: (spec, points, equal-budget table) of a `herdtrap frontier` folder; None otherwise
    frontier: Any = None
    #: trigger scorecard (experiments.analysis.triggers); None: no policy pays on a signal
    scorecard: Any = None


KEY_OUTCOMES = ("poverty_headcount", "asset_poverty")


def key_findings(c: BriefContent) -> pd.DataFrame:
    """The findings listed up front: poverty and asset poverty (each with its cost clause)."""
    f = c.findings[c.findings["outcome"].isin(KEY_OUTCOMES)]
    order = {s: i for i, s in enumerate(c.batch.scenarios)}
    rank = {k: i for i, k in enumerate(KEY_OUTCOMES)}
    f = f.assign(_o=f["scenario"].map(order), _k=f["outcome"].map(rank))
    return f.sort_values(["_o", "_k", "horizon_year"], kind="stable")


def methods_rows(c: BriefContent) -> list[tuple[str, str]]:
    b = c.batch
    res = b.resolved(b.baseline)
    params = res.get("params", {})
    pl = params.get("consumption.poverty_line")
    cpi = params.get("consumption.cpi_2018_to_2021")
    n_est, n_fit, n_all = estimated_parameter_count()
    regime = res.get("regime", "stochastic")
    if regime == "replay":
        regime += f" of observed NSO losses {res.get('replay_years')}"
    else:
        regime += " winters from a generator fitted to NSO aimag mortality 1992–2024"
    n_ok = b.runs.groupby("scenario").size()
    reps = ", ".join(f"{s}: {int(n_ok.get(s, 0))}" for s in b.scenarios)
    rows = [
        ("Model", f"herdtrap {c.version} (agent-based model of herder households; Mesa "
                  f"{b.manifest.get('versions', {}).get('mesa', '?')}), git commit "
                  f"{c.commit}{' + uncommitted changes' if c.dirty else ''}"),
        ("Model description", "docs/ODD.md (ODD protocol); parameters, units and sources: "
                              "docs/PARAMETERS.md"),
        ("Region", f"{', '.join(res.get('aimags', []))}: "
                   f"{int(params.get('population.households', 0)):,} simulated households"),
        ("Horizon", f"{b.horizon(b.baseline)} years from {b.start_year(b.baseline)} "
                    "(4 seasons a year)"),
        ("Climate", regime),
        ("Replicates", f"{b.manifest.get('replicates')} per scenario, paired by replicate "
                       f"(common random numbers; root seed {b.manifest.get('root_seed')}); "
                       f"finished runs: {reps}"),
        ("Statistics", "paired differences scenario − baseline per replicate; 95% CI = "
                       "t-interval mean ± t(0.975, n−1)·sd/√n over replicates; "
                       + uncertainty_note(b.manifest)),
        ("Poverty line", f"MNT {fmt_mnt(pl * cpi * KMNT_TO_MNT)} per person per month "
                         f"({PRICE_YEAR} prices; NSO & World Bank 2018 line MNT "
                         f"{fmt_mnt(pl * KMNT_TO_MNT)} × CPI {cpi})" if pl and cpi else "n/a"),
        ("Asset poverty", f"herd below {params.get('metrics.asset_poverty_line')} sheep "
                          "forage units (SFU) per person"),
        ("Money", f"MNT at {PRICE_YEAR} prices, undiscounted; fiscal cost = transfers, "
                  "subsidies, government loss layer and administration"),
        ("Parameters", f"{n_all} parameters: {n_est} of them reasoned estimates marked [est], "
                       f"{n_fit} fitted to data by ABC-SMC marked [fit]"),
    ]
    by_text: dict[tuple[str, str], list[str]] = {}
    for aimag, srcs in calibration_sources(res.get("aimags", ["Zavkhan"])).items():
        for block, text in srcs.items():
            by_text.setdefault((block, str(text)), []).append(aimag)
    for (block, text), aimags in by_text.items():
        rows.append((f"Calibration: {block} ({', '.join(aimags)})", text))
    return rows


def limitations(c: BriefContent) -> str:
    n_est, n_fit, n_all = estimated_parameter_count()
    return (
        "herdtrap is a stylised model. Its regions are calibrated to aimag and soum aggregates "
        "of Mongolia's National Statistics Office (2019 livestock and herd-size classes, 2021 "
        "prices, 1992–2024 livestock mortality), not to a household panel; "
        f"{n_est} of its {n_all} parameters are reasoned estimates marked [est] in "
        "docs/PARAMETERS.md"
        + (f", and {n_fit} were fitted to the census and survey facts by ABC-SMC (marked "
           "[fit]; docs/VALIDATION.md section 8)" if n_fit else "")
        + ". The confidence intervals: "
        + uncertainty_note(c.batch.manifest)
        + (" (for the others see the sensitivity analysis, `herdtrap sensitivity`)"
           if c.batch.manifest.get("posterior") else
           "; for those see the sensitivity analysis (`herdtrap sensitivity`) and "
           "`herdtrap batch --posterior`")
        + ". Results are comparisons between scenarios under the "
        "same simulated weather, not forecasts of a particular year. Costs are fiscal "
        "outlays in 2021 prices without discounting, behavioural responses are stylised, and "
        "households do not move between soums."
    )


def citation_rows(c: BriefContent) -> list[tuple[str, str]]:
    m = c.batch.manifest
    hashes = "; ".join(f"{s} {e.get('hash', '?')}" for s, e in m["scenarios"].items())
    seeds = m.get("seeds", {})
    seed_txt = (f"root seed {m.get('root_seed')}; replicate r uses "
                f"SeedSequence({m.get('root_seed')}, spawn_key=(r,)), r = 0…"
                f"{int(m.get('replicates', len(seeds) or 1)) - 1}")
    return [
        ("Model", f"herdtrap {c.version}"),
        ("Git commit", f"{c.commit}{' (work tree had uncommitted changes)' if c.dirty else ''}"),
        ("Scenario hashes", hashes),
        ("Seeds", seed_txt),
        ("Batch run", f"{m.get('started', '?')} – {m.get('finished', '?')} "
                      f"(backend {m.get('backend', '?')})"),
        ("Batch command", str(m.get("command", "?"))),
        ("Brief written", c.date),
        ("Cite as", f"herdtrap developers ({c.date[:4]}). herdtrap: an agent-based model of "
                    f"poverty traps among Mongolian herder households, version {c.version}, "
                    f"commit {c.commit[:12]}. See CITATION.cff. Data: NSO Mongolia compilation "
                    f"nominkhurelchuluun/mongolia-dzud-drought, doi:{CITATION_DOI}."),
    ]


__all__ = [
    "FINDINGS_COLUMNS", "OUTCOMES", "Batch", "BriefError", "compute_findings", "load_batch",
    "outcome_values", "paired_difference", "reproduce_command", "t_interval",
]

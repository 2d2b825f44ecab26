"""The computation of `herdtrap validate` (no Markdown, no files): the numbers of every
section of docs/VALIDATION.md, as records. The command is
:mod:`experiments.analysis.validate`; the Markdown and figures
:mod:`experiments.report.validate_render`.

(1) the stochastic dzud generator against NSO 1992-2024 (:func:`generator_fit`);
(2) hindcasts of Zavkhan, Khuvsgul and Mongolia as a whole (the national NSO tables in
the aimag formats, :func:`national_as_aimag`), the replayed mortality against simulated
household losses and the grids around the offtake parameters (:func:`hindcast_checks`);
(3) the poverty-trap threshold of a baseline batch and the field's rule of thumb
(:func:`trap_checks`); (4) the RIMA-II resilience index
(:func:`experiments.analysis.resilience.run_rima`); (5) the model at t = 0 and in
simulated year 1 against NSO (:func:`model_checks`). Sections 6-8 are
:mod:`experiments.analysis.household_checks`, :mod:`experiments.analysis.demography_checks`
and :func:`experiments.analysis.fit.fit_section`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis import hindcast_compute as hc
from experiments.analysis import trap_compute as trap
from model.region import HERD_CLASS_LABELS, REPO_ROOT, Region, load_region
from model.species import NSO_MORTALITY_COLUMNS, NSO_POPULATION_NAMES, SFU, SPECIES

AIMAGS = ("Zavkhan", "Khuvsgul")
DOCS = REPO_ROOT / "docs"
DEFAULT_OUT = DOCS / "VALIDATION.md"
FIG_DIR_NAME = "validation"
#: The measured poverty-trap threshold, as JSON next to the report's figures: the one
#: place the app (and anyone else) reads it from
#: (experiments.analysis.trap_compute.read_threshold).
TRAP_JSON_NAME = "trap.json"
TRAP_JSON = DOCS / FIG_DIR_NAME / TRAP_JSON_NAME
GENERATOR_WINTERS = 20_000
GENERATOR_SEED = 20240501
#: Offtake rates of the fit table: default x these factors.
OFFTAKE_WHATIF = (0.968, 1.0, 1.032)
#: Species-mix elasticities of the fit table.
MIX_WHATIF = (0.0, 1.0, 2.0)
#: Multiples of ``herd.precaution`` in the fit's grid (0: no precautionary buffer).
PRECAUTION_WHATIF = (0.0, 0.5, 1.0, 1.5)
#: Regions of the fit tables: the two aimags (the fit) and the national series (not fitted).
REGIONS_FIT = (*AIMAGS, "Mongolia")
#: The field's rule of thumb for a viable herd, head per household (any species).
RULE_OF_THUMB_HEAD = (100, 200)
#: Herd sizes (SFU per person) at which section 3 reports the expected growth.
GROWTH_PROBES = (1, 5, 10, 25, 50, 100, 200)
#: Simulated years of the trap-share table of section 3.
SHARE_YEARS = (0, 1, 5, 10, 20, 30)


def default_value(name: str) -> float:
    """The default of a parameter in model/parameters.toml."""
    from model.parameters import parameter_table

    return float(parameter_table()[name].default)


# ---------------------------------------------------------------- 1. dzud generator
@dataclass
class GeneratorFit:
    """Simulated winters of the stochastic dzud generator against the observed ones."""

    region: Region
    #: (winters, aimags): simulated SFU-weighted adult mortality
    sfu: np.ndarray
    #: per aimag: the statistics of calibrate_compute.dist_stats
    simulated: list[dict[str, float]]
    #: statistic -> tolerance (docs/CALIBRATION.md)
    tolerance: dict[str, float]
    #: correlation of logit mortality between the first two aimags (None with one aimag)
    corr_logit: float | None


def generator_fit(aimags: tuple[str, ...]) -> GeneratorFit:
    from experiments.analysis import calibrate_compute

    region = load_region(list(aimags))
    params = calibrate_compute.report_params()
    sfu, _ = calibrate_compute.simulate_sfu(region, GENERATOR_WINTERS, GENERATOR_SEED, **params)
    tol = {"median": calibrate_compute.TOL_MEDIAN, "p90": calibrate_compute.TOL_P90,
           "share_above_10pct": calibrate_compute.TOL_SHARE10}
    sim = [calibrate_compute.dist_stats(sfu[:, i]) for i in range(region.n_aimags)]
    corr = None
    if region.n_aimags > 1:
        y = np.log(np.clip(sfu, 1e-6, None) / (1 - sfu))
        corr = float(np.corrcoef(y[:, 0], y[:, 1])[0, 1])
    return GeneratorFit(region=region, sfu=sfu, simulated=sim, tolerance=tol, corr_logit=corr)


# ---------------------------------------------------------------- 2. hindcast
def national_as_aimag(data_dir: Path, out_dir: Path, name: str = "Mongolia") -> Path:
    """Write the national NSO tables in the aimag formats (a region a new user could bring).

    Census: livestock_population_national_species.csv (millions -> Thousand_head).
    Mortality: adult deaths (livestock_losses_national_annual.csv) / previous year-end
    stock, by species; All_SFU weights species by the previous stock x SFU.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    nat = pd.read_csv(data_dir / "livestock_population_national_species.csv").set_index("Year")
    loss = pd.read_csv(data_dir / "livestock_losses_national_annual.csv").set_index("Year")
    cols = {"sheep": "Sheep", "goat": "Goat", "cattle": "Cattle", "horse": "Horse",
            "camel": "Camel"}
    pop_rows = [{"Aimag": name, "Year": int(y), "Species": NSO_POPULATION_NAMES[s],
                 "Thousand_head": float(nat.loc[y, c]) * 1000.0}
                for y in nat.index for s, c in cols.items()]
    pd.DataFrame(pop_rows).to_csv(out_dir / hc.F_POP, index=False)
    mort_rows = []
    for y in loss.index:
        if y - 1 not in nat.index:
            continue
        prev = np.array([nat.loc[y - 1, cols[s]] for s in SPECIES])
        deaths = np.array([loss.loc[y, cols[s]] for s in SPECIES])
        rate = deaths / prev
        row = {"Aimag": name, "Year": int(y)}
        row.update({NSO_MORTALITY_COLUMNS[s]: float(rate[k]) for k, s in enumerate(SPECIES)})
        row["All_SFU"] = float((deaths * SFU).sum() / (prev * SFU).sum())
        row["All"] = float(deaths.sum() / prev.sum())
        mort_rows.append(row)
    pd.DataFrame(mort_rows).to_csv(out_dir / hc.F_MORT, index=False)
    return out_dir


def hindcast_checks(data_dir: Path, replicates: int, seed: int,
                    progress: bool) -> dict[str, Any]:
    """Section 2's runs: ``{"results": {region: HindcastResult}, "pass_through": {aimag:
    frame}, "whatif": {rate: {region: summary}}, "mix": {κ: {region: (species errors,
    share within ±15%)}}, "default_rate": r0, "default_mix": κ0}`` (the aimags, then
    Mongolia; the same seeds everywhere)."""
    results: dict[str, hc.HindcastResult] = {}
    for a in AIMAGS:
        results[a] = hc.run_hindcast(data_dir, a, 1992, 2024, replicates, seed=seed,
                                     progress=progress)
    with tempfile.TemporaryDirectory(prefix="herdtrap-national-") as tmp:
        nat_dir = national_as_aimag(data_dir, Path(tmp))
        results["Mongolia"] = hc.run_hindcast(nat_dir, "Mongolia", 1992, 2024, replicates,
                                              seed=seed, progress=progress)
    pass_through = {a: hc.mortality_pass_through(data_dir, a, 1992, 2024, seed=seed)
                    for a in AIMAGS}
    whatif, mix, precaution = fit_grids(data_dir, results, seed, replicates)
    return {"results": results, "whatif": whatif, "pass_through": pass_through, "mix": mix,
            "precaution": precaution,
            "default_rate": default_value("herd.offtake_rate"),
            "default_mix": default_value("herd.mix_elasticity"),
            "default_precaution": default_value("herd.precaution")}


def fit_grids(data_dir: Path, results: dict[str, hc.HindcastResult], seed: int,
              replicates: int) -> tuple[dict[float, dict[str, dict[str, Any]]],
                         dict[float, dict[str, tuple[dict[str, float], float]]],
                         dict[float, dict[str, dict[str, Any]]]]:
    """Hindcasts around the defaults of the offtake parameters (same seeds as above).

    Returns ({rate: {region: summary}}, {κ: {region: (species mean log errors, share
    within ±15%)}}, {precaution: {region: summary with "recovery", the mean yearly
    growth of head 2003-2009}}). Runs at the default values reuse ``results``.
    """
    rate0, k0 = default_value("herd.offtake_rate"), default_value("herd.mix_elasticity")
    prec0 = default_value("herd.precaution")
    with tempfile.TemporaryDirectory(prefix="herdtrap-national-") as tmp:
        dirs = {a: data_dir for a in AIMAGS}
        dirs["Mongolia"] = national_as_aimag(data_dir, Path(tmp))

        def run(region: str, params: dict[str, float]) -> hc.HindcastResult:
            if all(params.get(k, v) == v for k, v in (("herd.offtake_rate", rate0),
                                                       ("herd.mix_elasticity", k0),
                                                       ("herd.precaution", prec0))):
                return results[region]
            return hc.run_hindcast(dirs[region], region, 1992, 2024, replicates, seed=seed,
                                   progress=False, params=params)

        whatif: dict[float, dict[str, dict[str, Any]]] = {}
        for f in OFFTAKE_WHATIF:
            rate = round(rate0 * f, 4)
            whatif[rate] = {a: run(a, {"herd.offtake_rate": rate, "herd.mix_elasticity": k0}
                                   ).summary for a in REGIONS_FIT}
        mix: dict[float, dict[str, tuple[dict[str, float], float]]] = {}
        for k in MIX_WHATIF:
            mix[k] = {}
            for a in REGIONS_FIT:
                r = run(a, {"herd.offtake_rate": rate0, "herd.mix_elasticity": k})
                sp = r.species.set_index("species")["mean_log_error"].to_dict()
                mix[k][a] = (sp, r.summary["share_within_tolerance"])
        precaution: dict[float, dict[str, dict[str, Any]]] = {}
        for f in PRECAUTION_WHATIF:
            k = round(prec0 * f, 4)
            precaution[k] = {}
            for a in REGIONS_FIT:
                r = run(a, {"herd.offtake_rate": rate0, "herd.mix_elasticity": k0,
                            "herd.precaution": k})
                sim, cen = hc.mean_growth(r.years)
                precaution[k][a] = {**r.summary, "recovery": sim, "census_recovery": cen}
    return whatif, mix, precaution


# ---------------------------------------------------------------- 3. trap
def baseline_panel(replicates: int, seed: int, progress: bool) -> pd.DataFrame:
    """Household panel of baseline replicates: a batch in a temporary folder."""
    from model.scenario import load_scenario

    scen = load_scenario("baseline")
    columns = [*trap.PANEL_COLUMNS, trap.ID_COLUMN, *SPECIES]
    with tempfile.TemporaryDirectory(prefix="herdtrap-validate-batch-") as tmp:
        try:
            from experiments.run.batch import run_batch
        except ImportError:
            run_batch = None
        if run_batch is not None:
            report, _ = run_batch([scen], replicates, Path(tmp) / "batch", root_seed=seed,
                                  backend="loky", jobs=2, panel_fraction=1.0, progress=progress)
            return pd.read_parquet(Path(tmp) / "batch" / "panel.parquet", columns=columns)
    from experiments.run.runner import simulate
    from model.streams import run_seed_sequence

    frames = []
    for r in range(replicates):
        out = simulate(scen, run_seed_sequence(seed, r), panel_fraction=1.0)
        p = out.panel
        p["scenario"], p["replicate"] = scen.name, r
        frames.append(p[columns])
    return pd.concat(frames, ignore_index=True)


def rule_of_thumb(panel: pd.DataFrame, est: trap.TrapEstimate) -> dict[str, Any]:
    """The threshold against the field's 100-200 head per household, converted with the
    simulated households' species mix (SFU per head) and family size.

    Returns sfu_per_head, persons and band_sfu_per_person (the rule of thumb in SFU per
    person) of the household-years the conversion uses (``near``: those within ±20% of
    the threshold, if at least 100, else all herding household-years), head_share (their
    species mix), all_sfu_per_head and all_persons (every herding household-year); with a
    threshold also head, head_lo, head_hi (the threshold in head per household) and
    ``where`` (the threshold's place relative to the band), else where = None.
    """
    lo_head, hi_head = RULE_OF_THUMB_HEAD
    t = est.threshold
    near = trap.herd_conversion(panel, around=t["h"]) if t is not None else None
    conv = near if near is not None and near["rows"] >= 100 else trap.herd_conversion(panel)
    allc = trap.herd_conversion(panel)
    k, p = conv["sfu_per_head"], conv["persons"]
    band = (lo_head * k / p, hi_head * k / p)
    out: dict[str, Any] = {"sfu_per_head": k, "persons": p, "band_sfu_per_person": band,
                           "near": conv is near, "head_share": conv["head_share"],
                           "all_sfu_per_head": allc["sfu_per_head"],
                           "all_persons": allc["persons"], "where": None}
    if t is None:
        return out
    head = t["h"] * p / k
    head_lo, head_hi = t["h_lo"] * p / k, t["h_hi"] * p / k
    out.update(head=head, head_lo=head_lo, head_hi=head_hi)
    if t["h_hi"] < band[0]:
        where = "below the rule of thumb: the CI lies entirely under its lower end"
    elif t["h_lo"] > band[1]:
        where = "above the rule of thumb: the CI lies entirely over its upper end"
    elif band[0] <= t["h_lo"] and t["h_hi"] <= band[1]:
        where = "within the rule of thumb, CI included"
    elif band[0] <= t["h"] <= band[1]:
        where = "within the rule of thumb, though the CI reaches beyond it"
    else:
        where = ("outside the rule of thumb, though the CI overlaps it"
                 if np.isfinite(t["h_lo"]) else "outside the rule of thumb (CI undetermined)")
    out["where"] = where
    return out


@dataclass
class TrapChecks:
    """Section 3: the threshold of a baseline batch, in levels and in logs."""

    replicates: int
    #: the reference scenario's estimate (level measure) and the same panel in logs
    estimate: trap.TrapEstimate
    log_estimate: trap.TrapEstimate
    #: trap shares at the threshold (scenario, replicate, year; empty without threshold)
    shares: pd.DataFrame
    #: households at the start (largest replicate), and with those founded during the run
    households_start: int
    households_all: int
    years: int
    #: see :func:`rule_of_thumb`
    rule_of_thumb: dict[str, Any]
    #: herd size (SFU per person) -> expected growth of 1 + h (GROWTH_PROBES)
    growth: dict[int, float]
    #: range of h over which crossings are searched
    searched: tuple[float, float]
    #: trap share by simulated year: mean, min, max over replicates (SHARE_YEARS present)
    share_years: pd.DataFrame


def trap_checks(replicates: int, seed: int, progress: bool) -> TrapChecks:
    panel = baseline_panel(replicates, seed, progress)
    ests, ref, shares = trap.analyse(panel, n_boot=200, seed=seed)
    est = ests[ref]
    log_est = trap.estimate(trap.transitions(panel), scenario=ref, n_boot=100, seed=seed,
                            measure="log")
    # households at the start (the table grows with demography: households founded
    # during the run are in the panel too)
    n_hh = int(panel[panel["year"] == panel["year"].min()].groupby("replicate").size().max())
    n_all = int(panel.groupby("replicate")[trap.ID_COLUMN].nunique().max())
    years = int(panel["year"].max() - panel["year"].min())
    thumb = rule_of_thumb(panel, est)
    c = est.curve
    grid_h = np.expm1(c.grid)
    growth = {v: float(np.interp(np.log1p(v), c.grid, c.m - c.target)) for v in GROWTH_PROBES}
    searched = (grid_h[c.searchable].min(), grid_h[c.searchable].max())
    share_years = pd.DataFrame()
    if len(shares):
        agg = shares.groupby("year")["trap_share"].agg(["mean", "min", "max"])
        share_years = agg.loc[[y for y in SHARE_YEARS if y in agg.index]]
    return TrapChecks(replicates=replicates, estimate=est, log_estimate=log_est, shares=shares,
                      households_start=n_hh, households_all=n_all, years=years,
                      rule_of_thumb=thumb, growth=growth, searched=searched,
                      share_years=share_years)


# ---------------------------------------------------------------- 5. model checks
@dataclass
class ModelChecks:
    """Section 5: the baseline at t = 0 and in simulated year 1 against NSO."""

    seeds: int
    #: aimag -> mean, min, max over seeds of the simulated year-1 poverty headcount
    poverty: pd.DataFrame
    #: aimag -> NSO 2018 poverty headcount in percent (None if not in the table)
    nso_poverty: dict[str, float | None]
    #: aimag x herd-size class: share of households at t = 0 (mean over seeds)
    classes: pd.DataFrame
    #: (aimags, classes): NSO 2019 herder households per class
    nso_classes: np.ndarray
    #: aimag x species: share of head at t = 0 (mean over seeds)
    mix: pd.DataFrame
    region: Region


def model_checks(data_dir: Path, seeds: int = 4) -> ModelChecks:
    from model.model import HerdtrapModel
    from model.population import herder_class_households
    from model.scenario import load_scenario
    from model.streams import run_seed_sequence

    pov = pd.read_csv(data_dir / "poverty_headcount_aimag.csv")
    scen = load_scenario("baseline", years=1)
    head, cls, mix = [], [], []
    for s in range(seeds):
        m = HerdtrapModel(scen, seed=run_seed_sequence(0, s), create_agents=False)
        init = m.households.copy()
        reg = m.region
        for a, name in enumerate(reg.aimags):
            rows = init.aimag == a
            h = init.herd[rows].sum(axis=1)
            counts = np.histogram(h, bins=np.r_[0.5, reg.herd_class_upper[a][:-1] + 0.5, np.inf])[0]
            cls.append({"aimag": name, "seed": s, **{lab: c / rows.sum() for lab, c in
                                                     zip(HERD_CLASS_LABELS, counts, strict=True)}})
            st = init.herd[rows].sum(axis=0)
            mix.append({"aimag": name, "seed": s, **dict(zip(SPECIES, st / st.sum(), strict=True))})
        m.run()
        panel = m.panel_frame()
        y1 = panel[panel["year"] == 1]
        line = 12.0 * m.line_month
        poor = (y1["consumption_kmnt"] / np.maximum(y1["persons"], 1)) < line
        for name, share in poor.groupby(y1["aimag"]).mean().items():
            head.append({"aimag": name, "seed": s, "poverty": float(share)})
    reg = load_region(list(AIMAGS))
    head_df = pd.DataFrame(head).groupby("aimag")["poverty"].agg(["mean", "min", "max"])
    nso_poverty: dict[str, float | None] = {}
    for a in AIMAGS:
        nso = pov.loc[pov["aimag"].str.lower() == a.lower(), "poverty_headcount_pct"]
        nso_poverty[a] = float(nso.iloc[0]) if len(nso) else None
    cls_df = pd.DataFrame(cls).groupby("aimag")[list(HERD_CLASS_LABELS)].mean()
    herders, _ = herder_class_households(reg.herd_class_households, reg.aimag_herder_households,
                                         scen.params["population.nonherder_max_class_share"])
    mix_df = pd.DataFrame(mix).groupby("aimag")[list(SPECIES)].mean()
    return ModelChecks(seeds=seeds, poverty=head_df, nso_poverty=nso_poverty, classes=cls_df,
                       nso_classes=herders, mix=mix_df, region=reg)

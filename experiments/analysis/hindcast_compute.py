"""The computation of `herdtrap hindcast` (no printing, no files): replay an aimag's
observed winters and compare its stock with the census. The command is
:mod:`experiments.analysis.hindcast`; the figure and the printed summary
:mod:`experiments.report.hindcast_render`.

DIR holds NSO-format tables (README, "Bring your own aimag"):
``mortality_rates_aimag.csv`` and ``livestock_population_aimag_species.csv``
(required), ``soum_profile_2019.csv`` and ``herd_size_classes_aimag_2019.csv``
(optional: without them the aimag is split into equal pseudo-soums with pooled household
shares, see experiments/analysis/calibrate.py). Nothing here is specific to an aimag: the
region is fitted from DIR by ``experiments.analysis.calibrate`` into a temporary folder.

Calendar (NSO: the census counts the stock in December; the loss of year t is
the winter (t-1)/t, as a share of the census of t-1):

* census year S (= ``--start``) is the initial condition. The model begins in
  spring S+1 (its ``start_year``) with the census of S less the adult losses of
  loss year S+1 (NSO species rates), i.e. the herds that came out of that winter;
* simulated year k (k = 1 … E-S) runs spring, summer, autumn of calendar year
  S+k; the stock counted right after its autumn (offtake done, winter not yet)
  is compared with the census of S+k. Its winter (Dec S+k – Feb S+k+1) replays
  NSO loss year S+k+1;
* the model's stock is a sample of households: simulated stock by species is
  scaled by census(S)·(1 − m(S+1)) / simulated stock at t = 0.

Policies: the hindcast runs under the policies in force each year, those of
``scenarios/status_quo.toml`` with their dated history (Child Money from 2005, the
Human Development Fund's cash in 2010-2011, index insurance from 2012, social
insurance from 1995; docs/POLICIES.md). ``--policies no_policy`` replays without
any programme (``--policies NAME``: the policies of scenarios/NAME.toml).

The households are drawn from the aimag's 2019 herd-size classes and rescaled by
species to the start year's stock (``HerdtrapModel.rescale_stock``); for early
start years that is an approximation (see docs/VALIDATION.md). Carrying
capacity stays at its 2019-based level.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.nso import NSOTableError, read_table
from model.region import Region, default_data_dir, load_region
from model.species import NSO_MORTALITY_COLUMNS, NSO_POPULATION_NAMES, SFU, SPECIES

F_MORT = "mortality_rates_aimag.csv"
F_POP = "livestock_population_aimag_species.csv"
F_PRICE = "livestock_prices_soum_monthly_2021.csv"
REQUIRED = (F_MORT, F_POP)
OPTIONAL = ("soum_profile_2019.csv", "herd_size_classes_aimag_2019.csv", F_PRICE)

#: A year is "close" when total simulated stock is within this relative error of the census.
CLOSE_TOLERANCE = 0.15
#: A census fall counts as a collapse when the stock falls by more than this share
#: from the previous year's census (NSO: Zavkhan 2000, 2001, 2010).
COLLAPSE_DROP = 0.15
#: A collapse is "reproduced" when the simulated fall over the same years is at least
#: this share of the census fall (on the log scale).
COLLAPSE_REPRODUCED_SHARE = 0.5


class HindcastError(ValueError):
    """Bad input for a hindcast (missing file, unknown aimag, years outside the data)."""


# ---------------------------------------------------------------- data
def _match(names: pd.Series, aimag: str) -> pd.Series:
    return names.astype(str).str.strip().str.lower() == aimag.strip().lower()


# The NSO tables a hindcast reads, checked by model.nso.read_table.
def read_population_table(data_dir: Path) -> pd.DataFrame:
    return read_table(Path(data_dir) / F_POP, ("Aimag", "Year", "Species", "Thousand_head"),
                      integers=("Year",), counts=("Thousand_head",))


def read_mortality_table(data_dir: Path) -> pd.DataFrame:
    rates = (*NSO_MORTALITY_COLUMNS.values(), "All_SFU")
    return read_table(Path(data_dir) / F_MORT, ("Aimag", "Year", *rates), integers=("Year",),
                      rates=rates)


#: Optional tables (passed on to experiments.analysis.calibrate): columns, whole-number columns, counts.
OPTIONAL_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "soum_profile_2019.csv": (
        ("soum_code", "aimag", "soum", "herder_households", "livestock_thousand_head",
         "children_under5", "population"), ("soum_code",),
        ("herder_households", "livestock_thousand_head", "children_under5", "population")),
    "herd_size_classes_aimag_2019.csv": (
        ("aimag_code", "aimag", "year", "total", "up_to_10", "11_30", "31_50", "51_100",
         "101_200", "up_to_200"), ("aimag_code", "year"),
        ("total", "up_to_10", "11_30", "31_50", "51_100", "101_200", "up_to_200")),
    F_PRICE: (("soum_code", "soum", "species", "year", "month", "price_thousand_mnt_per_head"),
              ("soum_code", "year", "month"), ("price_thousand_mnt_per_head",)),
}


def check_optional_tables(data_dir: Path) -> None:
    """Check the optional tables ``data_dir`` has (HindcastError naming file, column, line)."""
    for name, (columns, integers, counts) in OPTIONAL_COLUMNS.items():
        path = Path(data_dir) / name
        if path.exists():
            try:
                read_table(path, columns, integers=integers, counts=counts)
            except NSOTableError as exc:
                raise HindcastError(str(exc)) from None


def read_census(data_dir: Path, aimag: str) -> pd.DataFrame:
    """Year-end census (head) by species, index = year, columns = SPECIES (NaN if absent)."""
    pop = read_population_table(data_dir)
    rows = pop[_match(pop["Aimag"], aimag)]
    wide = rows.pivot_table(index="Year", columns="Species", values="Thousand_head",
                            aggfunc="sum")
    out = pd.DataFrame(index=wide.index.astype(int))
    for s in SPECIES:
        col = NSO_POPULATION_NAMES[s]
        out[s] = wide[col] * 1000.0 if col in wide else np.nan
    out.index.name = "year"
    return out


def read_mortality(data_dir: Path, aimag: str) -> pd.DataFrame:
    """NSO adult mortality by loss year: columns SPECIES + 'sfu' (All_SFU)."""
    mort = read_mortality_table(data_dir)
    rows = mort[_match(mort["Aimag"], aimag)].set_index("Year").sort_index()
    out = pd.DataFrame({s: rows[NSO_MORTALITY_COLUMNS[s]] for s in SPECIES})
    out["sfu"] = rows["All_SFU"]
    out.index = out.index.astype(int)
    out.index.name = "year"
    return out


def available_aimags(data_dir: Path) -> list[str]:
    """Aimags present in both required tables of ``data_dir``."""
    mort = read_mortality_table(data_dir)
    pop = read_population_table(data_dir)
    return sorted(set(mort["Aimag"].astype(str).str.strip())
                  & set(pop["Aimag"].astype(str).str.strip()))


def check_inputs(data_dir: Path, aimag: str, start: int, end: int) -> str:
    """Validate the data folder and years; return the aimag's name as spelled in the files."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise HindcastError(f"data directory not found: {data_dir}")
    missing = [f for f in REQUIRED if not (data_dir / f).is_file()]
    if missing:
        raise HindcastError(f"{data_dir} lacks required NSO table(s): {', '.join(missing)}")
    try:
        known = available_aimags(data_dir)
    except NSOTableError as exc:
        raise HindcastError(str(exc)) from None
    check_optional_tables(data_dir)
    name = next((k for k in known if k.lower() == aimag.strip().lower()), None)
    if name is None:
        raise HindcastError(f"aimag {aimag!r} not in both {F_MORT} and {F_POP} of {data_dir}; "
                            f"available: {', '.join(known) or '(none)'}")
    if end <= start:
        raise HindcastError(f"--end ({end}) must be after --start ({start})")
    census = read_census(data_dir, name)
    total = census.sum(axis=1, min_count=1).dropna()
    for y, what in ((start, "--start"), (end, "--end")):
        if y not in total.index:
            raise HindcastError(f"{what} {y}: no census of {name} in {F_POP} "
                                f"(years {total.index.min()}-{total.index.max()})")
    mort = read_mortality(data_dir, name)
    have = set(mort.dropna(subset=["sfu"]).index)
    need = [y for y in range(start + 1, end + 1) if y not in have]
    if need:
        raise HindcastError(f"{name}: no All_SFU mortality in {F_MORT} for loss year(s) "
                            f"{', '.join(map(str, need))} (a hindcast {start}-{end} replays "
                            f"loss years {start + 1}-{end})")
    return name


@contextlib.contextmanager
def fitted_region(data_dir: Path, aimag: str):
    """Fit the aimag's region from ``data_dir`` into a temporary folder; yield (Region, notes).

    Optional tables missing from ``data_dir`` (soum profile, herd-size classes, prices)
    are taken from the default NSO folder; where the aimag has no rows there,
    experiments.analysis.calibrate falls back to values pooled over the aimags on file. Every
    fallback is recorded in the notes.
    """
    from experiments.analysis import calibrate

    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="herdtrap-hindcast-") as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        data.mkdir()
        for f in (*REQUIRED, *OPTIONAL):
            if (Path(data_dir) / f).is_file():
                shutil.copy(Path(data_dir) / f, data / f)
        for f in OPTIONAL:
            if (data / f).is_file():
                continue
            fallback = default_data_dir() / f
            if fallback.is_file():
                # Where the aimag has no rows in it, calibrate uses pooled values.
                shutil.copy(fallback, data / f)
                notes.append(f"{f} not in the data folder: taken from {_display(fallback)} "
                             "(pooled values of its aimags where this aimag has no rows)")
            elif f == F_PRICE:
                raise HindcastError(f"{data_dir} has no {F_PRICE} and no default one exists")
            else:
                header = {"soum_profile_2019.csv": "soum_code,aimag,soum,herder_households,"
                          "livestock_thousand_head,children_under5,population\n",
                          "herd_size_classes_aimag_2019.csv": "aimag_code,aimag,year,total,"
                          "up_to_10,11_30,31_50,51_100,up_to_100,101_200,up_to_200\n"}[f]
                (data / f).write_text(header)
                notes.append(f"{f} not in the data folder: calibrate's [est] fallbacks used")
        out = tmp / "regions"
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            rc = calibrate.main(["--data", str(data), "--aimag", aimag, "--out", str(out),
                                 "--no-report"])
        if rc != 0:
            raise HindcastError(err.getvalue().strip().removeprefix("calibrate: "))
        region = load_region([aimag], regions_dir=out)
        notes.extend(region.notes.get(region.aimags[0], []))
        yield region, notes


# ---------------------------------------------------------------- simulation
@dataclass
class HindcastResult:
    """Outputs of one hindcast (all stocks in head at aimag scale)."""

    aimag: str
    start: int
    end: int
    replicates: int
    households: int
    #: one row per (replicate, year): columns replicate, year, SPECIES, total, sfu
    runs: pd.DataFrame
    #: one row per year: census and simulated totals (mean/min/max over replicates), errors
    years: pd.DataFrame
    #: headline numbers (see :func:`summary_metrics`)
    summary: dict[str, Any]
    #: per species: RMSE of log error, census and simulated change start -> end
    species: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: the NSO folder read, as reports name it (model.region.data_dir_label)
    data: str = ""


#: Whose policies (with their dated history) a hindcast runs under by default.
DEFAULT_POLICIES = "status_quo"


def policies_of(name: str) -> dict[str, dict[str, Any]]:
    """The resolved policies of scenarios/<name>.toml (or a path), as a hindcast applies them."""
    from model.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(name).policies
    except ScenarioError as exc:
        raise HindcastError(f"--policies: {exc}") from None


def scenario_for(aimag: str, start: int, end: int, data_dir: Path,
                 params: dict[str, Any] | None = None, policies: str = DEFAULT_POLICIES):
    """The replay scenario of a hindcast (built directly: the aimag may not be calibrated),
    under the policies of scenarios/<policies>.toml in force each calendar year."""
    from model.parameters import resolve
    from model.scenario import Scenario

    return Scenario(
        name=f"hindcast-{aimag.lower()}-{start}-{end}",
        description=f"Hindcast of {aimag}: census {start} replayed with NSO loss years "
                    f"{start + 1}-{end}",
        years=end - start,
        aimags=(aimag,),
        start_year=start + 1,
        regime="replay",
        # simulated year k (autumn S+k) draws winter k = loss year S+k+1; the last one is
        # never compared with a census, so it falls back to a stochastic draw.
        replay_years=tuple(range(start + 2, end + 1)),
        data_dir=str(data_dir),
        params=resolve(params or {}),
        policies=policies_of(policies),
    )


def simulate_replicate(region: Region, scenario, init_stock: np.ndarray,
                       seed: int | np.random.SeedSequence) -> np.ndarray:
    """Stock by species (head, aimag scale) after each simulated autumn: (years, 5)."""
    from model.model import HerdtrapModel

    m = HerdtrapModel(scenario, seed=seed, region=region, create_agents=False, panel_rows=None)
    factor = np.divide(init_stock, region.stock_2019[0], out=np.zeros(len(SPECIES)),
                       where=region.stock_2019[0] > 0)
    m.rescale_stock(factor[None, :])
    sim0 = m.households.herd.sum(axis=0).astype(float)
    scale = np.divide(init_stock, sim0, out=np.zeros(len(SPECIES)), where=sim0 > 0)
    out = np.empty((scenario.years, len(SPECIES)))
    for k in range(scenario.years):
        for _ in range(3):  # spring, summer, autumn
            m.step()
        out[k] = m.households.herd.sum(axis=0) * scale
        if k < scenario.years - 1:
            m.step()  # winter
    return out


def initial_stock(census: pd.DataFrame, mort: pd.DataFrame, start: int) -> np.ndarray:
    """The herd a replay from census year ``start`` begins with (head by species): the
    December census less the adult losses of the winter after it (loss year start + 1;
    the aimag's all-species rate where a species has none)."""
    m1 = mort.loc[start + 1, list(SPECIES)].to_numpy(dtype=float)
    m1 = np.where(np.isfinite(m1), m1, float(mort.loc[start + 1, "sfu"]))
    return np.nan_to_num(census.loc[start, list(SPECIES)].to_numpy(dtype=float)) * (1.0 - m1)


def census_factor(region: Region, year: int, *, after_winter: bool = False,
                  data_dir: Path | None = None) -> np.ndarray:
    """(aimags, species) factors that turn the households' 2019 herds into the census
    herds of ``year`` (NSO livestock_population_aimag_species.csv, year end), to start a
    replay from them (:meth:`HerdtrapModel.rescale_stock`); ``after_winter``: less the
    adult losses of the winter after it (:func:`initial_stock`, as a hindcast starts:
    the herds of the spring of ``year + 1``)."""
    d = Path(data_dir) if data_dir is not None else default_data_dir()
    out = np.ones((region.n_aimags, len(SPECIES)))
    for a, name in enumerate(region.aimags):
        census = read_census(d, name)
        now = (initial_stock(census, read_mortality(d, name), year) if after_winter
               else census.loc[year, list(SPECIES)].to_numpy(dtype=float))
        out[a] = np.divide(now, region.stock_2019[a], out=np.ones(len(SPECIES)),
                           where=region.stock_2019[a] > 0)
    return out


def run_hindcast(data_dir: Path, aimag: str, start: int = 1992, end: int = 2024,
                 replicates: int = 5, *, households: int | None = None, seed: int = 0,
                 params: dict[str, Any] | None = None, progress: bool = True,
                 policies: str = DEFAULT_POLICIES) -> HindcastResult:
    """Replay ``aimag``'s NSO loss years from ``start`` to ``end`` and compare with the census."""
    from tqdm.auto import tqdm

    from model.streams import run_seed_sequence

    data_dir = Path(data_dir)
    if replicates < 1:
        raise HindcastError(f"--replicates must be at least 1, got {replicates}")
    from experiments.run.limits import check_limits

    check_limits(replicates=replicates, error=HindcastError)
    name = check_inputs(data_dir, aimag, start, end)
    census = read_census(data_dir, name)
    init = initial_stock(census, read_mortality(data_dir, name), start)
    overrides = dict(params or {})
    if households is not None:
        overrides["population.households"] = int(households)
    scenario = scenario_for(name, start, end, data_dir, overrides, policies)
    n_hh = int(scenario.params["population.households"])
    rows = []
    with fitted_region(data_dir, name) as (region, notes):
        bar = tqdm(range(replicates), desc=f"hindcast {name} {start}-{end}", unit="run",
                   disable=not progress, leave=False)
        for r in bar:
            stock = simulate_replicate(region, scenario, init, run_seed_sequence(seed, r))
            for k in range(scenario.years):
                rows.append({"replicate": r, "year": start + k + 1,
                             **dict(zip(SPECIES, stock[k], strict=True))})
    runs = pd.DataFrame(rows)
    runs["total"] = runs[list(SPECIES)].sum(axis=1)
    runs["sfu"] = runs[list(SPECIES)].to_numpy() @ SFU
    years, summary, species = compare_with_census(runs, census, start, end)
    notes = list(notes)
    in_force = ", ".join(sorted(scenario.policies)) or "none"
    notes.append(f"policies of scenarios/{policies}.toml in force each year ({in_force})")
    if 2019 - start > 5:
        notes.append(f"households drawn from the 2019 herd-size classes and rescaled by species "
                     f"to the {start} stock: an approximation {2019 - start} years before 2019")
    return HindcastResult(aimag=name, start=start, end=end, replicates=replicates,
                          households=n_hh, runs=runs, years=years, summary=summary,
                          species=species, notes=notes, data=_display(data_dir))


def mortality_pass_through(data_dir: Path, aimag: str, start: int = 1992, end: int = 2024,
                           seed: int = 0, households: int | None = None) -> pd.DataFrame:
    """Replayed NSO mortality vs what simulated households lost, per loss year (one run).

    Columns: loss_year, nso_sfu (NSO All_SFU), index_sfu (the replayed aimag rates at
    2019 SFU weights), household_sfu (SFU-weighted share of the simulated households'
    adult stock that died), ratio = household_sfu / nso_sfu. Household losses differ from
    the replayed rates through preparedness, density (stock / 2019-based capacity) and
    household luck.
    """
    from model.model import HerdtrapModel
    from model.streams import run_seed_sequence

    name = check_inputs(data_dir, aimag, start, end)
    census, mort = read_census(data_dir, name), read_mortality(data_dir, name)
    init = initial_stock(census, mort, start)
    params = {} if households is None else {"population.households": int(households)}
    scen = scenario_for(name, start, end, data_dir, params)
    with fitted_region(data_dir, name) as (region, _):
        m = HerdtrapModel(scen, seed=run_seed_sequence(seed, 0), region=region,
                          create_agents=False, panel_rows=None)
        factor = np.divide(init, region.stock_2019[0], out=np.zeros(len(SPECIES)),
                           where=region.stock_2019[0] > 0)
        m.rescale_stock(factor[None, :])
        m.run(end - start - 1)  # the last winter is not a replayed loss year
        ts = m.metrics()
    key = name.lower()
    out = pd.DataFrame({"loss_year": ts["calendar_year"].to_numpy() + 1,
                        "index_sfu": ts[f"mortality_index_{key}"].to_numpy(),
                        "household_sfu": ts[f"mortality_sfu_{key}"].to_numpy()})
    out["nso_sfu"] = mort["sfu"].reindex(out["loss_year"]).to_numpy()
    out["ratio"] = out["household_sfu"] / out["nso_sfu"]
    return out[["loss_year", "nso_sfu", "index_sfu", "household_sfu", "ratio"]]


# ---------------------------------------------------------------- comparison
#: The quiet years after the 2000-2002 dzuds: issue 12 checks the stock's growth there.
RECOVERY_YEARS = (2003, 2009)


def mean_growth(years: pd.DataFrame, span: tuple[int, int] = RECOVERY_YEARS
                ) -> tuple[float, float]:
    """(simulated, census) mean yearly growth of the stock (head, as a rate) over the
    loss years ``span`` of a hindcast's per-year table (:attr:`HindcastResult.years`);
    NaN where the hindcast does not cover them."""
    y = years.loc[span[0]:span[1]]
    return (float((np.exp(y["sim_growth"]) - 1.0).mean()),
            float((np.exp(y["census_growth"]) - 1.0).mean()))


def compare_with_census(runs: pd.DataFrame, census: pd.DataFrame, start: int,
                        end: int) -> tuple[pd.DataFrame, dict[str, Any], pd.DataFrame]:
    """Per-year errors, headline metrics and per-species errors.

    log error_t = log(simulated_t / census_t) with the replicate mean of simulated total
    stock (head); RMSE over years; correlation of annual growth log(x_t / x_{t-1})
    (the first year's growth is from the census of ``start``).
    """
    c_tot = census[list(SPECIES)].sum(axis=1, min_count=1)
    g = runs.groupby("year")["total"]
    years = pd.DataFrame({"sim_mean": g.mean(), "sim_min": g.min(), "sim_max": g.max()})
    years["census"] = c_tot.reindex(years.index)
    years = years.dropna(subset=["census"])
    years["log_error"] = np.log(years["sim_mean"] / years["census"])
    years["rel_error"] = years["sim_mean"] / years["census"] - 1.0
    years["within_tolerance"] = years["rel_error"].abs() <= CLOSE_TOLERANCE
    # the same in sheep units (the offtake rate is fitted on it: docs/VALIDATION.md)
    c_sfu = census[list(SPECIES)].fillna(0.0).to_numpy() @ SFU
    c_sfu = pd.Series(np.where(census[list(SPECIES)].notna().any(axis=1), c_sfu, np.nan),
                      index=census.index)
    years["census_sfu"] = c_sfu.reindex(years.index)
    years["sim_sfu"] = runs.groupby("year")["sfu"].mean().reindex(years.index)
    years["log_error_sfu"] = np.log(years["sim_sfu"] / years["census_sfu"])
    # growth: prepend the start year (simulated = census by construction)
    base = float(c_tot.loc[start])
    sim_series = pd.concat([pd.Series({start: base}), years["sim_mean"]])
    cen_series = pd.concat([pd.Series({start: base}), years["census"]])
    years["sim_growth"] = np.log(sim_series).diff().reindex(years.index)
    years["census_growth"] = np.log(cen_series).diff().reindex(years.index)
    years.index.name = "year"
    err = years["log_error"]
    corr = float(np.corrcoef(years["sim_growth"], years["census_growth"])[0, 1]) \
        if len(years) > 2 else float("nan")
    # collapses: census falls by more than COLLAPSE_DROP in one year; consecutive
    # falling years are grouped into one episode (e.g. 2000-2002).
    drops = years.index[years["census_growth"] < np.log(1 - COLLAPSE_DROP)]
    episodes: list[list[int]] = []
    for y in drops:
        if episodes and y - episodes[-1][-1] <= 1:
            episodes[-1].append(int(y))
        else:
            episodes.append([int(y)])
    collapses = []
    for ep in episodes:
        y0, y1 = ep[0] - 1, ep[-1]
        # extend the episode while the census keeps falling
        while y1 + 1 in years.index and years.loc[y1 + 1, "census_growth"] < 0:
            y1 += 1
        cen = cen_series.loc[y1] / cen_series.loc[y0]
        per_rep = runs.pivot_table(index="year", columns="replicate", values="total")
        per_rep.loc[start] = base
        sim = sim_series.loc[y1] / sim_series.loc[y0]
        # simulated trough: lowest simulated stock within the episode window (+1 year)
        window = [y for y in range(y0, y1 + 2) if y in sim_series.index]
        sim_trough = float(sim_series.loc[window].min() / sim_series.loc[y0])
        rep_falls = per_rep.loc[window].min() / per_rep.loc[y0]
        collapses.append({
            "years": f"{y0}-{y1}",
            "census_change": float(cen - 1.0),
            "sim_change": float(sim - 1.0),
            "sim_trough_change": sim_trough - 1.0,
            "sim_trough_change_min": float(rep_falls.min() - 1.0),
            "sim_trough_change_max": float(rep_falls.max() - 1.0),
            "reproduced": bool(np.log(sim_trough) <= COLLAPSE_REPRODUCED_SHARE * np.log(cen)),
        })
    summary = {
        "years_compared": int(len(years)),
        "rmse_log": float(np.sqrt((err ** 2).mean())),
        "mean_log_error": float(err.mean()),
        "max_abs_log_error": float(err.abs().max()),
        "max_abs_log_error_year": int(err.abs().idxmax()),
        "share_within_tolerance": float(years["within_tolerance"].mean()),
        "rmse_log_sfu": float(np.sqrt((years["log_error_sfu"] ** 2).mean())),
        "mean_log_error_sfu": float(years["log_error_sfu"].mean()),
        "tolerance": CLOSE_TOLERANCE,
        "corr_growth": corr,
        "final_log_error": float(err.iloc[-1]),
        "collapses": collapses,
        "collapses_reproduced": int(sum(c["reproduced"] for c in collapses)),
    }
    sp_rows = []
    for s in SPECIES:
        sim = runs.groupby("year")[s].mean()
        cen = census[s].reindex(sim.index)
        ok = (sim > 0) & (cen > 0)
        le = np.log(sim[ok] / cen[ok])
        sp_rows.append({
            "species": s,
            "rmse_log": float(np.sqrt((le ** 2).mean())) if ok.any() else float("nan"),
            "mean_log_error": float(le.mean()) if ok.any() else float("nan"),
            "census_start": float(census.loc[start, s]),
            "census_end": float(census.loc[end, s]) if end in census.index else float("nan"),
            "sim_end": float(sim.loc[end]) if end in sim.index else float("nan"),
        })
    return years, summary, pd.DataFrame(sp_rows)


def _display(path: Path) -> str:
    """A path relative to the repository's parent folder when possible (stable in reports);
    the shipped NSO copy as ``model/data/nso (shipped with herdtrap)``."""
    from model.region import data_dir_label

    return data_dir_label(path)

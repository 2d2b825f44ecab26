"""Checks of demography, exits and returns (issue 13; docs/VALIDATION.md, section 7).

* **30 years of the status quo** (stochastic winters): mean household size, the share of
  children under 6 and of members 60 and over, the number of herding households, and
  the yearly entries (households founded with animals, returns, and first entries of
  households founded without animals), exits and returns.
  Household size and the share of children under 5 (ages 0-4) are compared with 2019:
  the NSO 2019 soum profiles' children under 5 per person (soum_profile_2019.csv) and a
  household size of about 3.7 (the RIMA-II herder sample, MODEL.md; the 2020 census gives 3.67 for all
  Mongolian households).
* **The 2010 dzud replayed** (observed winters 2006-2016, status-quo policies of each
  year): exits per year, and how many of the households that left in the dzud year
  (the winter 2009/10 and the year after it) are herding again within five years.

Every statistic is a mean over replicates with a 95% t-interval across replicates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.analysis.compare_compute import t_interval
from experiments.analysis.hindcast_compute import census_factor
from model.model import HerdtrapModel
from model.region import default_data_dir, load_region
from model.scenario import load_scenario
from model.streams import run_seed_sequence

#: Household size the model starts from and should keep (±10%): RIMA-II herder
#: households, about 3.7 persons (MODEL.md); census 2020: 3.67 for all households.
HOUSEHOLD_SIZE_2019 = 3.7
TOLERANCE = 0.10
HERDING_TOLERANCE = 0.15


def under5_share_2019(aimags: tuple[str, ...]) -> float:
    """Children under 5 per person in the aimags' soums (NSO soum profiles 2019)."""
    prof = pd.read_csv(default_data_dir() / "soum_profile_2019.csv")
    prof = prof[prof["aimag"].isin(aimags)]
    return float(prof["children_under5"].sum() / prof["population"].sum())


def t_ci(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t interval over the replicates, leaving out NaN (compare_compute.t_interval)."""
    x = np.asarray(x, dtype=float)
    return t_interval(x[~np.isnan(x)])


@dataclass(frozen=True)
class DemographyCheck:
    yearly: pd.DataFrame  # per year: mean over replicates of the demographic columns
    summary: pd.DataFrame  # statistic, start, end, ratio with CI, target, within
    replicates: int


DEMOGRAPHY_COLUMNS = ("households", "herding_households", "household_size", "share_under_5",
                      "share_under_6",
                      "share_60_plus", "persons", "entries", "exits", "returns",
                      "households_formed", "households_dissolved", "persons_born",
                      "persons_died", "persons_outmigrated")


def status_quo_demography(*, replicates: int = 10, years: int = 30, households: int = 2240,
                          root_seed: int = 0, scenario: str = "status_quo",
                          progress=None) -> DemographyCheck:
    sc = load_scenario(scenario).with_overrides(
        years=years, params={"population.households": households})
    runs = []
    for r in range(replicates):
        m = HerdtrapModel(sc, seed=run_seed_sequence(root_seed, r), create_agents=False,
                          panel_rows=None).run()
        df = m.metrics()[["year", "calendar_year", *DEMOGRAPHY_COLUMNS]].copy()
        df["replicate"] = r
        runs.append(df)
        if progress is not None:
            progress(r + 1, replicates)
    all_runs = pd.concat(runs, ignore_index=True)
    yearly = all_runs.groupby(["year", "calendar_year"])[list(DEMOGRAPHY_COLUMNS)].mean()
    u5 = under5_share_2019(sc.aimags)
    rows = []
    first, last = all_runs["year"].min(), all_runs["year"].max()
    for col, target, tol in (("household_size", HOUSEHOLD_SIZE_2019, TOLERANCE),
                             ("share_under_5", u5, TOLERANCE),
                             ("herding_households", None, HERDING_TOLERANCE),
                             ("share_60_plus", None, None)):
        start = all_runs.loc[all_runs["year"] == first, col].to_numpy()
        end = all_runs.loc[all_runs["year"] == last, col].to_numpy()
        ref = target if target is not None else start
        ratio = end / ref
        m, lo, hi = t_ci(ratio)
        rows.append({
            "statistic": col, "start": float(start.mean()), "end": float(end.mean()),
            "reference": float(np.mean(ref)),
            "reference_source": ("2019 (start of the run)" if target is None
                                 else "2019 soum profiles" if col == "share_under_5"
                                 else "RIMA-II herder sample"),
            "end_to_reference": m, "ci_low": lo, "ci_high": hi,
            "tolerance": tol if tol is not None else float("nan"),
            "within": bool(abs(m - 1.0) <= tol) if tol is not None else None,
        })
    return DemographyCheck(yearly.reset_index(), pd.DataFrame(rows), replicates)


@dataclass(frozen=True)
class DzudExits:
    yearly: pd.DataFrame  # calendar year: exits, returns, entries, herding households (CI)
    cohort: dict[str, float]  # households that left in the dzud year, returned within 5 years
    replicates: int
    dzud_year: int


def dzud_exits(*, replicates: int = 10, households: int = 2240, root_seed: int = 0,
               dzud_year: int = 2010, before: int = 4, after: int = 6,
               scenario: str = "status_quo", progress=None) -> DzudExits:
    """Replay the observed winters ``dzud_year - before`` ... ``dzud_year + after``,
    starting from the census herds of ``dzud_year - before - 1`` (rescaled).

    Model year k spans spring to winter of calendar year ``start + k - 1``; the dzud
    winter (NSO loss year ``dzud_year``) is the winter of model year ``dzud_year - 1``.
    Exits are counted by the year in which they happen: those in the dzud winter fall in
    model year ``dzud_year - 1`` (calendar label), those in the spring decision after it
    in ``dzud_year``. The exit cohort of the dzud: households herding before the dzud
    winter and not herding a year later (still living in the region); "returned": herding
    again at the start of any of the five following years.
    """
    start = dzud_year - before
    years = before + after
    sc = load_scenario(scenario).with_overrides(
        years=years, params={"population.households": households})
    sc = dataclasses.replace(sc, start_year=start, regime="replay", replay_years=())
    rows, cohort_n, cohort_back = [], [], []
    dzud_model_year = dzud_year - start  # the model year whose winter is the dzud
    factor = census_factor(load_region(list(sc.aimags)), start - 1)
    for r in range(replicates):
        m = HerdtrapModel(sc, seed=run_seed_sequence(root_seed, r), create_agents=False,
                          panel_rows=None)
        m.rescale_stock(factor)  # herds of the census before the first replayed winter
        left_ids: np.ndarray | None = None
        back: set[int] = set()
        while m.year <= years:
            if m.year == dzud_model_year and m.season == 3:  # before the dzud winter
                herding_before = m.households.hid[m.households.herding].copy()
            m.step()
            hh = m.households
            if m.season == 0 and m.year - 1 == dzud_model_year + 1:  # a year after the dzud
                now = set(hh.hid[hh.herding & hh.alive].tolist())
                alive = set(hh.hid[hh.alive].tolist())
                left_ids = np.array(sorted(set(herding_before.tolist()) - now & alive))
            elif left_ids is not None and m.season == 0 and (
                    m.year - 1 <= dzud_model_year + 1 + 5):
                back |= set(hh.hid[hh.herding & np.isin(hh.hid, left_ids)].tolist())
        df = m.metrics()[["year", "calendar_year", "exits", "returns", "entries",
                          "herding_households", "households"]].copy()
        df["replicate"] = r
        rows.append(df)
        cohort_n.append(0 if left_ids is None else int(left_ids.size))
        cohort_back.append(len(back))
        if progress is not None:
            progress(r + 1, replicates)
    all_runs = pd.concat(rows, ignore_index=True)
    out = []
    for (year, cal), g in all_runs.groupby(["year", "calendar_year"]):
        row = {"year": int(year), "calendar_year": int(cal)}
        for col in ("exits", "returns", "entries", "herding_households"):
            m_, lo, hi = t_ci(g[col].to_numpy())
            row[col] = m_
            row[f"{col}_ci_low"], row[f"{col}_ci_high"] = lo, hi
        out.append(row)
    share = np.divide(cohort_back, np.maximum(cohort_n, 1))
    m_, lo, hi = t_ci(share)
    cohort = {"left": float(np.mean(cohort_n)), "returned_within_5_years": float(np.mean(cohort_back)),
              "share_returned": m_, "ci_low": lo, "ci_high": hi}
    return DzudExits(pd.DataFrame(out), cohort, replicates, dzud_year)


def _fmt(x: float, fmt: str = "{:.2f}") -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else fmt.format(x)


def section(*, replicates: int = 10, seed: int = 0, households: int = 2240,
            progress: bool = True) -> tuple[list[str], dict]:
    """docs/VALIDATION.md section 7: demography, exits and returns."""
    from tqdm.auto import tqdm

    bar = tqdm(total=2 * replicates, desc="demography", unit="run", disable=not progress,
               leave=False)
    tick = lambda *_: bar.update()  # noqa: E731
    demo = status_quo_demography(replicates=replicates, root_seed=seed, households=households,
                                 progress=tick)
    dz = dzud_exits(replicates=replicates, root_seed=seed, households=households,
                    progress=tick)
    bar.close()
    md = [
        "## 7. Demography, exits and returns (issue 13)",
        "",
        f"`experiments/analysis/demography_checks.py`; {replicates} replicates of {households:,} "
        "households; means with 95% t-intervals across replicates.",
        "",
        "### 7.1 Thirty years of the status quo",
        "",
        "End of year 30 against the reference (ratio; the issue asks for household size and "
        "age mix within ±10% of 2019 and herding households within ±15% of the start, or a "
        "documented trend):",
        "",
        "| statistic | year 1 | year 30 | reference | year 30 / reference (95% CI) | within |",
        "|---|---|---|---|---|---|",
    ]
    for r in demo.summary.itertuples():
        tol = "" if np.isnan(r.tolerance) else f"±{r.tolerance:.0%}: {'yes' if r.within else 'no'}"
        md.append(f"| {r.statistic} | {_fmt(r.start, '{:.3f}')} | {_fmt(r.end, '{:.3f}')} | "
                  f"{_fmt(r.reference, '{:.3f}')} ({r.reference_source}) | "
                  f"{_fmt(r.end_to_reference)} ({_fmt(r.ci_low)}–{_fmt(r.ci_high)}) | "
                  f"{tol or 'trend'} |")
    y = demo.yearly
    md += [
        "",
        "The share of members aged 60 and over roughly doubles over 30 years: young people "
        "migrate out and the initial population ages (the model's fertility, mortality and "
        "migration are constant at their 2019-2020 levels). This is a documented trend, not "
        "a fitted target: NSO projects Mongolia's share aged 60+ to rise from 9.8% (2024) to "
        "19% by 2050 (NSO, 1 October 2024, via IANS: menafn.com/1108733890), and UN World Population "
        "Prospects (2012 revision) to nearly 20% by 2050 (UNESCAP, Ageing in Asia: unescap.org/ageing-asia/did-you-know/375).",
        "",
        "Entries (households founded with animals, returns, and households founded "
        "without animals that take up herding), exits and returns per year "
        "(means over replicates):",
        "",
        "| year | calendar | households | herding | entries | exits | returns | founded | "
        "dissolved | born | died | out-migrated |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in y.itertuples():
        if r.year in (1, 2, 3, 5, 10, 15, 20, 25, 30):
            md.append(f"| {r.year} | {r.calendar_year} | {r.households:.0f} | "
                      f"{r.herding_households:.0f} | {r.entries:.1f} | {r.exits:.1f} | "
                      f"{r.returns:.1f} | {r.households_formed:.1f} | "
                      f"{r.households_dissolved:.1f} | {r.persons_born:.0f} | "
                      f"{r.persons_died:.0f} | {r.persons_outmigrated:.0f} |")
    t = dz.yearly
    md += [
        "",
        f"### 7.2 Exits and returns around the {dz.dzud_year} dzud",
        "",
        f"Observed winters replayed from {int(t['calendar_year'].min())}, status-quo policies "
        "of each year, herds rescaled to the census of the year before. The dzud winter "
        f"(NSO loss year {dz.dzud_year}) falls in the model year labelled "
        f"{dz.dzud_year - 1} (spring {dz.dzud_year - 1} to winter {dz.dzud_year - 1}/"
        f"{str(dz.dzud_year)[-2:]}); the spring decision after it in {dz.dzud_year}.",
        "",
        "| calendar year | exits (95% CI) | returns (95% CI) | entries | herding households |",
        "|---|---|---|---|---|",
    ]
    for r in t.itertuples():
        md.append(f"| {r.calendar_year} | {r.exits:.1f} ({_fmt(r.exits_ci_low, '{:.1f}')}–"
                  f"{_fmt(r.exits_ci_high, '{:.1f}')}) | {r.returns:.1f} "
                  f"({_fmt(r.returns_ci_low, '{:.1f}')}–{_fmt(r.returns_ci_high, '{:.1f}')}) | "
                  f"{r.entries:.1f} | {r.herding_households:.0f} |")
    c = dz.cohort
    calm = t[t["calendar_year"] < dz.dzud_year - 1]["exits"].mean()
    peak = t[t["calendar_year"].isin([dz.dzud_year - 1, dz.dzud_year])]["exits"].max()
    md += [
        "",
        f"Exits in the dzud's years peak at {peak:.1f} a year against {calm:.1f} in the "
        f"years before. Of the {c['left']:.1f} households (mean per replicate) that were herding "
        "before the dzud winter and were not a year later, "
        f"{c['returned_within_5_years']:.1f} herded again within five years "
        f"(share {_fmt(c['share_returned'], '{:.1%}')}, 95% CI "
        f"{_fmt(c['ci_low'], '{:.1%}')}–{_fmt(c['ci_high'], '{:.1%}')}).",
        "",
    ]
    return md, {"demography": demo, "dzud": dz}

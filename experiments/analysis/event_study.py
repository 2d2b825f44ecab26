"""Event study of index insurance around a replayed dzud (issue 12; docs/VALIDATION.md).

The observed winters from ``dzud_year − 1`` on are replayed twice with the same seeds
(common random numbers): once under ``scenarios/insurance.toml`` with the insurance sold
from the first simulated year (the scenario dates it from 2012 in Zavkhan and Khuvsgul;
the event study asks what the product does around a dzud, as in the IBLI pilot aimags
of 2006-2009), once under the same scenario without the insurance policy: the other
policies of the scenario (the status quo's Child Money and social insurance, with their
dated history) run in both. The households that held cover for the dzud winter are compared with
the same households (household ids) in the run without insurance:

* herd (SFU) at the end of each year from the dzud to ``years_after`` years after it;
* distress sales (kMNT) in the dzud winter and the spring after it;
* where the herd difference comes from, year by year: the difference in births, winter
  deaths, offtake (sales and slaughter), purchases and other transfers (animals given to
  or inherited from other households, restocking) of the same households, in SFU, and
  each arm's herd relative to its desired herd (docs/ODD.md 7.6).

Households live through time (model/processes/demography.py): demography is the same in
both runs of a replicate, so every insured household has the same id, slot, members and
fate in both. An insured household's herd in a later year is that household's own herd;
a household that dissolved before a year-end drops out of that year's comparison (its
estate went to the household founded from it), and households founded after the dzud
are not compared. When the household gives a share of its herd to a child's new
household, that share leaves its herd in both runs alike.

Bertram-Hümmer & Kraehnert (2018, AJAE 100(3)) found that IBLI payouts after the 2009/10
dzud left insured Mongolian herders with larger herds one to three years later, an
effect gone by year four. Differences are means over the insured households of a
replicate; the 95% CI is a t-interval over replicates.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from experiments.analysis.compare_compute import t_interval
from model.model import HerdtrapModel
from model.scenario import load_scenario
from model.species import SFU
from model.streams import run_seed_sequence


@dataclass(frozen=True)
class EventStudy:
    table: pd.DataFrame  # per event year: mean difference, CI, relative difference,
    #                       insured households still living in the region (mean per replicate)
    distress: dict[str, float]  # winter + spring distress sales: insured vs baseline
    insured: float  # mean number of insured households per replicate
    replicates: int
    households: int
    dzud_year: int


#: the yearly flows (SFU) the herd difference is split into: name -> flow keys (sign)
COMPONENTS = {"births": (("births", 1),), "deaths": (("deaths", -1),),
              "offtake": (("sales", -1), ("slaughter", -1)), "purchases": (("bought", 1),),
              "other": (("split", 1), ("estate", 1), ("received", 1))}


def _flows(m: HerdtrapModel) -> pd.DataFrame:
    """The year's herd flows (SFU, signed as they change the herd) and the herd relative to
    the desired herd, by household id, of the households living in the region."""
    hh, fl = m.households, m.last_year["flows"]
    live = hh.alive
    cols = {name: sum(sign * (fl[k][:hh.n] @ SFU) for k, sign in keys)[live]
            for name, keys in COMPONENTS.items()}
    cols["to_desired"] = np.divide(hh.herd_sfu, hh.target_sfu, out=np.ones(hh.n),
                                   where=hh.target_sfu > 0)[live]
    return pd.DataFrame(cols, index=hh.hid[live])


def _run(sc, seed, dzud_index: int) -> tuple[HerdtrapModel, np.ndarray, list[pd.Series],
                                             pd.Series, list[pd.DataFrame]]:
    """Run to the end; return the model, the ids of the households with cover for the
    dzud winter, the herds (SFU) at each year end (one Series per year indexed by
    household id, the households living in the region then), the distress sales in
    the dzud winter and the spring after it of the households living in the region in
    that winter (indexed by id) and each year's herd flows (:func:`_flows`)."""
    m = HerdtrapModel(sc, seed=seed, create_agents=False, panel_rows=None)
    herds, insured, distress, flows = [], None, None, []
    for year in range(1, sc.years + 1):
        for season in range(4):
            if year == dzud_index and season == 3:
                hh = m.households
                live = hh.alive.copy()
                winter_hid = hh.hid[live]
                insured = winter_hid[(hh.insured.sum(axis=1) > 0)[live]]
                before = m.flows_money["distress_sales"].copy()
            m.step()
            if year == dzud_index and season == 3:
                winter = m.last_year["money"]["distress_sales"] - before
            if year == dzud_index + 1 and season == 0:
                # The table may have grown in spring (new slots at its end); a slot keeps
                # its household for life, and a slot freed this spring is not reused in it.
                spring = m.flows_money["distress_sales"][:winter.size]
                distress = pd.Series((winter + spring)[live], index=winter_hid)
        hh = m.households
        herds.append(pd.Series(hh.herd_sfu[hh.alive], index=hh.hid[hh.alive]))
        flows.append(_flows(m))
    return m, insured, herds, distress, flows


def gap_closes(table: pd.DataFrame) -> bool:
    """Whether the herd difference of an event study's ``table`` has closed by year 5: below
    half its peak of years 1-3 (Bertram-Huemmer & Kraehnert 2018 found no difference by
    year 4)."""
    t = table.set_index("years_after_dzud")["herd_difference_sfu"]
    return bool(t.loc[5] < 0.5 * t.loc[[1, 2, 3]].max())


def insurance_event_study(*, replicates: int = 20, households: int = 2240, root_seed: int = 0,
                          dzud_year: int = 2010, years_after: int = 5,
                          scenario: str = "insurance",
                          levers: dict[str, Any] | None = None) -> EventStudy:
    """The event study of the module docstring; ``levers`` overrides the insurance
    policy's levers in the insured arm (e.g. ``{"loss_memory_offset": 0.0}``)."""
    if years_after < 1 or replicates < 2:
        raise ValueError("the event study needs years_after >= 1 and at least 2 replicates")
    sc = load_scenario(scenario)
    start = dzud_year - 2  # year 1 ends with the winter before the dzud (loss year dzud − 1)
    years = 2 + years_after
    if "insurance" not in sc.policies:
        raise ValueError(f"scenario {scenario!r} has no insurance policy")
    policies = {**sc.policies, "insurance": {**sc.policies["insurance"], **(levers or {}),
                                             "start_year": start}}
    sc = dataclasses.replace(sc.with_overrides(years=years,
                                               params={"population.households": households}),
                             start_year=start, regime="replay", replay_years=(),
                             policies=policies)
    base = dataclasses.replace(sc, policies={k: v for k, v in policies.items() if k != "insurance"},
                               name=f"{sc.name} without insurance")
    diffs = np.zeros((replicates, years_after + 1))
    rel = np.zeros_like(diffs)
    n_followed = np.zeros_like(diffs)
    parts = {c: np.full_like(diffs, np.nan) for c in (*COMPONENTS, "to_desired_insured",
                                                      "to_desired_without")}
    d_ins, d_base, n_ins = [], [], []
    for r in range(replicates):
        seed = run_seed_sequence(root_seed, r)
        _, insured, h_ins, ds_ins, f_ins = _run(sc, seed, 2)
        _, _, h_base, ds_base, f_base = _run(base, run_seed_sequence(root_seed, r), 2)
        n_ins.append(int(insured.size))
        if not insured.size:
            diffs[r] = rel[r] = np.nan
            continue
        for k in range(years_after + 1):  # year ends from the dzud on
            a, b = h_ins[1 + k], h_base[1 + k]
            # the insured households still living in the region (same in both runs)
            ids = insured[np.isin(insured, a.index) & np.isin(insured, b.index)]
            x, y = a.loc[ids].to_numpy(), b.loc[ids].to_numpy()
            diffs[r, k] = (x - y).mean() if ids.size else np.nan
            rel[r, k] = x.sum() / max(y.sum(), 1e-9) - 1.0 if ids.size else np.nan
            n_followed[r, k] = ids.size
            if ids.size:
                fa, fb = f_ins[1 + k].loc[ids], f_base[1 + k].loc[ids]
                for c in COMPONENTS:
                    parts[c][r, k] = float((fa[c] - fb[c]).mean())
                parts["to_desired_insured"][r, k] = float(fa["to_desired"].mean())
                parts["to_desired_without"][r, k] = float(fb["to_desired"].mean())
        d_ins.append(float(ds_ins.loc[insured].mean()))
        d_base.append(float(ds_base.loc[insured].mean()))
    ok = ~np.isnan(diffs[:, 0])
    rows = []
    for k in range(years_after + 1):
        m, lo, hi = t_interval(diffs[ok, k][np.isfinite(diffs[ok, k])])
        rm, rlo, rhi = t_interval(rel[ok, k][np.isfinite(rel[ok, k])])
        rows.append({"years_after_dzud": k, "calendar_year": dzud_year + k,
                     "herd_difference_sfu": m, "ci_low": lo, "ci_high": hi,
                     "relative_difference": rm, "relative_ci_low": rlo,
                     "relative_ci_high": rhi,
                     "insured_followed": float(n_followed[ok, k].mean()),
                     # the year's flows, insured − without (SFU per insured household),
                     # and the herd relative to the desired herd in each arm
                     **{c: float(np.nanmean(v[ok, k])) for c, v in parts.items()}})
    dm, dlo, dhi = t_interval(np.asarray(d_ins) - np.asarray(d_base))
    distress = {"insured": float(np.mean(d_ins)), "baseline": float(np.mean(d_base)),
                "difference": dm, "ci_low": dlo, "ci_high": dhi}
    return EventStudy(pd.DataFrame(rows), distress, float(np.mean(n_ins)), int(ok.sum()),
                      households, dzud_year)

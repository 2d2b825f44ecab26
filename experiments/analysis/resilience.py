"""A RIMA-II-style resilience capacity index on simulated households, and its test.

FAO's RIMA-II (FAO 2016, "RIMA-II: Resilience Index Measurement and Analysis II")
measures a household's resilience capacity in two stages: (1) each of four
pillars is a latent variable estimated by factor analysis of observed household
variables; (2) the Resilience Capacity Index (RCI) combines the pillars through
a MIMIC model whose outcome indicators are food-security measures. The UN Joint
Programme used it on 2,240 herder households in Zavkhan and Khuvsgul (2020).

Here, on the model's household table:

=====  ==============================  =============================================
pillar meaning                          variables (all per household, at measurement)
=====  ==============================  =============================================
ABS    access to basic services         soum-level proxies only (the model has no
                                        distances): log soum population; soum
                                        population per herder household (size of
                                        the soum centre relative to herders)
AST    assets                           log(1 + herd SFU per person); log(1 + cash
                                        per person); minus debt / (herd value + cash)
SSN    social safety nets               transfers + insurance payouts per person
                                        this year; insured share of the herd (SFU);
                                        pensions per person
AC     adaptive capacity                adults / members; Simpson diversity of the
                                        herd's species (SFU shares); off-farm share
                                        of income; winter preparedness bought
=====  ==============================  =============================================

Stage 1: ``sklearn.decomposition.FactorAnalysis`` with one factor on the
standardised variables of each pillar (variables without variation are dropped;
the factor's sign is set so that its loadings sum to a positive number). Stage 2,
a documented simplification of RIMA-II's MIMIC model: pillar weights are the
pillars' correlations with the outcome indicator (log consumption per person
over the year so far), normalised to sum to 1 in absolute value; the RCI is
rescaled to 0-100 as in RIMA-II reports.

The test (:func:`recovery_test`): households measured in the autumn before a
big dzud (historical replay; by default the winter 2009/10, NSO loss year 2010);
"recovered" = still herding and herd (SFU) back to at least its pre-dzud level at
an autumn count within ``k`` years. Logistic regression of recovery on the
standardised RCI (odds ratio per SD with 95% CI, standard errors clustered by
soum x replicate), also adjusted for the household's own dzud loss, and a linear
probability model. Validation is allowed to run the model (it writes a report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model.household import income_index
from model.species import SFU

PILLARS: dict[str, dict[str, str]] = {
    "ABS": {
        "abs_log_soum_population": "log soum population (2019)",
        "abs_population_per_herder_hh": "soum population per herder household (2019)",
    },
    "AST": {
        "ast_log_herd_pc": "log(1 + herd SFU per person)",
        "ast_log_cash_pc": "log(1 + cash per person, kMNT)",
        "ast_neg_leverage": "-debt / (herd value + cash)",
    },
    "SSN": {
        "ssn_transfers_pc": "transfers + insurance payouts per person this year (kMNT)",
        "ssn_insured_share": "insured share of the herd (SFU)",
        "ssn_pension_pc": "pensions per person this year (kMNT)",
    },
    "AC": {
        "ac_adult_share": "adults / household members",
        "ac_species_diversity": "Simpson diversity of species (SFU shares)",
        "ac_offfarm_share": "off-farm share of income this year",
        "ac_preparedness": "winter preparedness bought this autumn (0-1)",
    },
}
OUTCOME = "log_consumption_pc"
#: Dzud used by default: winter 2009/10 (NSO loss year 2010), the worst in both aimags.
DZUD_LOSS_YEAR = 2010
RECOVERY_YEARS = 4


def indicators(model) -> pd.DataFrame:
    """Pillar variables and the outcome indicator for every household living in the
    region now (``household`` = its slot, ``hid`` = its id; empty slots are left out)."""
    hh = model.households
    reg = model.region
    persons = np.maximum(hh.persons, 1).astype(float)
    herd_sfu = hh.herd_sfu
    value = (hh.herd * model.prices()).sum(axis=1)
    inc = hh.income_year
    total_inc = np.maximum(inc.sum(axis=1), 1e-9)
    sfu_sp = hh.herd * SFU
    shares = np.divide(sfu_sp, herd_sfu[:, None], out=np.zeros_like(sfu_sp, dtype=float),
                       where=herd_sfu[:, None] > 0)
    insured_sfu = hh.insured @ SFU
    soum_pop = reg.soum_population[hh.soum]
    soum_hh = np.maximum(reg.soum_herder_households[hh.soum], 1.0)
    df = pd.DataFrame({
        "household": np.arange(hh.n),
        "hid": hh.hid,
        "soum": hh.soum,
        "aimag": np.array(reg.aimags)[hh.aimag],
        "herding": hh.herding,
        "herd_sfu": herd_sfu,
        "persons": persons,
        "abs_log_soum_population": np.log(np.maximum(soum_pop, 1.0)),
        "abs_population_per_herder_hh": soum_pop / soum_hh,
        "ast_log_herd_pc": np.log1p(herd_sfu / persons),
        "ast_log_cash_pc": np.log1p(np.maximum(hh.cash, 0.0) / persons),
        "ast_neg_leverage": -hh.debt / np.maximum(value + np.maximum(hh.cash, 0.0), 1.0),
        "ssn_transfers_pc": (inc[:, income_index("transfers")]
                             + inc[:, income_index("insurance")]) / persons,
        "ssn_insured_share": np.divide(insured_sfu, herd_sfu, out=np.zeros(hh.n),
                                       where=herd_sfu > 0),
        "ssn_pension_pc": inc[:, income_index("pension")] / persons,
        "ac_adult_share": hh.adults / persons,
        "ac_species_diversity": 1.0 - (shares ** 2).sum(axis=1),
        "ac_offfarm_share": inc[:, income_index("offfarm")] / total_inc,
        "ac_preparedness": hh.prep,
        OUTCOME: np.log1p(hh.consumption_year / persons),
    })
    return df[hh.alive].reset_index(drop=True)


@dataclass
class RimaIndex:
    """Fitted RIMA-II-style index: loadings per pillar, pillar weights, scores."""

    loadings: pd.DataFrame  # pillar, variable, loading, used
    weights: dict[str, float]  # pillar -> weight in the RCI
    scores: pd.DataFrame  # pillars + RCI (0-100) + rci_z (standardised)
    dropped: list[str] = field(default_factory=list)


def fit_index(df: pd.DataFrame, seed: int = 0) -> RimaIndex:
    """Stage 1 factor analysis per pillar, stage 2 outcome-correlation weights."""
    from sklearn.decomposition import FactorAnalysis

    scores = pd.DataFrame(index=df.index)
    rows, dropped = [], []
    for pillar, variables in PILLARS.items():
        x = df[list(variables)].to_numpy(dtype=float)
        sd = x.std(axis=0)
        use = sd > 1e-12
        for v, u in zip(variables, use, strict=True):
            if not u:
                rows.append({"pillar": pillar, "variable": v, "loading": np.nan, "used": False})
        if not use.any():
            dropped.append(pillar)
            continue
        xs = (x[:, use] - x[:, use].mean(axis=0)) / sd[use]
        if use.sum() == 1:
            f, load = xs[:, 0], np.array([1.0])
        else:
            fa = FactorAnalysis(n_components=1, random_state=seed).fit(xs)
            f, load = fa.transform(xs)[:, 0], fa.components_[0]
            if load.sum() < 0:
                f, load = -f, -load
        scores[pillar] = (f - f.mean()) / (f.std() or 1.0)
        for v, ld in zip([v for v, u in zip(variables, use, strict=True) if u], load,
                         strict=True):
            rows.append({"pillar": pillar, "variable": v, "loading": float(ld), "used": True})
    y = df[OUTCOME].to_numpy(dtype=float)
    corr = {p: float(np.corrcoef(scores[p], y)[0, 1]) for p in scores.columns}
    norm = sum(abs(c) for c in corr.values()) or 1.0
    weights = {p: c / norm for p, c in corr.items()}
    rci = sum(weights[p] * scores[p] for p in weights)
    scores["rci_z"] = (rci - rci.mean()) / (rci.std() or 1.0)
    scores["RCI"] = 100 * (rci - rci.min()) / ((rci.max() - rci.min()) or 1.0)
    return RimaIndex(loadings=pd.DataFrame(rows), weights=weights, scores=scores,
                     dropped=dropped)


def dzud_panel(*, replicates: int = 4, seed: int = 0, households: int | None = None,
               aimags: tuple[str, ...] = ("Zavkhan", "Khuvsgul"),
               dzud_loss_year: int = DZUD_LOSS_YEAR, horizon: int = 5,
               progress: bool = False) -> pd.DataFrame:
    """Run historical replays around a dzud; one row per household and replicate.

    Simulated year 1 starts in spring ``dzud_loss_year - 2`` (a warm-up year), the dzud
    is the winter of year 2. Indicators are measured after the autumn of year 2 (before
    the dzud), for the households living in the region then; ``herd_sfu_k`` is the same
    household's (same id) autumn herd k years later (k = 1 … horizon), 0 after exit, NaN
    once it has dissolved (households founded after the measurement are not in the panel).
    """
    from tqdm.auto import tqdm

    from model.model import HerdtrapModel
    from model.scenario import build_scenario
    from model.streams import run_seed_sequence

    first = dzud_loss_year - 2
    years = 2 + horizon
    params = {} if households is None else {"population.households": int(households)}
    scen = build_scenario(
        name=f"rima-dzud-{dzud_loss_year}",
        run={"years": years, "aimags": list(aimags), "start_year": first},
        climate={"regime": "replay", "replay_years": list(range(first + 1, first + years))},
        parameters=params,
    )
    frames = []
    for r in tqdm(range(replicates), desc="RIMA-II dzud runs", unit="run",
                  disable=not progress, leave=False):
        m = HerdtrapModel(scen, seed=run_seed_sequence(seed, r), create_agents=False,
                          panel_rows=None)
        autumn_herd = []
        for y in range(1, years + 1):
            for _ in range(3):
                m.step()
            if y == 2:
                base = indicators(m)
            hh = m.households
            autumn_herd.append(pd.Series(np.where(hh.herding, hh.herd_sfu, 0.0)[hh.alive],
                                         index=hh.hid[hh.alive]))
            if y < years:
                m.step()
            if y == 2:  # the winter changes no slot: the rows of the autumn table
                base["dzud_loss"] = m.households.last_winter_loss[base["household"].to_numpy()]
        for k in range(1, horizon + 1):
            base[f"herd_sfu_{k}"] = autumn_herd[1 + k].reindex(base["hid"].to_numpy()).to_numpy()
        base["replicate"] = r
        frames.append(base)
    df = pd.concat(frames, ignore_index=True)
    return df


def recovery_test(df: pd.DataFrame, index: RimaIndex, k: int = RECOVERY_YEARS,
                  min_loss: float = 0.0) -> dict[str, Any]:
    """Does the RCI measured before the dzud predict recovery within ``k`` years?

    Sample: households herding before the dzud with a positive herd and own loss >=
    ``min_loss``, still living in the region at the k-th autumn count or recovered
    before they dissolved (a household that dissolved before recovering is censored
    and left out). Returns odds ratios per SD of the RCI (unadjusted and adjusted for the
    own dzud loss), the linear-probability coefficient, recovery rates by RCI quintile.
    """
    import statsmodels.api as sm

    d = df.join(index.scores)
    d = d[d["herding"] & (d["herd_sfu"] > 0) & (d["dzud_loss"] >= min_loss)].copy()
    later = d[[f"herd_sfu_{j}" for j in range(1, k + 1)]].to_numpy()
    recovered = (later >= d["herd_sfu"].to_numpy()[:, None]).any(axis=1)
    d = d[recovered | np.isfinite(later[:, -1])].copy()
    d["recovered"] = recovered[recovered | np.isfinite(later[:, -1])].astype(int)
    groups = pd.factorize(d["soum"].astype(str) + "-" + d["replicate"].astype(str))[0]
    out: dict[str, Any] = {"k": k, "n": int(len(d)), "recovery_rate": float(d["recovered"].mean()),
                           "min_loss": min_loss, "mean_dzud_loss": float(d["dzud_loss"].mean())}

    def fit(cols: list[str], model: str) -> Any:
        x = sm.add_constant(d[cols].to_numpy(dtype=float))
        y = d["recovered"].to_numpy()
        kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups}}
        if model == "logit":
            return sm.Logit(y, x).fit(disp=0, **kw)
        return sm.OLS(y, x).fit(**kw)

    for name, cols in (("unadjusted", ["rci_z"]), ("adjusted_for_loss", ["rci_z", "dzud_loss"])):
        try:
            res = fit(cols, "logit")
            lo, hi = res.conf_int()[1]
            out[f"logit_{name}"] = {"coef": float(res.params[1]), "odds_ratio": float(np.exp(res.params[1])),
                                    "or_lo": float(np.exp(lo)), "or_hi": float(np.exp(hi)),
                                    "p": float(res.pvalues[1])}
        except Exception as exc:  # noqa: BLE001 - perfect separation etc.: report, not crash
            out[f"logit_{name}"] = {"error": str(exc)}
    res = fit(["rci_z"], "ols")
    lo, hi = res.conf_int()[1]
    out["lpm"] = {"coef": float(res.params[1]), "lo": float(lo), "hi": float(hi),
                  "p": float(res.pvalues[1])}
    # pillars one by one (standardised), unadjusted logit odds ratios
    pill = {}
    for p in index.weights:
        try:
            res = fit([p], "logit")
            lo, hi = res.conf_int()[1]
            pill[p] = {"odds_ratio": float(np.exp(res.params[1])), "or_lo": float(np.exp(lo)),
                       "or_hi": float(np.exp(hi))}
        except Exception as exc:  # noqa: BLE001
            pill[p] = {"error": str(exc)}
    out["pillars"] = pill
    q = pd.qcut(d["RCI"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
    out["by_quintile"] = {int(k_): float(v) for k_, v in d.groupby(q, observed=True)["recovered"].mean().items()}
    return out


@dataclass
class RimaResult:
    index: RimaIndex
    tests: dict[int, dict[str, Any]]  # k -> recovery_test output
    panel: pd.DataFrame
    settings: dict[str, Any]


def run_rima(*, replicates: int = 4, seed: int = 0, households: int | None = None,
             dzud_loss_year: int = DZUD_LOSS_YEAR, ks: tuple[int, ...] = (3, 4, 5),
             progress: bool = False) -> RimaResult:
    """Replay runs around the dzud, fit the index on pre-dzud herding households, test it."""
    panel = dzud_panel(replicates=replicates, seed=seed, households=households,
                       dzud_loss_year=dzud_loss_year, horizon=max(ks), progress=progress)
    sample = panel[panel["herding"] & (panel["herd_sfu"] > 0)]
    index = fit_index(sample, seed=seed)
    tests = {k: recovery_test(sample, index, k=k) for k in ks}
    return RimaResult(index=index, tests=tests, panel=panel,
                      settings={"replicates": replicates, "seed": seed,
                                "dzud_loss_year": dzud_loss_year, "households": households})

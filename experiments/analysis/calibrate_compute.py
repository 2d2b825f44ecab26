"""The fitting part of `herdtrap calibrate`: per-aimag region files from the NSO tables
(dzud generator, persistence of winters, stock, soums, herd-size classes, prices), and
the simulation of winters the calibration report checks them with. The command is
:mod:`experiments.analysis.calibrate` (its docstring describes the files); the report
(docs/CALIBRATION.md) :mod:`experiments.report.calibrate_render`.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.region import (
    HERD_CLASS_LABELS,
    REPO_ROOT,
    SEASONS,
)
from model.species import NSO_MORTALITY_COLUMNS, NSO_POPULATION_NAMES, SPECIES

DEFAULT_AIMAGS = ["Zavkhan", "Khuvsgul"]
FORMAT_VERSION = 1
#: How the region files name this script and command. model/data/regions/*.json are
#: compared byte for byte with a fresh calibration (tests): update these two and the
#: JSON files together.
JSON_SCRIPT_PATH = "experiments/analysis/calibrate.py"
JSON_GENERATED_BY = "herdtrap calibrate"

F_MORT = "mortality_rates_aimag.csv"
F_POP = "livestock_population_aimag_species.csv"
F_SOUM = "soum_profile_2019.csv"
F_CLASS = "herd_size_classes_aimag_2019.csv"
F_PRICE = "livestock_prices_soum_monthly_2021.csv"
REQUIRED = (F_MORT, F_POP)

FIT_YEARS = (1992, 2024)
STOCK_YEAR = 2019
RATE_CLIP = (1e-4, 0.95)
SD_FLOOR = 0.25  # logit units, floor on both mixture components' sd
ALPHA_RANGE = (1.05, 5.0)  # sane range for the top-class Pareto shape
TOP_X_MIN = 200.0
SEASON_MONTHS = {"spring": (3, 4, 5), "summer": (6, 7, 8), "autumn": (9, 10, 11),
                 "winter": (12, 1, 2)}
# [est] cattle price relative to horse price (NSO price table has no cattle).
CATTLE_HORSE_RATIO = 0.95
CATTLE_HORSE_RANGE = (0.75, 1.15)
# [est] camel price when no soum in the file reports one (MODEL.md-style range).
CAMEL_PRICE_EST = 1200.0
CAMEL_PRICE_RANGE = (700.0, 1800.0)
# Fallbacks for soum/household figures when no soum rows exist for an aimag.
HH_PER_HEAD_EST = 1 / 400.0  # [est] herder households per head of livestock
# [est] pseudo-soums of an aimag without soum rows when no soum profile gives a count
# (Mongolia's 21 aimags have 330 soums, about 16 each; Zavkhan and Khuvsgul 24).
PSEUDO_SOUMS_EST = 16

# Calibration check: tolerances (also used by tests/model/test_climate.py)
TOL_MEDIAN = 0.010
TOL_P90 = 0.040
TOL_SHARE10 = 0.040
REPORT_SEED = 20240501
REPORT_YEARS = 20_000


# ---------------------------------------------------------------- helpers
def sig(x: float, digits: int = 6) -> float:
    return float(f"{float(x):.{digits}g}")


def rounded(obj: Any) -> Any:
    """Round floats recursively (6 significant digits) so output is stable."""
    if isinstance(obj, dict):
        return {str(k): rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [rounded(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if not np.isfinite(x):
            return None
        return sig(x)
    return obj


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, *RATE_CLIP)
    return np.log(p / (1 - p))


class DataError(Exception):
    """Input problem reported to the user as one line."""


@dataclass
class Inputs:
    data_dir: Path
    hashes: dict[str, str] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame | None] = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame | None:
        if name not in self.frames:
            path = self.data_dir / name
            if path.is_file():
                raw = path.read_bytes()
                self.hashes[name] = hashlib.sha256(raw).hexdigest()
                self.frames[name] = pd.read_csv(path)
            else:
                self.frames[name] = None
        return self.frames[name]


def _match(names: pd.Series, aimag: str) -> pd.Series:
    return names.astype(str).str.strip().str.lower() == aimag.strip().lower()


# ---------------------------------------------------------------- blocks
def fit_stock(inp: Inputs, aimag: str, notes: list[str]) -> dict[str, Any]:
    pop = inp.get(F_POP)
    rows = pop[_match(pop["Aimag"], aimag)]
    year = STOCK_YEAR
    if not (rows["Year"] == year).any():
        year = int(rows.loc[rows["Year"] <= STOCK_YEAR, "Year"].max()
                   if (rows["Year"] <= STOCK_YEAR).any() else rows["Year"].max())
        notes.append(f"stock: no {STOCK_YEAR} census rows; used year {year}")
    r = rows[rows["Year"] == year]
    head = {}
    for s in SPECIES:
        v = r.loc[r["Species"] == NSO_POPULATION_NAMES[s], "Thousand_head"]
        if v.empty or not np.isfinite(v.iloc[0]):
            notes.append(f"stock: no {s} count in {year}; set to 0")
            head[s] = 0.0
        else:
            head[s] = float(v.iloc[0]) * 1000.0
    return {
        "head": head,
        "year": year,
        "unit": "head (year-end census)",
        "source": f"NSO {F_POP}, year {year}, Thousand_head x 1000",
    }


def fit_soums(inp: Inputs, aimag: str, stock_total: float, notes: list[str]) -> dict[str, Any]:
    prof = inp.get(F_SOUM)
    rows = (prof[_match(prof["aimag"], aimag)] if prof is not None
            else pd.DataFrame(columns=["soum_code"]))
    out, dropped = [], []
    for r in rows.sort_values("soum_code").itertuples(index=False):
        hh = r.herder_households
        if not (isinstance(hh, (int, float, np.integer, np.floating)) and np.isfinite(hh)
                and hh > 0):
            dropped.append(f"{r.soum} ({int(r.soum_code)})")
            continue
        head = float(r.livestock_thousand_head) * 1000.0
        out.append({
            "code": int(r.soum_code),
            "name": str(r.soum),
            "herder_households": int(round(float(hh))),
            "livestock_head": head if np.isfinite(head) else 0.0,
            "children_under5": int(r.children_under5) if np.isfinite(r.children_under5) else 0,
            "population": int(r.population) if np.isfinite(r.population) else 0,
        })
    if dropped:
        notes.append("soums: dropped (no herder households in the 2019 soum profile): "
                     + ", ".join(dropped))
    source = f"NSO {F_SOUM} (2019); livestock_thousand_head x 1000"
    if not out:
        # Pseudo-soums for the whole aimag, scaled from pooled ratios of the soums on file.
        if prof is not None and len(prof.dropna(subset=["herder_households"])):
            ok = prof.dropna(subset=["herder_households", "livestock_thousand_head"])
            ok = ok[ok["herder_households"] > 0]
            hh_per_head = ok["herder_households"].sum() / (ok["livestock_thousand_head"].sum()
                                                           * 1000.0)
            ch_per_hh = ok["children_under5"].sum() / ok["herder_households"].sum()
            pop_per_hh = ok["population"].sum() / ok["herder_households"].sum()
            how = "pooled ratios of all soums in the soum profile"
        else:
            hh_per_head, ch_per_hh, pop_per_hh = HH_PER_HEAD_EST, 0.8, 7.0
            how = "[est] ratios (no soum profile available)"
        # Equal pseudo-soums, as many as a typical aimag of the profile has soums, so
        # that soum noise averages out over the aimag as it does in a real one.
        k = PSEUDO_SOUMS_EST
        if prof is not None and len(prof):
            k = int(round(float(prof.groupby("aimag").size().median())))
        hh = stock_total * hh_per_head

        def split(total: float) -> list[int]:
            base = np.full(k, int(round(total)) // k)
            base[: int(round(total)) - int(base.sum())] += 1
            return [int(v) for v in base]

        for j, (n_hh, n_ch, n_pop) in enumerate(zip(
                split(hh), split(hh * ch_per_hh), split(hh * pop_per_hh), strict=True)):
            out.append({
                "code": -(j + 1),
                "name": f"{aimag} (pseudo-soum {j + 1} of {k})",
                "herder_households": n_hh,
                "livestock_head": stock_total / k,
                "children_under5": n_ch,
                "population": n_pop,
            })
        notes.append(f"soums: no soum rows for {aimag}; {k} equal pseudo-soums sharing the "
                     f"aimag's 2019 stock, households/children/population from {how}")
        source += f"; fallback: {k} equal pseudo-soums ({how})"
    return {"rows": out, "dropped": dropped, "source": source}


def top_class_draw_mean(alpha: float, x_min: int, cap: int) -> float:
    """Expected head of a top-class draw of model.population.draw_herd_sizes.

    A draw is min(floor(X), cap) with X ~ Pareto(x_min, alpha), so its mean is
    sum_{k=1..cap} P(X >= k) = x_min + sum_{k=x_min+1..cap} (x_min / k)^alpha.
    """
    k = np.arange(x_min + 1, cap + 1, dtype=float)
    return float(x_min + np.sum((x_min / k) ** alpha))


def fit_herd_classes(inp: Inputs, aimag: str, stock_total: float, herder_hh: float,
                     notes: list[str]) -> dict[str, Any]:
    """Size classes of households with livestock, the top-class tail and the herders' classes.

    The tail: the open class >200 is drawn as min(floor(X), cap), X ~ Pareto(201, alpha)
    (model.population.draw_herd_sizes); alpha is solved so that all households with
    livestock hold the aimag's 2019 stock: sum_k n_k mid_k + n_top E[draw](alpha) = S.
    The herders: model.population.herder_class_households removes the non-herder
    households (owners - herder households) from the smallest classes first, at most
    ``population.nonherder_max_class_share`` of each class; the non-herders keep the
    class mean herd, so the herders hold S minus the non-herders' head.
    """
    from scipy.optimize import brentq

    from model.parameters import defaults
    from model.population import TOP_CLASS_CAP, herder_class_households

    tab = inp.get(F_CLASS)
    lower = [1, 11, 31, 51, 101, 201]
    upper: list[float | None] = [10, 30, 50, 100, 200, None]
    cols = ["up_to_10", "11_30", "31_50", "51_100", "101_200"]
    rows = tab[_match(tab["aimag"], aimag)] if tab is not None else pd.DataFrame()
    source = f"NSO {F_CLASS} (households with livestock, 2019); >200 = total - up_to_200"
    if len(rows):
        r = rows.iloc[0]
        hh = [float(r[c]) for c in cols] + [float(r["total"]) - float(r["up_to_200"])]
    else:
        if tab is not None and len(tab):
            shares = np.array([[float(t[c]) for c in cols] + [float(t["total"] - t["up_to_200"])]
                               for _, t in tab.iterrows()]).sum(axis=0)
            how = "pooled class shares of the aimags in the size-class table"
        else:
            shares = np.array([0.04, 0.08, 0.07, 0.13, 0.21, 0.47])
            how = "[est] class shares"
        shares = shares / shares.sum()
        # households with livestock ~ 1.3 x herder households [est; Zavkhan 1.50, Khuvsgul 1.22]
        total = herder_hh * 1.3
        hh = list(shares * total)
        notes.append(f"herd classes: {aimag} not in {F_CLASS}; used {how}, scaled to "
                     "1.3 x herder households [est, range 1.2-1.5]")
        source += f"; fallback: {how}"
    mids = [(lo + up) / 2 for lo, up in zip(lower[:5], upper[:5], strict=True)]
    head_lower = float(np.dot(hh[:5], mids))
    top_hh = hh[5]
    # The top class starts at its lower bound (TOP_X_MIN + 1 head).
    x_min = int(TOP_X_MIN) + 1

    def draw_mean(a: float) -> float:
        return top_class_draw_mean(a, x_min, TOP_CLASS_CAP)

    alpha_raw = None
    mean_top = (stock_total - head_lower) / top_hh if top_hh > 0 else np.nan
    if top_hh > 0 and draw_mean(ALPHA_RANGE[1]) <= mean_top <= draw_mean(ALPHA_RANGE[0]):
        alpha_raw = float(brentq(lambda a: draw_mean(a) - mean_top, *ALPHA_RANGE, xtol=1e-10))
        alpha = alpha_raw
    else:
        alpha = ALPHA_RANGE[0] if top_hh > 0 and mean_top > draw_mean(ALPHA_RANGE[0]) \
            else ALPHA_RANGE[1]
        notes.append(f"herd classes: top-class mean {mean_top:.0f} head is out of reach of "
                     f"Pareto alpha in {list(ALPHA_RANGE)}; alpha set to {alpha:.3f} (stock no "
                     "longer matched)")
    top_mean = draw_mean(alpha)
    implied = head_lower + top_hh * top_mean
    means = np.array([*mids, top_mean])

    # Herder households only (docs/ODD.md section 5).
    share = float(defaults()["population.nonherder_max_class_share"])
    herders_k, removed_k = herder_class_households(np.array(hh), herder_hh, share)
    nonherders = float(removed_k.sum())
    if sum(hh) - herder_hh > nonherders + 0.5:
        notes.append(f"herd classes: {sum(hh) - herder_hh:,.0f} non-herder households but at "
                     f"most {share} of each class may be removed; {nonherders:,.0f} removed")
    nonherder_head = float(np.dot(removed_k, means))
    classes = []
    for i in range(6):
        classes.append({
            "label": HERD_CLASS_LABELS[i],
            "lower": lower[i],
            "upper": upper[i],
            "households": float(hh[i]),
            "herder_households": float(herders_k[i]),
            "mean_head": float(means[i]),
        })
    return {
        "classes": classes,
        "total_households": float(sum(hh)),
        "herders": {
            "herder_households": herder_hh,
            "nonherder_households": nonherders,
            "nonherder_max_class_share": share,
            "nonherder_head": nonherder_head,
            "herder_stock_head": implied - nonherder_head,
            "share_up_to_30_head": float(herders_k[:2].sum() / herders_k.sum()),
            "share_up_to_100_head": float(herders_k[:4].sum() / herders_k.sum()),
            "owners_share_up_to_30_head": float(sum(hh[:2]) / sum(hh)),
            "owners_share_up_to_100_head": float(sum(hh[:4]) / sum(hh)),
            "source": f"herder households = sum of the soums' herder households ({F_SOUM}); "
                      "non-herder households = households with livestock - herder households, "
                      "removed from the smallest classes first, at most "
                      "population.nonherder_max_class_share (model/parameters.toml, [est]; value "
                      "here = its default, the model applies the scenario's value) of each "
                      "class, each holding its class's mean herd; the model draws herds from "
                      "herder_households per class (model.population.herder_class_households)",
        },
        "top_class": {
            "x_min": x_min,
            "cap_head": TOP_CLASS_CAP,
            "pareto_alpha": alpha,
            "pareto_alpha_uncapped": alpha_raw,
            "alpha_range": list(ALPHA_RANGE),
            "mean_head": top_mean,
            "implied_stock_head": implied,
            "target_stock_head": stock_total,
            "share_above_500": (x_min / 500.0) ** alpha,
            "share_above_1000": (x_min / 1000.0) ** alpha,
        },
        "unit": "households with livestock (herder_households: herder households); head",
        "source": source + "; lower classes at their means (midpoints); top class min(floor(X), "
                  f"{TOP_CLASS_CAP}) with X ~ Pareto(x_min={x_min}, alpha), alpha solved so the "
                  f"classes sum to the {STOCK_YEAR} stock ({F_POP}): "
                  "sum_k n_k mid_k + n_top E[min(floor X, cap)] = stock",
    }


def _price_stats(sub: pd.DataFrame) -> tuple[float, dict[str, float], list[int]]:
    """Annual mean and season multipliers from (soum, month, price) rows."""
    monthly = sub.groupby("month")["price_thousand_mnt_per_head"].mean()
    annual = float(monthly.mean())
    season = {}
    for se, months in SEASON_MONTHS.items():
        vals = [monthly[m] for m in months if m in monthly.index]
        season[se] = float(np.mean(vals)) / annual if vals else 1.0
    norm = float(np.mean(list(season.values())))
    season = {k: v / norm for k, v in season.items()}  # mean over seasons = 1
    missing = [m for m in range(1, 13) if m not in monthly.index]
    return annual, season, missing


def fit_prices(inp: Inputs, aimag: str, aimag_code: int | None, soum_codes: list[int],
               notes: list[str]) -> tuple[dict[str, Any], dict[int, float]]:
    tab = inp.get(F_PRICE)
    price_col = "price_thousand_mnt_per_head"
    if tab is not None:
        tab = tab.dropna(subset=[price_col])
        own = tab["soum_code"].isin(soum_codes)
        if aimag_code is not None:
            own |= (tab["soum_code"] // 100) == aimag_code
        rows = tab[own]
    else:
        rows = pd.DataFrame(columns=["soum_code", "species", "month", price_col])
        notes.append(f"prices: {F_PRICE} not found; all prices are [est]")
    annual: dict[str, float] = {}
    season: dict[str, dict[str, float]] = {}
    how: dict[str, str] = {}
    for s in SPECIES:
        if s == "cattle":
            continue
        sub = rows[rows["species"] == s]
        if len(sub):
            a, se, missing = _price_stats(sub)
            how[s] = f"mean over {sub['soum_code'].nunique()} soums of the aimag"
            if missing:
                notes.append(f"prices: {s} has no observations in months {missing}; "
                             "annual mean over the months present, seasons renormalised")
        elif tab is not None and (tab["species"] == s).any():
            a, se, _ = _price_stats(tab[tab["species"] == s])
            how[s] = "[fallback] pooled over all soums in the price file (no soum of this aimag)"
            notes.append(f"prices: no {s} prices for {aimag}'s soums; used the pooled "
                         "mean of all soums in the file")
        elif s == "camel":
            a, se = CAMEL_PRICE_EST, {k: 1.0 for k in SEASONS}
            how[s] = f"[est] {CAMEL_PRICE_EST:g} (range {CAMEL_PRICE_RANGE[0]:g}-" \
                     f"{CAMEL_PRICE_RANGE[1]:g}), no seasonality"
            notes.append("prices: no camel prices anywhere in the file; [est] value used")
        else:
            raise DataError(f"no {s} prices in {F_PRICE} at all")
        annual[s] = a
        season[s] = se
    annual["cattle"] = annual["horse"] * CATTLE_HORSE_RATIO
    season["cattle"] = dict(season["horse"])
    how["cattle"] = (f"[est] horse price x {CATTLE_HORSE_RATIO} (range {CATTLE_HORSE_RANGE[0]}-"
                     f"{CATTLE_HORSE_RANGE[1]}); horse seasonality. The NSO table has no cattle "
                     "prices; MODEL.md: cattle 700-1,500, horses 700-1,600 thousand MNT")
    notes.append("prices: cattle = horse x " f"{CATTLE_HORSE_RATIO} [est] (no cattle in {F_PRICE})")

    # per-soum factor: mean over species of soum price / aimag price over the same months
    factors: dict[int, float] = {}
    for code, g in rows.groupby("soum_code"):
        ratios = []
        for s, gs in g.groupby("species"):
            if s not in annual:
                continue
            ref = rows[rows["species"] == s].groupby("month")[price_col].mean()
            denom = float(ref.loc[gs["month"]].mean())
            if denom > 0:
                ratios.append(float(gs[price_col].mean()) / denom)
        if ratios:
            factors[int(code)] = float(np.mean(ratios))
    no_price = [c for c in soum_codes if c not in factors and c != 0]
    if no_price:
        notes.append(f"prices: soums without any price rows get factor 1.0: {no_price}")
    block = {
        "annual_mean_kmnt": annual,
        "season_multiplier": {se: {s: season[s][se] for s in SPECIES} for se in SEASONS},
        "season_months": {k: list(v) for k, v in SEASON_MONTHS.items()},
        "method": how,
        "cattle_horse_ratio": {"value": CATTLE_HORSE_RATIO, "range": list(CATTLE_HORSE_RANGE),
                               "source": "[est] no cattle prices in the NSO soum price table"},
        "unit": "thousand MNT per head, 2021",
        "source": f"NSO {F_PRICE} (2021): monthly mean over the aimag's soums; annual = mean "
                  "of monthly means; season multiplier = season's monthly means / annual "
                  "(renormalised to mean 1); soum factor = mean over species of soum / aimag "
                  "price over the soum's months; cattle [est] = horse x ratio",
    }
    return block, factors


def em_mixture(y: np.ndarray, sd_floor: float = SD_FLOOR, max_iter: int = 5000,
               tol: float = 1e-12) -> dict[str, float]:
    """Deterministic EM for a 2-component 1-D Gaussian mixture.

    Initialisation: the 'dzud' component starts from the observations above the
    80th percentile. Component sds are floored at ``sd_floor``.
    """
    y = np.asarray(y, dtype=float)
    hi = y > np.quantile(y, 0.8)
    if hi.sum() < 2:
        hi = y >= np.sort(y)[-2]
    p = hi.mean()
    mu = np.array([y[~hi].mean(), y[hi].mean()])
    sd = np.maximum([y[~hi].std(), y[hi].std()], sd_floor)
    w = np.array([1 - p, p])
    ll_old = -np.inf
    for _ in range(max_iter):
        dens = w / (sd * np.sqrt(2 * np.pi)) * np.exp(-0.5 * ((y[:, None] - mu) / sd) ** 2)
        tot = dens.sum(axis=1, keepdims=True)
        ll = float(np.log(tot).sum())
        r = dens / tot
        nk = r.sum(axis=0)
        w = nk / len(y)
        mu = (r * y[:, None]).sum(axis=0) / nk
        sd = np.sqrt((r * (y[:, None] - mu) ** 2).sum(axis=0) / nk)
        sd = np.maximum(sd, sd_floor)
        if abs(ll - ll_old) < tol:
            break
        ll_old = ll
    if mu[1] < mu[0]:
        mu, sd, w = mu[::-1], sd[::-1], w[::-1]
    mean = float(np.dot(w, mu))
    var = float(np.dot(w, sd ** 2 + mu ** 2) - mean ** 2)
    return {"p_dzud": float(w[1]), "mu_normal": float(mu[0]), "sd_normal": float(sd[0]),
            "mu_dzud": float(mu[1]), "sd_dzud": float(sd[1]), "y_mean": mean,
            "y_sd": float(np.sqrt(var)), "log_likelihood": ll}


def _mixture_y(mix: dict[str, float], z: np.ndarray) -> np.ndarray:
    from model.climate import _Z_GRID, mixture_quantile_table

    y_tab, _ = mixture_quantile_table(mix["p_dzud"], mix["mu_normal"], mix["sd_normal"],
                                      mix["mu_dzud"], mix["sd_dzud"])
    return np.interp(z, _Z_GRID, y_tab[0])


def copula_rho(mix_a: dict[str, float], mix_b: dict[str, float], target: float,
               n: int = 100_000, seed: int = 7) -> tuple[float, bool]:
    """Copula correlation giving corr(y_a, y_b) = target (bisection, fixed draws)."""
    z = np.random.default_rng(seed).standard_normal((2, n))
    ya = _mixture_y(mix_a, z[0])

    def corr(rho: float) -> float:
        yb = _mixture_y(mix_b, rho * z[0] + np.sqrt(1 - rho * rho) * z[1])
        return float(np.corrcoef(ya, yb)[0, 1])

    lo, hi = (0.0, 0.995) if target >= 0 else (-0.995, 0.0)
    if target >= 0 and corr(hi) < target:
        return hi, False
    if target < 0 and corr(lo) > target:
        return lo, False
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if corr(mid) < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi), True


def observed_y(mort: pd.DataFrame, aimag: str) -> pd.Series:
    r = mort[_match(mort["Aimag"], aimag)]
    r = r[(r["Year"] >= FIT_YEARS[0]) & (r["Year"] <= FIT_YEARS[1])].dropna(subset=["All_SFU"])
    return pd.Series(logit(r["All_SFU"].to_numpy()), index=r["Year"].to_numpy())


# ---------------------------------------------------------------- persistence of winters
BAD_QUANTILE = 0.75  # a "bad" winter: SFU mortality above the aimag's observed 75th percentile
BAD_RATE = 0.10  # ... or above 10% (the report's dzud-level threshold)
BLOCK_LEN = 4  # circular block bootstrap of the observed series (~ n^(1/3) for n = 33)
N_BOOT = 4000
BOOT_SEED = 20240502
PHI_BOUNDS = (-0.9, 0.9)


def mixture_scores(y: np.ndarray, mix: dict[str, float]) -> np.ndarray:
    """Copula scores z = Phi^-1(F(y)) of observed y under the fitted mixture F."""
    from scipy.special import ndtr, ndtri

    p = mix["p_dzud"]
    u = ((1 - p) * ndtr((y - mix["mu_normal"]) / mix["sd_normal"])
         + p * ndtr((y - mix["mu_dzud"]) / mix["sd_dzud"]))
    return ndtri(np.clip(u, 1e-12, 1 - 1e-12))


def ar1_loglik(z: np.ndarray, phi: float) -> float:
    """Exact log-likelihood of a stationary AR(1) with unit variance (the copula's
    scores: mean 0 and variance 1 by construction)."""
    v = 1.0 - phi * phi
    e = z[1:] - phi * z[:-1]
    return float(-0.5 * (len(z) * np.log(2 * np.pi) + z[0] ** 2
                         + (len(z) - 1) * np.log(v) + (e @ e) / v))


def markov_loglik(y: np.ndarray, mix: dict[str, float], lam: float) -> float:
    """Log-likelihood of the alternative: the mixture's regime as a two-state Markov
    chain with the mixture's stationary probability p_dzud and lag-1 autocorrelation
    ``lam`` of the regime (P(dzud | dzud) = p + lam (1 - p))."""
    p = mix["p_dzud"]
    P = np.array([[1 - p * (1 - lam), p * (1 - lam)],
                  [(1 - p) * (1 - lam), p + lam * (1 - p)]])
    if P.min() < 0:
        return -np.inf

    def dens(mu: float, sd: float) -> np.ndarray:
        return np.exp(-0.5 * ((y - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
    e = np.column_stack([dens(mix["mu_normal"], mix["sd_normal"]),
                         dens(mix["mu_dzud"], mix["sd_dzud"])])
    a = np.array([1 - p, p]) * e[0]
    ll = np.log(a.sum())
    a = a / a.sum()
    for t in range(1, len(y)):
        a = (a @ P) * e[t]
        c = a.sum()
        ll += np.log(c)
        a = a / c
    return float(ll)


def _argmax_1d(f, lo: float, hi: float) -> float:
    from scipy.optimize import minimize_scalar

    return float(minimize_scalar(lambda x: -f(x), bounds=(lo, hi), method="bounded",
                                 options={"xatol": 1e-7}).x)


def fit_persistence(y: np.ndarray, mix: dict[str, float]) -> dict[str, Any]:
    """Maximum-likelihood AR(1) coefficient of the copula scores, its profile 95% CI,
    and the two-state Markov regime as the alternative with as many parameters."""
    z = mixture_scores(y, mix)
    phi = _argmax_1d(lambda f: ar1_loglik(z, f), *PHI_BOUNDS)
    ll_hat, ll_0 = ar1_loglik(z, phi), ar1_loglik(z, 0.0)
    grid = np.linspace(*PHI_BOUNDS, 1801)
    inside = grid[np.array([ar1_loglik(z, g) for g in grid]) >= ll_hat - 1.920729]
    p = mix["p_dzud"]
    lam_lo = max(-p / (1 - p), -(1 - p) / p) + 1e-9
    lam = _argmax_1d(lambda la: markov_loglik(y, mix, la), lam_lo, 0.99)
    m_hat, m_0 = markov_loglik(y, mix, lam), markov_loglik(y, mix, 0.0)
    return {
        "phi": phi,
        "phi_ci95_profile": [float(inside.min()), float(inside.max())],
        "loglik_gain": ll_hat - ll_0,
        "lag1_corr_scores": float(np.corrcoef(z[:-1], z[1:])[0, 1]),
        "markov_alternative": {"regime_autocorr": lam, "loglik_gain": m_hat - m_0},
        "unit": "AR(1) coefficient of the aimag's copula score Z_t = Phi^-1(F(y_t)) per year",
        "source": f"NSO {F_MORT} ({FIT_YEARS[0]}-{FIT_YEARS[1]}), All_SFU: maximum-likelihood "
                  "AR(1) (stationary, unit variance) on the copula scores under the fitted "
                  "mixture; CI from the profile likelihood (drop of 1.92); the Markov "
                  "alternative: two-state chain on the mixture regime with stationary "
                  "probability p_dzud, fitted by maximum likelihood (forward algorithm)",
    }


def _lag1(x: np.ndarray) -> float:
    return float(np.corrcoef(x[:-1], x[1:])[0, 1])


def _spells(bad: np.ndarray) -> np.ndarray:
    """Lengths of the runs of consecutive True values."""
    d = np.diff(np.concatenate([[0], bad.astype(int), [0]]))
    return np.flatnonzero(d == -1) - np.flatnonzero(d == 1)


def persistence_stats(sfu: np.ndarray, bad_threshold: float) -> dict[str, float]:
    """Year-to-year statistics of one aimag's SFU mortality series (rates, in year order).

    lag1_logit: lag-1 correlation of logit(SFU); lag1_normal_scores: of the rank-based
    normal scores; pairs_bad: share of consecutive year pairs with both winters above
    ``bad_threshold`` (the aimag's observed 75th percentile); bad_after_bad: P(bad |
    previous bad); pairs_above_10pct: both above 10%; mean_spell_bad: mean length of
    runs of bad winters.
    """
    from scipy.special import ndtri
    from scipy.stats import rankdata

    x = np.asarray(sfu, dtype=float)
    yl = logit(x)
    scores = ndtri((rankdata(x) - 0.5) / len(x))
    bad = x > bad_threshold
    both = bad[:-1] & bad[1:]
    dz = x > BAD_RATE
    sp = _spells(bad)
    return {
        "lag1_logit": _lag1(yl),
        "lag1_normal_scores": _lag1(scores),
        "pairs_bad": float(both.mean()),
        "bad_after_bad": float(both.sum() / bad[:-1].sum()) if bad[:-1].any() else np.nan,
        "pairs_above_10pct": float((dz[:-1] & dz[1:]).mean()),
        "mean_spell_bad": float(sp.mean()) if len(sp) else np.nan,
    }


PERSISTENCE_LABELS = {
    "lag1_logit": "lag-1 corr of logit SFU",
    "lag1_normal_scores": "lag-1 corr of normal scores",
    "pairs_bad": "share of year pairs both > p75",
    "bad_after_bad": "P(> p75 | previous > p75)",
    "pairs_above_10pct": "share of year pairs both > 10%",
    "mean_spell_bad": "mean run of years > p75",
}


def fisher_ci(r: float, n_pairs: int) -> list[float]:
    """95% CI of a correlation from n_pairs pairs (Fisher z approximation)."""
    h = 1.959964 / np.sqrt(max(n_pairs - 3, 1))
    return [float(np.tanh(np.arctanh(r) - h)), float(np.tanh(np.arctanh(r) + h))]


def observed_persistence(sfu: np.ndarray) -> dict[str, Any]:
    """Observed persistence statistics with 95% CIs: Fisher z for the correlations,
    a circular block bootstrap (blocks of BLOCK_LEN years) for the others."""
    thr = float(np.quantile(sfu, BAD_QUANTILE))
    obs = persistence_stats(sfu, thr)
    n = len(sfu)
    rng = np.random.default_rng(BOOT_SEED)
    k = -(-n // BLOCK_LEN)
    starts = rng.integers(0, n, size=(N_BOOT, k))
    idx = ((starts[:, :, None] + np.arange(BLOCK_LEN)) % n).reshape(N_BOOT, -1)[:, :n]
    boot = [persistence_stats(sfu[i], thr) for i in idx]
    ci: dict[str, list[float]] = {}
    for key in obs:
        if key.startswith("lag1"):
            ci[key] = fisher_ci(obs[key], n - 1)
        else:
            v = np.array([b[key] for b in boot])
            v = v[np.isfinite(v)]
            ci[key] = [float(np.quantile(v, 0.025)), float(np.quantile(v, 0.975))]
    return {"bad_threshold": thr, "bad_quantile": BAD_QUANTILE, "n_years": n,
            "stats": obs, "ci95": ci,
            "ci_method": "Fisher z for lag-1 correlations (n-1 pairs); circular block bootstrap "
                         f"({BLOCK_LEN}-year blocks, {N_BOOT} resamples, seed {BOOT_SEED}, "
                         "threshold held at the observed p75) for the others"}


def fit_dzud(inp: Inputs, aimag: str, notes: list[str]) -> dict[str, Any]:
    mort = inp.get(F_MORT)
    r = mort[_match(mort["Aimag"], aimag)]
    r = r[(r["Year"] >= FIT_YEARS[0]) & (r["Year"] <= FIT_YEARS[1])].dropna(subset=["All_SFU"])
    r = r.sort_values("Year")
    if len(r) < 10:
        raise DataError(f"{aimag}: only {len(r)} years of All_SFU mortality in "
                        f"{FIT_YEARS[0]}-{FIT_YEARS[1]} (need >= 10)")
    sfu = r["All_SFU"].to_numpy(dtype=float)
    y = logit(sfu)
    mix = em_mixture(y)
    if mix["p_dzud"] > 0.3:
        notes.append(
            f"dzud: the fitted 'dzud' component is frequent and broad (p_dzud="
            f"{mix['p_dzud']:.2f}, sd {mix['sd_dzud']:.2f}): the series has a heavy right tail "
            "rather than two separated regimes, so the flag means 'bad-winter regime' and "
            "dzud_prob_scale acts on that regime; the marginal distribution is still "
            "reproduced (see docs/CALIBRATION.md)")
    species = {}
    for s in SPECIES:
        m = r[NSO_MORTALITY_COLUMNS[s]].to_numpy(dtype=float)
        ok = np.isfinite(m)
        if ok.sum() >= 5:
            ys = logit(m[ok])
            x = y[ok]
            X = np.column_stack([np.ones_like(x), x])
            coef, *_ = np.linalg.lstsq(X, ys, rcond=None)
            resid = ys - X @ coef
            species[s] = {"intercept": float(coef[0]), "slope": float(coef[1]),
                          "resid_sd": float(np.sqrt(resid @ resid / (ok.sum() - 2))),
                          "n_years": int(ok.sum()),
                          "n_clipped": int((m[ok] < RATE_CLIP[0]).sum())}
        else:
            species[s] = {"intercept": 0.0, "slope": 1.0, "resid_sd": 0.3,
                          "n_years": int(ok.sum()), "n_clipped": 0}
            notes.append(f"dzud: fewer than 5 years of {s} mortality; species rate = SFU rate "
                         "(intercept 0, slope 1, resid_sd 0.3 [est])")
        if species[s]["n_clipped"]:
            notes.append(f"dzud: {s} mortality is 0 in {species[s]['n_clipped']} years; "
                         f"clipped to {RATE_CLIP[0]} before logit (inflates its resid_sd)")
    # Gaussian-copula correlation with every other aimag in the file (stable output:
    # independent of which aimags are requested): the copula rho is solved so that the
    # generator reproduces the observed Pearson corr of logit(All_SFU) over common years.
    corr_obs, corr_rho = {}, {}
    ya = pd.Series(y, index=r["Year"].to_numpy())
    for other in sorted(set(mort["Aimag"].astype(str)) - {str(r["Aimag"].iloc[0])}):
        yo = observed_y(mort, other)
        common = ya.index.intersection(yo.index)
        if len(common) >= 10:
            target = float(np.corrcoef(ya[common], yo[common])[0, 1])
            corr_obs[other] = target
            rho, reached = copula_rho(mix, em_mixture(yo.to_numpy()), target)
            corr_rho[other] = rho
            if not reached:
                notes.append(f"dzud: copula with {other}: observed corr {target:.2f} not "
                             f"reachable; rho set to {rho:.3f}")
    persistence = fit_persistence(y, mix)
    if persistence["markov_alternative"]["loglik_gain"] > persistence["loglik_gain"]:
        notes.append("dzud: a two-state Markov regime fits the year-to-year dependence better "
                     f"than the AR(1) copula (log-likelihood gain "
                     f"{persistence['markov_alternative']['loglik_gain']:.2f} vs "
                     f"{persistence['loglik_gain']:.2f}); the generator uses the AR(1)")
    if np.any(np.diff(r["Year"].to_numpy()) != 1):
        notes.append("dzud: the mortality series has gaps; persistence is fitted as if the "
                     "years were consecutive")
    obs = {
        "median": float(np.median(sfu)),
        "p90": float(np.quantile(sfu, 0.9)),
        "share_above_10pct": float((sfu > 0.10).mean()),
        "mean": float(sfu.mean()),
        "max": float(sfu.max()),
        "max_year": int(r["Year"].iloc[int(np.argmax(sfu))]),
    }
    return {
        **mix,
        "sd_floor": SD_FLOOR,
        "years": [int(r["Year"].min()), int(r["Year"].max())],
        "n_years": len(r),
        "dzud_years_posterior_gt_half": _dzud_years(y, mix, r["Year"].to_numpy()),
        "species": species,
        "copula_corr": corr_rho,
        "observed_corr_logit_sfu": corr_obs,
        "observed_sfu": obs,
        "persistence": persistence,
        "observed_persistence": observed_persistence(sfu),
        "unit": "y = logit(adult SFU-weighted mortality rate); loss year t = winter (t-1)/t",
        "source": f"NSO {F_MORT} ({FIT_YEARS[0]}-{FIT_YEARS[1]}), fitted by "
                  f"{JSON_SCRIPT_PATH}: 2-component Gaussian mixture on logit(All_SFU) "
                  f"(EM, fixed init, sd floor {SD_FLOOR}); species: OLS of logit(rate, clipped "
                  f"to {list(RATE_CLIP)}) on logit(All_SFU); copula_corr = Gaussian-copula "
                  "rho (y = F^-1(Phi(Z)), Z correlated normals) solved so the simulated corr of "
                  "logit(SFU) with each other aimag equals the observed one over common years; "
                  "persistence.phi = maximum-likelihood AR(1) coefficient of the copula scores "
                  "Z_t = Phi^-1(F(y_t)) (stationary, unit variance), chosen over a two-state "
                  "Markov regime by likelihood (same number of parameters)",
    }


def _dzud_years(y: np.ndarray, mix: dict[str, float], years: np.ndarray) -> list[int]:
    def dens(mu: float, sd: float) -> np.ndarray:
        return np.exp(-0.5 * ((y - mu) / sd) ** 2) / sd
    d1 = mix["p_dzud"] * dens(mix["mu_dzud"], mix["sd_dzud"])
    d0 = (1 - mix["p_dzud"]) * dens(mix["mu_normal"], mix["sd_normal"])
    return [int(t) for t in years[d1 / (d0 + d1) > 0.5]]


def calibrate_aimag(inp: Inputs, aimag: str) -> dict[str, Any]:
    notes: list[str] = []
    mort = inp.get(F_MORT)
    name = str(mort.loc[_match(mort["Aimag"], aimag), "Aimag"].iloc[0])
    stock = fit_stock(inp, name, notes)
    stock_total = float(sum(stock["head"].values()))
    classes_tab = inp.get(F_CLASS)
    aimag_code = None
    if classes_tab is not None and _match(classes_tab["aimag"], name).any():
        aimag_code = int(classes_tab.loc[_match(classes_tab["aimag"], name), "aimag_code"].iloc[0])
    soums = fit_soums(inp, name, stock_total, notes)
    real_codes = [s["code"] for s in soums["rows"] if s["code"] > 0]
    if aimag_code is None and real_codes:
        aimag_code = int(pd.Series([c // 100 for c in real_codes]).mode().iloc[0])
    herder_hh = float(sum(s["herder_households"] for s in soums["rows"]))
    classes = fit_herd_classes(inp, name, stock_total, herder_hh, notes)
    prices, factors = fit_prices(inp, name, aimag_code, real_codes, notes)
    for s in soums["rows"]:
        s["price_factor"] = factors.get(s["code"], 1.0)
    soums["source"] += "; price_factor from " + F_PRICE + " (1.0 where the soum has no prices)"
    dzud = fit_dzud(inp, name, notes)
    sources = {
        "soums": soums["source"],
        "stock_2019": stock["source"],
        "herd_classes": classes["source"],
        "prices": prices["source"],
        "dzud": dzud["source"],
    }
    return {
        "aimag": name,
        "aimag_code": aimag_code,
        "format_version": FORMAT_VERSION,
        "generated_by": JSON_GENERATED_BY,
        "inputs_sha256": {},  # filled in by main() with every file read
        "notes": notes,
        "sources": sources,
        "soums": soums,
        "stock_2019": stock,
        "herd_classes": classes,
        "prices": prices,
        "dzud": dzud,
    }


def dump_json(blob: dict[str, Any]) -> str:
    return json.dumps(rounded(blob), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- simulation for the report
def report_params() -> dict[str, float]:
    """Climate defaults from model/parameters.toml (fallback 0.5 / 0.6 / 1.0)."""
    out = {"soum_noise_sd": 0.5, "signal_corr": 0.6, "persistence_scale": 1.0}
    try:
        with open(REPO_ROOT / "model" / "parameters.toml", "rb") as f:
            t = tomllib.load(f)
        for k in out:
            v = t.get(f"climate.{k}", {}).get("default")
            if isinstance(v, (int, float)):
                out[k] = float(v)
    except (OSError, tomllib.TOMLDecodeError):
        pass
    return out


def simulate_sfu(region, n_years: int, seed: int, **kw) -> tuple[np.ndarray, np.ndarray]:
    from model.climate import aimag_sfu_mortality, draw_stochastic_winter

    rng = np.random.default_rng(seed)
    sfu = np.empty((n_years, region.n_aimags))
    sev = np.empty((n_years, region.n_aimags))
    state = None  # the persistence state, carried from winter to winter as the model does
    for t in range(n_years):
        w = draw_stochastic_winter(rng, region, previous=state, **kw)
        state = w.latent
        sfu[t] = aimag_sfu_mortality(w, region)
        sev[t] = w.severity
    return sfu, sev


def window_persistence(sfu: np.ndarray, bad_threshold: float, n: int) -> dict[str, np.ndarray]:
    """persistence_stats of consecutive non-overlapping n-year windows of one series."""
    k = len(sfu) // n
    rows = [persistence_stats(sfu[j * n:(j + 1) * n], bad_threshold) for j in range(k)]
    return {key: np.array([r[key] for r in rows]) for key in rows[0]}


def dist_stats(x: np.ndarray) -> dict[str, float]:
    return {"median": float(np.median(x)), "p90": float(np.quantile(x, 0.9)),
            "share_above_10pct": float((x > 0.10).mean())}

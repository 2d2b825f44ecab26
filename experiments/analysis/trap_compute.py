"""The computation of `herdtrap trap` (no printing, no files): the poverty-trap threshold
measured from a household panel. The command is :mod:`experiments.analysis.trap`; the
figures and printed lines :mod:`experiments.report.trap_render`.

Lybbert, Barrett, Desta & Coppock (2004) style herd dynamics: with h the herd in
sheep units (SFU) per person and z = log(1 + h), estimate

    g(z) = E[(1 + h_{t+1}) / (1 + h_t) | z_t = z]       (measure "level", default)

by binned local-linear kernel regression on z (Gaussian kernel, bandwidth in z
units; Fan & Marron 1994 binning). Because h_t is fixed given z_t, g(z) = 1 is
exactly E[h_{t+1} | h_t] = h_t, the crossing of the expected next-year herd with
the 45° line in levels, as in Lybbert et al. An equilibrium is *stable* where
the expected herd crosses the 45° line from above (g falls through 1) and
*unstable* where it crosses from below (g rises through 1): an unstable
equilibrium is a dynamic threshold, herds below it shrink in expectation, herds
above it grow. Measure "log" uses E[z_{t+1} - z_t | z_t] = 0 instead (the
geometric mean: with dzud risk it lies below the level curve by a Jensen gap).

* Households not herding are h = 0: transitions into exit are included
  (h_t > 0 -> 0), transitions from a household not herding are not (they would only
  pile up at the trivial equilibrium h = 0; former herders can return, which is not a
  herd dynamic).
* Households are followed by their id (``hid``): the household table grows with
  demography and a slot freed by a dissolved household can later hold a new one, so a
  slot is not a household. A household founded during the run enters with its first
  year-end; one that dissolves leaves after its last (no transition into dissolution).
  Panels without ``hid`` (written before demography) are keyed by slot.
* Confidence intervals over the weather. A replicate is one weather path shared by
  all its households, so replicates, not households, are the independent units (a
  household-only bootstrap within fixed weather paths gave intervals that excluded
  each other between root seeds). With R >= 2 replicates the 95% CI of a crossing is
  z* ± t_{R-1, 0.975} se on z = log(1 + h), se the larger of the delete-one-replicate
  jackknife and the two-stage bootstrap (replicates with replacement, then households
  with replacement within each drawn replicate; its SD times sqrt(R / (R - 1))). With
  one replicate: percentile interval of the household bootstrap, conditional on that
  weather path. Each bootstrap or jackknife curve's crossings are matched to the point
  estimate's by type and nearest location; ``support`` is the share of two-stage
  bootstrap curves that have a matching crossing. The interval needs about
  MIN_REPLICATES replicates to be reliable; `herdtrap trap` warns below that.
* Nothing in the model tests a herd threshold; this is measured afterwards.


``read_panel`` reads ``DIR/panel.parquet`` (batch contract: year, household, herd_sfu,
persons, herding, scenario, replicate, and hid). Analyses read results; they never
re-run the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PANEL_COLUMNS = ("scenario", "replicate", "household", "year", "herd_sfu", "persons", "herding")
#: Optional panel column: the household id (household = slot, which can be reused).
ID_COLUMN = "hid"
#: Default kernel bandwidth, in units of z = log(1 + SFU per person).
BANDWIDTH = 0.3
MEASURES = ("level", "log")
GRID_POINTS = 240
#: Minimum transitions within ±1 bandwidth for a crossing to count.
MIN_LOCAL = 40
#: Crossings are searched between these quantiles of z_t (avoid boundary artefacts).
SUPPORT_QUANTILES = (0.01, 0.99)
#: A bootstrap crossing matches the point estimate's if closer than this (z units).
MATCH_WINDOW = 0.6
#: Weather replicates the threshold's CI needs to be reliable (docs/VALIDATION.md, section
#: 3). Measured on 480 baseline replicates (60 root seeds x 8, 2,240 households x 30
#: years, model of commit f1ad951): the interval covered the pooled threshold in 95-98%
#: of batches at every R from 3 to 16, but with few replicates it is wide and its width
#: itself uncertain (relative standard error ~ 1 / sqrt(2 (R - 1))): 10-90% range of the
#: width 4.9-18.1 SFU/person at R = 4, 3.0-6.9 at R = 10, 2.5-4.9 at R = 16.
MIN_REPLICATES = 10


class TrapError(ValueError):
    """Bad input for the trap diagnostic."""


# ---------------------------------------------------------------- data
def transitions(panel: pd.DataFrame) -> pd.DataFrame:
    """Year-on-year pairs (z_t, z_{t+1}) with z = log(1 + SFU per person).

    Returns columns scenario, replicate, household (the household id ``hid`` if the panel
    has it, else the slot), year (t), h, h_next, z, z_next, cluster (int id of the
    replicate x household). Households not herding count as h = 0; pairs starting from
    one are dropped.
    """
    df = panel.copy()
    if ID_COLUMN in df:  # follow households, not slots (slots are reused)
        df["household"] = df[ID_COLUMN]
    for col, default in (("scenario", "scenario"), ("replicate", 0)):
        if col not in df:
            df[col] = default
    missing = [c for c in PANEL_COLUMNS if c not in df]
    if missing:
        raise TrapError(f"panel lacks column(s) {', '.join(missing)}; has {', '.join(df.columns)}")
    persons = np.maximum(df["persons"].to_numpy(dtype=float), 1.0)
    herding = df["herding"].to_numpy(dtype=bool)
    df["h"] = np.where(herding, df["herd_sfu"].to_numpy(dtype=float) / persons, 0.0)
    df["alive"] = herding
    df = df.sort_values(["scenario", "replicate", "household", "year"], kind="stable")
    keys = ["scenario", "replicate", "household"]
    nxt = df.groupby(keys, sort=False)[["year", "h"]].shift(-1)
    ok = nxt["year"].to_numpy() == df["year"].to_numpy() + 1
    ok &= df["alive"].to_numpy()
    out = pd.DataFrame({
        "scenario": df["scenario"].to_numpy()[ok],
        "replicate": df["replicate"].to_numpy()[ok],
        "household": df["household"].to_numpy()[ok],
        "year": df["year"].to_numpy()[ok],
        "h": df["h"].to_numpy()[ok],
        "h_next": nxt["h"].to_numpy(dtype=float)[ok],
    })
    out["z"] = np.log1p(out["h"])
    out["z_next"] = np.log1p(out["h_next"])
    out["cluster"] = out.groupby(["replicate", "household"], sort=False).ngroup()
    return out


# ---------------------------------------------------------------- estimator
@dataclass
class Curve:
    """m(z) on a grid, its slope, and the local number of observations."""

    grid: np.ndarray  # z = log(1 + h)
    m: np.ndarray  # fitted response: growth ratio (level) or log growth (log)
    slope: np.ndarray  # d m / d z
    local_n: np.ndarray
    searchable: np.ndarray  # bool: inside the support where crossings are reported
    target: float = 1.0  # value of m at an equilibrium
    measure: str = "level"

    def expected_h(self, m: np.ndarray | None = None) -> np.ndarray:
        """Expected next-year herd (SFU per person) implied by ``m`` (default: the fit)."""
        m = self.m if m is None else m
        if self.measure == "level":
            return (1.0 + np.expm1(self.grid)) * m - 1.0
        return np.expm1(self.grid + m)

    @property
    def slope_45(self) -> np.ndarray:
        """Slope of the expected next-year herd against this year's (1 = the 45° line).

        level: d/dh[(1+h) g] = g + g'(z); log: d z'/dz = 1 + m'(z).
        """
        if self.measure == "level":
            return self.m + self.slope
        return 1.0 + self.slope


def _bin_stats(z: np.ndarray, y: np.ndarray, group: np.ndarray, grid: np.ndarray,
               n_groups: int, *, sparse: bool = False):
    """Per-group counts and sums of y in each grid bin (linear binning): (n_groups, G) each.

    ``sparse=True`` returns scipy CSR matrices (one row per household cluster has only
    the few bins its herd visited; a dense array would grow with replicates x households).
    """
    from scipy import sparse as sp

    g = len(grid)
    step = grid[1] - grid[0]
    pos = np.clip((z - grid[0]) / step, 0, g - 1 - 1e-9)
    i = np.floor(pos).astype(np.int64)
    f = pos - i
    rows = np.r_[group, group]
    cols = np.r_[i, i + 1]
    w = np.r_[1.0 - f, f]
    counts = sp.csr_matrix((w, (rows, cols)), shape=(n_groups, g))
    sums = sp.csr_matrix((w * np.r_[y, y], (rows, cols)), shape=(n_groups, g))
    if sparse:
        return counts, sums
    return counts.toarray(), sums.toarray()


def _local_linear(counts: np.ndarray, sums: np.ndarray, grid: np.ndarray,
                  bandwidth: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local-linear fit at every grid point from binned data; arrays (..., G)."""
    d = grid[None, :] - grid[:, None]  # (eval u, bin j): g_j - u
    k = np.exp(-0.5 * (d / bandwidth) ** 2)
    kd, kd2 = k * d, k * d * d
    s0, s1, s2 = counts @ k.T, counts @ kd.T, counts @ kd2.T
    t0, t1 = sums @ k.T, sums @ kd.T
    det = s0 * s2 - s1 * s1
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(det > 1e-12, (s2 * t0 - s1 * t1) / det, np.nan)
        b = np.where(det > 1e-12, (s0 * t1 - s1 * t0) / det, np.nan)
    near = (np.abs(d) <= bandwidth).astype(float)
    local_n = counts @ near.T
    return a, b, local_n


def crossings(grid: np.ndarray, d: np.ndarray, searchable: np.ndarray) -> list[dict[str, Any]]:
    """Sign changes of ``d`` (the curve minus its equilibrium value) inside ``searchable``.

    Type "unstable" where d rises through 0, "stable" where it falls through 0.
    """
    out = []
    for j in range(len(grid) - 1):
        if not (searchable[j] and searchable[j + 1]):
            continue
        if not (np.isfinite(d[j]) and np.isfinite(d[j + 1])):
            continue
        if d[j] == 0.0 or d[j] * d[j + 1] < 0:
            w = d[j] / (d[j] - d[j + 1]) if d[j] != d[j + 1] else 0.0
            z = grid[j] + w * (grid[j + 1] - grid[j])
            kind = "unstable" if d[j + 1] > d[j] else "stable"
            out.append({"z": float(z), "kind": kind})
    return out


@dataclass
class TrapEstimate:
    """Equilibria of E[z_{t+1} | z_t] with CIs over weather replicates, for one scenario."""

    scenario: str
    n_transitions: int
    n_clusters: int
    bandwidth: float
    curve: Curve
    boot_m: np.ndarray  # (B, G) two-stage bootstrap curves
    equilibria: list[dict[str, Any]] = field(default_factory=list)
    n_replicates: int = 1
    jack_m: np.ndarray | None = None  # (R, G) leave-one-replicate-out curves

    @property
    def threshold(self) -> dict[str, Any] | None:
        """The unstable equilibrium with the highest bootstrap support (None if none)."""
        un = [e for e in self.equilibria if e["kind"] == "unstable"]
        return max(un, key=lambda e: (e["support"], -e["z"])) if un else None

    @property
    def ci_method(self) -> str:
        if self.n_replicates >= 2:
            return (f"replicate jackknife, t with {self.n_replicates - 1} df over "
                    f"{self.n_replicates} weather replicates")
        return "household bootstrap within one weather replicate (weather not resampled)"

    def message(self) -> str:
        t = self.threshold
        if t is None:
            stable = [e for e in self.equilibria if e["kind"] == "stable"]
            what = ", ".join(f"{e['h']:.1f}" for e in stable) or "none"
            return (f"{self.scenario}: no poverty-trap threshold: E[herd next year | herd] "
                    f"crosses the 45-degree line only from above (stable equilibria at "
                    f"{what} SFU/person)")
        if np.isfinite(t["h_lo"]) and np.isfinite(t["h_hi"]):
            ci = f"95% CI {t['h_lo']:.1f}-{t['h_hi']:.1f}"
        else:
            ci = f"95% CI undetermined: {t.get('ci_note') or 'too few bootstrap crossings'}"
        reps = (f"{self.n_replicates} weather replicates" if self.n_replicates >= 2 else
                "1 weather replicate, households resampled only")
        return (f"{self.scenario}: unstable threshold at {t['h']:.1f} SFU/person "
                f"({ci}; {reps}; bootstrap support {100 * t['support']:.0f}%)")


def _match(curves: np.ndarray, e: dict[str, Any], grid: np.ndarray, target: float,
           searchable: np.ndarray) -> np.ndarray:
    """Per curve, its crossing of ``e``'s kind nearest to ``e`` (NaN if none within
    MATCH_WINDOW)."""
    out = np.full(len(curves), np.nan)
    for b, m in enumerate(curves):
        cands = [c["z"] for c in crossings(grid, m - target, searchable) if c["kind"] == e["kind"]]
        if cands:
            c = min(cands, key=lambda v: abs(v - e["z"]))
            if abs(c - e["z"]) <= MATCH_WINDOW:
                out[b] = c
    return out


def _two_stage_weights(rng: np.random.Generator, members: list[np.ndarray], n_clusters: int,
                       size: int) -> np.ndarray:
    """Bootstrap weights (size, n_clusters): draw the replicates with replacement, then,
    for every copy of a drawn replicate, its households with replacement."""
    n_rep = len(members)
    k = rng.multinomial(n_rep, np.full(n_rep, 1.0 / n_rep), size=size)
    w = np.zeros((size, n_clusters))
    for r, idx in enumerate(members):  # a loop over replicates, not households
        w[:, idx] = rng.multinomial(k[:, r] * len(idx), np.full(len(idx), 1.0 / len(idx)))
    return w


def cross_coverage_rate(n_replicates: int, level: float = 0.95) -> float:
    """Expected share of independent batches' point estimates that a batch's CI covers.

    For a t interval over R replicates (mean of R normal replicate estimates), an
    independent batch's estimate lies inside with probability P(|T_{R-1}| < t* / sqrt(2)):
    about 0.89 for R = 4 and 0.85 for R = 10, not the nominal 0.95 (both estimates vary).
    """
    from scipy import stats

    df = max(int(n_replicates) - 1, 1)
    tcrit = stats.t.ppf(0.5 + level / 2, df)
    return float(2 * stats.t.cdf(tcrit / np.sqrt(2.0), df) - 1)


def estimate(trans: pd.DataFrame, *, scenario: str = "", bandwidth: float = BANDWIDTH,
             n_boot: int = 200, seed: int = 0, grid_points: int = GRID_POINTS,
             min_local: int = MIN_LOCAL, measure: str = "level") -> TrapEstimate:
    """Estimate m(z), its equilibria and their CIs over weather replicates.

    Every replicate is one weather path, the independent unit: households within a
    replicate share its winters. CI of an equilibrium (z scale, then h = exp(z) - 1),
    with R >= 2 replicates: z* ± t_{R-1, 0.975} · se, se the larger of the
    delete-one-replicate jackknife standard error and the two-stage bootstrap's
    (replicates, then households within each drawn replicate) standard deviation of the
    matched crossing times sqrt(R / (R - 1)) (the replicate stage shrinks the variance
    by (R - 1) / R). With one replicate: percentile interval of the household bootstrap,
    conditional on that weather path. The curve's bands and ``support`` come from the
    two-stage bootstrap. Below MIN_REPLICATES the interval is valid but unreliable.
    """
    from scipy import stats

    if len(trans) < 50:
        raise TrapError(f"only {len(trans)} year-on-year transitions{' for ' + scenario if scenario else ''}"
                        "; the trap diagnostic needs a household panel (batch with "
                        "--household-panel)")
    if measure not in MEASURES:
        raise TrapError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    z = trans["z"].to_numpy(dtype=float)
    if measure == "level":
        y = (1.0 + trans["h_next"].to_numpy(dtype=float)) / (1.0 + trans["h"].to_numpy(dtype=float))
        target = 1.0
    else:
        y = trans["z_next"].to_numpy(dtype=float) - z
        target = 0.0
    rep = (pd.factorize(trans["replicate"])[0] if "replicate" in trans
           else np.zeros(len(trans), dtype=np.int64))
    n_rep = int(rep.max()) + 1
    cl = pd.factorize(trans["cluster"])[0]
    n_cl = int(cl.max()) + 1
    rep_of_cl = np.zeros(n_cl, dtype=np.int64)
    rep_of_cl[cl] = rep
    members = [np.flatnonzero(rep_of_cl == r) for r in range(n_rep)]
    lo, hi = np.quantile(z, SUPPORT_QUANTILES)
    grid = np.linspace(max(z.min(), 0.0), z.max(), grid_points)
    rep_counts, rep_sums = _bin_stats(z, y, rep, grid, n_rep)
    a, b, local_n = _local_linear(rep_counts.sum(axis=0), rep_sums.sum(axis=0), grid, bandwidth)
    searchable = (grid >= lo) & (grid <= hi) & (local_n >= min_local)
    curve = Curve(grid=grid, m=a, slope=b, local_n=local_n, searchable=searchable,
                  target=target, measure=measure)
    # two-stage bootstrap, in chunks so that the weights stay small for big batches
    counts, sums = _bin_stats(z, y, cl, grid, n_cl, sparse=True)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, 2_000_000 // n_cl))
    parts = []
    for start in range(0, n_boot, chunk):
        w = _two_stage_weights(rng, members, n_cl, min(chunk, n_boot - start))
        bc, bs = (counts.T @ w.T).T, (sums.T @ w.T).T
        parts.append(_local_linear(np.asarray(bc), np.asarray(bs), grid, bandwidth)[0])
    boot_m = np.concatenate(parts)
    jack_m = None
    if n_rep >= 2:
        jack_m = _local_linear(rep_counts.sum(axis=0) - rep_counts,
                               rep_sums.sum(axis=0) - rep_sums, grid, bandwidth)[0]
    tcrit = float(stats.t.ppf(0.975, n_rep - 1)) if n_rep >= 2 else np.nan
    eq = []
    for e in crossings(grid, a - target, searchable):
        boot_z = _match(boot_m, e, grid, target, searchable)
        matched = boot_z[np.isfinite(boot_z)]
        se_boot = float(np.std(matched, ddof=1)) if len(matched) >= 10 else np.nan
        note = ""
        se = se_jack = np.nan
        if jack_m is not None:
            jz = _match(jack_m, e, grid, target, searchable)
            if np.isfinite(jz).all():
                se_jack = float(np.sqrt((n_rep - 1) / n_rep * np.sum((jz - jz.mean()) ** 2)))
                se = float(np.nanmax([se_jack, se_boot * np.sqrt(n_rep / (n_rep - 1))]))
                z_lo, z_hi = e["z"] - tcrit * se, e["z"] + tcrit * se
            else:
                gone = ", ".join(str(r) for r in np.flatnonzero(~np.isfinite(jz)))
                note = f"the crossing vanishes when replicate(s) {gone} are left out"
                z_lo = z_hi = np.nan
        elif len(matched) >= 10:
            z_lo, z_hi = np.quantile(matched, [0.025, 0.975])
        else:
            z_lo = z_hi = np.nan
        bz_lo, bz_hi = (np.quantile(matched, [0.025, 0.975]) if len(matched) >= 10
                        else (np.nan, np.nan))
        j = int(np.argmin(np.abs(grid - e["z"])))
        eq.append({
            "kind": e["kind"], "z": e["z"], "z_lo": float(max(z_lo, 0.0)), "z_hi": float(z_hi),
            "h": float(np.expm1(e["z"])), "h_lo": float(np.expm1(max(z_lo, 0.0))),
            "h_hi": float(np.expm1(z_hi)), "se_z": se, "se_z_jackknife": se_jack,
            "se_z_bootstrap": se_boot,
            "h_lo_boot": float(np.expm1(bz_lo)), "h_hi_boot": float(np.expm1(bz_hi)),
            "slope_45": float(curve.slope_45[j]),
            "support": float(len(matched) / n_boot), "local_n": float(local_n[j]),
            "replicates": n_rep, "ci_note": note,
        })
    return TrapEstimate(scenario=scenario, n_transitions=len(trans), n_clusters=n_cl,
                        bandwidth=bandwidth, curve=curve, boot_m=boot_m, equilibria=eq,
                        n_replicates=n_rep, jack_m=jack_m)


def herd_conversion(panel: pd.DataFrame, around: float | None = None,
                    window: float = 0.2) -> dict[str, Any]:
    """Sheep units per head and persons per household of herding households in ``panel``
    (every year), to convert head per household into SFU per person:
    h = head x sfu_per_head / persons.

    With ``around`` (SFU per person), only household-years with h within ±``window``
    (relative) of it: the species mix and family size of herds near a threshold.
    Returns sfu_per_head, persons, rows, and head_share (species -> share of head).
    """
    from model.species import SFU, SPECIES

    missing = [c for c in (*SPECIES, "persons", "herding") if c not in panel]
    if missing:
        raise TrapError(f"panel lacks column(s) {', '.join(missing)} for the head conversion")
    head = panel[list(SPECIES)].to_numpy(dtype=float)
    persons = np.maximum(panel["persons"].to_numpy(dtype=float), 1.0)
    sfu = head @ SFU
    sel = panel["herding"].to_numpy(dtype=bool) & (head.sum(axis=1) > 0)
    if around is not None:
        sel &= np.abs(sfu / persons / around - 1.0) <= window
    if not sel.any():
        return {"sfu_per_head": np.nan, "persons": np.nan, "rows": 0, "head_share": {}}
    total = head[sel].sum(axis=0)
    return {"sfu_per_head": float(total @ SFU / total.sum()),
            "persons": float(persons[sel].mean()), "rows": int(sel.sum()),
            "head_share": {s: float(v) for s, v in zip(SPECIES, total / total.sum(), strict=True)}}


def trap_share(panel_df: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Share of households below ``threshold`` (SFU per person) per scenario, replicate, year.

    The households of a year are those in the panel that year: the households living in
    the region then (those founded during the run from their first year on, dissolved
    ones no longer). Households not herding count as h = 0 (below any positive
    threshold): those that left herding and those founded without animals, who live on
    wages like them. Columns:
    scenario, replicate, year, households, below, trap_share, trap_share_herding
    (share among households still herding).
    """
    df = panel_df
    scen = df["scenario"] if "scenario" in df else pd.Series("scenario", index=df.index)
    rep = df["replicate"] if "replicate" in df else pd.Series(0, index=df.index)
    herding = df["herding"].to_numpy(dtype=bool)
    h = np.where(herding, df["herd_sfu"].to_numpy(dtype=float)
                 / np.maximum(df["persons"].to_numpy(dtype=float), 1.0), 0.0)
    below = h < threshold
    tmp = pd.DataFrame({"scenario": scen.to_numpy(), "replicate": rep.to_numpy(),
                        "year": df["year"].to_numpy(), "below": below,
                        "below_herding": below & herding, "herding": herding})
    g = tmp.groupby(["scenario", "replicate", "year"], sort=True)
    out = g.agg(households=("below", "size"), below=("below", "sum"),
                herding=("herding", "sum"), below_herding=("below_herding", "sum")).reset_index()
    out["trap_share"] = out["below"] / out["households"]
    out["trap_share_herding"] = np.where(out["herding"] > 0,
                                         out["below_herding"] / out["herding"].clip(lower=1),
                                         np.nan)
    out["threshold_sfu_per_person"] = float(threshold)
    return out.drop(columns=["below_herding"])


# ---------------------------------------------------------------- driver
def read_panel(results_dir: Path) -> pd.DataFrame:
    from experiments.report.provenance import read_results_table

    path = Path(results_dir) / "panel.parquet"
    if not Path(results_dir).is_dir():
        raise TrapError(f"results folder not found: {results_dir}")
    if not path.exists():
        raise TrapError(f"{path} not found: run the batch with --household-panel F (F > 0) "
                        "so that it records a household panel")
    # scenario and replicate may be absent (a single run's panel)
    required = [c for c in PANEL_COLUMNS if c not in ("scenario", "replicate")]
    return read_results_table(results_dir, "panel.parquet", TrapError, columns=required,
                              read_columns=(*PANEL_COLUMNS, ID_COLUMN),
                              redo="run the batch again with --household-panel F (F > 0)")


def choose_reference(scenarios: list[str], wanted: str | None) -> str:
    if wanted is not None:
        if wanted not in scenarios:
            raise TrapError(f"scenario {wanted!r} not in the panel; has {', '.join(scenarios)}")
        return wanted
    return "baseline" if "baseline" in scenarios else scenarios[0]


def analyse(panel: pd.DataFrame, *, reference: str | None = None, bandwidth: float = BANDWIDTH,
            n_boot: int = 200, seed: int = 0, all_scenarios: bool = True,
            progress: bool = False, measure: str = "level") -> tuple[dict[str, TrapEstimate], str, pd.DataFrame]:
    """Estimates per scenario, the reference scenario, and trap shares at its threshold.

    With no threshold in the reference scenario the trap shares are empty.
    """
    from tqdm.auto import tqdm

    trans = transitions(panel)
    scenarios = sorted(trans["scenario"].astype(str).unique())
    if not scenarios:
        raise TrapError("the panel has no year-on-year transitions of herding households")
    ref = choose_reference(scenarios, reference)
    names = scenarios if all_scenarios else [ref]
    ests = {}
    for s in tqdm(names, desc="trap", unit="scenario", disable=not progress, leave=False):
        sub = trans[trans["scenario"].astype(str) == s]
        ests[s] = estimate(sub, scenario=s, bandwidth=bandwidth, n_boot=n_boot, seed=seed,
                           measure=measure)
    thr = ests[ref].threshold
    shares = trap_share(panel, thr["h"]) if thr is not None else pd.DataFrame()
    return ests, ref, shares


def equilibria_frame(ests: dict[str, TrapEstimate]) -> pd.DataFrame:
    rows = []
    for s, e in ests.items():
        if not e.equilibria:
            rows.append({"scenario": s, "kind": "none"})
        for q in e.equilibria:
            rows.append({"scenario": s, **q, "n_transitions": e.n_transitions,
                         "n_households": e.n_clusters, "bandwidth": e.bandwidth})
    return pd.DataFrame(rows)

def curve_frame(ests: dict[str, TrapEstimate]) -> pd.DataFrame:
    """Every scenario's fitted curve on its grid, with the 95% bootstrap band of the
    expected next-year herd (the table trap_curve.csv)."""
    return pd.concat([pd.DataFrame({
        "scenario": s, "measure": e.curve.measure, "z": e.curve.grid, "h": np.expm1(e.curve.grid),
        "response": e.curve.m, "expected_h_next": e.curve.expected_h(),
        "expected_h_next_lo": np.nanquantile(e.curve.expected_h(e.boot_m), 0.025, axis=0),
        "expected_h_next_hi": np.nanquantile(e.curve.expected_h(e.boot_m), 0.975, axis=0),
        "slope_45": e.curve.slope_45, "local_n": e.curve.local_n,
        "searchable": e.curve.searchable}) for s, e in ests.items()], ignore_index=True)


def read_threshold(path: Path) -> dict[str, Any] | None:
    """The threshold recorded in a ``trap.json`` (of ``herdtrap trap`` or ``herdtrap validate``).

    Returns ``{"value", "lo", "hi", "support", "file", "record"}`` (SFU per person; the
    CI bounds may be None), or None if the file is missing, unreadable or holds no
    threshold.
    """
    import json
    import math

    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        value = float(record["threshold_sfu_per_person"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    thr = record.get("threshold") if isinstance(record.get("threshold"), dict) else {}

    def bound(key: str) -> float | None:
        try:
            x = float(thr.get(key))
        except (TypeError, ValueError):
            return None
        return x if math.isfinite(x) else None

    return {"value": value, "lo": bound("h_lo"), "hi": bound("h_hi"),
            "support": bound("support"), "file": Path(path), "record": record}

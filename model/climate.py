"""Winter (dzud) generator: one draw per simulated year, taken in autumn.

Two regimes (MODEL.md, process 1):

* ``draw_stochastic_winter`` — the calibrated generator. Per aimag, the latent
  y = logit(SFU-weighted adult mortality) is drawn from a two-component
  Gaussian mixture (ordinary vs dzud winter) fitted to NSO 1992–2024, by
  quantile transform of a Gaussian copula that links aimags (copula rho fitted
  so the between-aimag correlation of y matches NSO).
  Winters persist: the copula scores follow a stationary AR(1) per aimag,
  ``Z_t = phi * Z_{t-1} + sqrt(1 - phi^2) * L' eps_t`` (phi fitted to the NSO
  year-to-year correlation; ``L'`` keeps the between-aimag correlation of Z at
  the fitted copula), so bad winters cluster as 1999–2002 did while each
  aimag's marginal law of y is unchanged. The first winter (no previous
  score) is drawn from the stationary law, Z ~ N(0, C).
  Species rates follow ``logit(m_s) = intercept_s + slope_s * y + e_s``.
  Soums share the aimag's common factor and add mean-preserving lognormal
  noise, so losses covary across soums (index insurance works, basis risk is
  real).
* ``replay_winter`` — the observed aimag × species rates of one loss year with
  the same soum noise.

Both also return a pre-winter ``signal`` (standard-normal scale) correlated
with the aimag's standardised ``severity``, so anticipatory policies can act
in autumn before the winter's losses are applied.

Common random numbers: every call consumes exactly
``n_aimags * 8 + n_soums * 6`` standard normals in one block, whatever the
parameters or outcomes, so paired scenario runs stay aligned. The persistence
state (``Winter.latent``, the aimag copula scores of the last winter) is passed
back in by the caller (the model keeps it between years); it depends only on
the climate stream, so replicate r of every scenario sees the same weather.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from model.region import Region, nearest_corr_psd
from model.species import NSO_MORTALITY_COLUMNS, SPECIES

MAX_MORTALITY = 0.95
MORTALITY_FILE = "mortality_rates_aimag.csv"


@dataclass(frozen=True, eq=False)
class Winter:
    soum_mortality: np.ndarray  # (n_soums, 5) adult mortality of the winter, in [0, 0.95]
    aimag_mortality: np.ndarray  # (n_aimags, 5)
    severity: np.ndarray  # (n_aimags,) standardised latent severity, higher = worse
    signal: np.ndarray  # (n_aimags,) pre-winter signal, corr(signal, severity) = signal_corr
    dzud_regime: np.ndarray | None = None  # (n_aimags,) bool, stochastic draws only
    year: int | None = None  # loss year, replay only
    latent: np.ndarray | None = None  # (n_aimags,) copula score Z of this winter (persistence)


def n_draws(region: Region) -> int:
    """Standard normals consumed by one call of either generator."""
    return 8 * region.n_aimags + 6 * region.n_soums


def _split(z: np.ndarray, n_a: int, n_s: int):
    o = 0
    z_regime = z[o:o + n_a]
    o += n_a
    z_within = z[o:o + n_a]
    o += n_a
    z_signal = z[o:o + n_a]
    o += n_a
    z_species = z[o:o + 5 * n_a].reshape(n_a, 5)
    o += 5 * n_a
    z_soum = z[o:o + n_s]
    o += n_s
    z_soum_species = z[o:o + 5 * n_s].reshape(n_s, 5)
    return z_regime, z_within, z_signal, z_species, z_soum, z_soum_species


def _signal(severity: np.ndarray, z_signal: np.ndarray, signal_corr: float) -> np.ndarray:
    c = float(np.clip(signal_corr, -1.0, 1.0))
    return c * severity + np.sqrt(1.0 - c * c) * z_signal


def _soum_rates(aimag_m: np.ndarray, region: Region, z_soum: np.ndarray,
                z_soum_species: np.ndarray, soum_noise_sd: float,
                species_noise_share: float) -> np.ndarray:
    sd = float(soum_noise_sd)
    s = float(np.clip(species_noise_share, 0.0, 1.0))
    eta = sd * (np.sqrt(1.0 - s) * z_soum[:, None] + np.sqrt(s) * z_soum_species)
    mult = np.exp(eta - 0.5 * sd * sd)  # E[mult] = 1: mean-preserving on the rate scale
    return np.minimum(MAX_MORTALITY, aimag_m[region.soum_aimag] * mult)


# Quantile tables of the fitted mixtures on a uniform grid of standard-normal scores.
Z_GRID_MIN, Z_GRID_MAX, Z_GRID_N = -8.0, 8.0, 4001
_Z_GRID = np.linspace(Z_GRID_MIN, Z_GRID_MAX, Z_GRID_N)
_Z_STEP = (Z_GRID_MAX - Z_GRID_MIN) / (Z_GRID_N - 1)


def mixture_quantile_table(p_dzud, mu_normal, sd_normal, mu_dzud, sd_dzud,
                           z_grid: np.ndarray = _Z_GRID) -> tuple[np.ndarray, np.ndarray]:
    """y = F^-1(Phi(z)) of each aimag's 2-component mixture on ``z_grid``, and the
    posterior probability of the dzud component at that y. Arrays (n_aimags, len(z_grid)).
    """
    p = np.atleast_1d(np.asarray(p_dzud, dtype=float))[:, None]
    mn, sn = np.atleast_1d(mu_normal)[:, None], np.atleast_1d(sd_normal)[:, None]
    md, sdd = np.atleast_1d(mu_dzud)[:, None], np.atleast_1d(sd_dzud)[:, None]
    u = ndtr(z_grid)[None, :]
    lo = np.minimum(mn - 12 * sn, md - 12 * sdd) + 0 * u
    hi = np.maximum(mn + 12 * sn, md + 12 * sdd) + 0 * u
    for _ in range(60):  # bisection on the monotone mixture CDF
        mid = 0.5 * (lo + hi)
        cdf = (1 - p) * ndtr((mid - mn) / sn) + p * ndtr((mid - md) / sdd)
        below = cdf < u
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    y = 0.5 * (lo + hi)
    dn = (1 - p) * np.exp(-0.5 * ((y - mn) / sn) ** 2) / sn
    dd = p * np.exp(-0.5 * ((y - md) / sdd) ** 2) / sdd
    post = dd / np.maximum(dn + dd, 1e-300)
    return y, post


#: Quantile tables by mixture parameters, shared by the regions of one process (the
#: models of a batch worker): a table takes about 15 ms to compute.
_TABLE_CACHE: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}


def _tables(region: Region, dzud_prob_scale: float) -> tuple[np.ndarray, np.ndarray]:
    p = region.dzud_arrays
    key = round(float(dzud_prob_scale), 12)
    tab = p.cache.get(("tables", key))
    if tab is None:
        args = (np.clip(p.p_dzud * key, 0.0, 1.0), p.mu_normal, p.sd_normal, p.mu_dzud,
                p.sd_dzud)
        shared = b"|".join(np.ascontiguousarray(a, dtype=float).tobytes() for a in args)
        tab = _TABLE_CACHE.get(shared)
        if tab is None:
            tab = mixture_quantile_table(*args)
            for a in tab:
                a.flags.writeable = False
            if len(_TABLE_CACHE) > 64:
                _TABLE_CACHE.clear()
            _TABLE_CACHE[shared] = tab
        if len(p.cache) > 64:
            p.cache.clear()
        p.cache[("tables", key)] = tab
    return tab


MAX_PERSISTENCE = 0.95


def persistence_arrays(region: Region, persistence_scale: float = 1.0
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(phi, L') of the AR(1) on the copula scores: phi = clip(fitted phi × scale,
    ±0.95) per aimag, and L' the Cholesky factor of the innovation correlation

        C'_ij = C_ij (1 − phi_i phi_j) / sqrt((1 − phi_i²)(1 − phi_j²)),

    which keeps the stationary correlation of Z between aimags at the fitted
    copula C whatever the phis (equal phis give C' = C)."""
    p = region.dzud_arrays
    key = ("ar", round(float(persistence_scale), 12))
    out = p.cache.get(key)
    if out is None:
        phi = np.clip(p.persistence * key[1], -MAX_PERSISTENCE, MAX_PERSISTENCE)
        s = np.sqrt(1.0 - phi * phi)
        c = p.corr * (1.0 - np.outer(phi, phi)) / np.outer(s, s)
        np.fill_diagonal(c, 1.0)
        if np.any(np.linalg.eigvalsh(c) <= 0):
            c = nearest_corr_psd(c)
        out = (phi, np.linalg.cholesky(c))
        if len(p.cache) > 64:
            p.cache.clear()
        p.cache[key] = out
    return out


def _latent_scores(region: Region, z_copula: np.ndarray, previous: np.ndarray | None,
                   persistence_scale: float) -> np.ndarray:
    """This winter's copula scores Z from the block's standard normals."""
    if previous is None:  # stationary law: Z ~ N(0, C)
        return region.dzud_arrays.chol @ z_copula if region.n_aimags > 1 else z_copula
    phi, chol = persistence_arrays(region, persistence_scale)
    eps = chol @ z_copula if region.n_aimags > 1 else z_copula
    return phi * np.asarray(previous, dtype=float) + np.sqrt(1.0 - phi * phi) * eps


def copula_scores(region: Region, y: np.ndarray) -> np.ndarray:
    """Z = Phi^-1(F_a(y)): the copula score of an observed y = logit(aimag SFU
    mortality) under each aimag's fitted mixture (used to carry an observed
    winter into the persistence state)."""
    p = region.dzud_arrays
    u = ((1 - p.p_dzud) * ndtr((y - p.mu_normal) / p.sd_normal)
         + p.p_dzud * ndtr((y - p.mu_dzud) / p.sd_dzud))
    return ndtri(np.clip(u, 1e-12, 1 - 1e-12))


def _interp_rows(table: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Row-wise linear interpolation of table[i] (on the z grid) at z[i]."""
    x = (np.clip(z, Z_GRID_MIN, Z_GRID_MAX) - Z_GRID_MIN) / _Z_STEP
    i = np.minimum(x.astype(np.intp), Z_GRID_N - 2)
    f = x - i
    rows = np.arange(table.shape[0])
    return table[rows, i] * (1 - f) + table[rows, i + 1] * f


def draw_stochastic_winter(
    rng: np.random.Generator,
    region: Region,
    *,
    soum_noise_sd: float,
    signal_corr: float,
    severity_shift: float = 0.0,
    dzud_prob_scale: float = 1.0,
    species_noise_share: float = 0.2,
    persistence_scale: float = 1.0,
    previous: np.ndarray | None = None,
) -> Winter:
    """Draw one winter from the fitted generator.

    Per aimag, y = F_a^-1(Phi(Z_a)) where Z ~ N(0, C) (Gaussian copula, C fitted
    so the between-aimag correlation of y matches NSO) and F_a is the aimag's
    fitted ordinary/dzud mixture; the regime is then drawn from its posterior
    given y, so (regime, y) has exactly the mixture's joint law.

    previous: the last winter's ``Winter.latent`` (None: first winter, drawn from
        the stationary law). Then Z = phi·previous + sqrt(1 − phi²)·L'·eps, a
        stationary AR(1) with the same N(0, C) law, so the marginals and the
        between-aimag copula are unchanged (``persistence_arrays``).
    persistence_scale: multiplies the fitted AR coefficient phi of every aimag.

    severity_shift: added to y = logit(aimag SFU mortality) (sensitivity analysis).
    dzud_prob_scale: multiplies the fitted p_dzud (clipped to [0, 1]).
    species_noise_share: share of the soum log-noise variance that is
        species-specific (the rest is one factor per soum shared by species).
    """
    p = region.dzud_arrays
    n_a, n_s = region.n_aimags, region.n_soums
    z = rng.standard_normal(8 * n_a + 6 * n_s)
    z_regime, z_copula, z_signal, z_species, z_soum, z_soum_species = _split(z, n_a, n_s)
    z_copula = _latent_scores(region, z_copula, previous, persistence_scale)
    y_tab, post_tab = _tables(region, dzud_prob_scale)
    y = _interp_rows(y_tab, z_copula)
    dzud = ndtr(z_regime) < _interp_rows(post_tab, z_copula)
    y = y + severity_shift
    severity = (y - p.y_mean) / p.y_sd
    logit_m = p.intercept + p.slope * y[:, None] + p.resid_sd * z_species
    aimag_m = np.minimum(MAX_MORTALITY, 1.0 / (1.0 + np.exp(-logit_m)))
    soum_m = _soum_rates(aimag_m, region, z_soum, z_soum_species, soum_noise_sd,
                         species_noise_share)
    return Winter(
        soum_mortality=soum_m,
        aimag_mortality=aimag_m,
        severity=severity,
        signal=_signal(severity, z_signal, signal_corr),
        dzud_regime=dzud,
        latent=z_copula,
    )


_OBSERVED_CACHE: dict[tuple, pd.DataFrame] = {}


def observed_mortality(data_dir: Path) -> pd.DataFrame:
    """:func:`load_observed_mortality`, read once per process while the file is unchanged
    (the replay models of a hindcast or a fit read it for every run; callers only read it)."""
    path = Path(data_dir) / MORTALITY_FILE
    try:
        st = path.stat()
    except OSError:
        return load_observed_mortality(data_dir)
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _OBSERVED_CACHE:
        if len(_OBSERVED_CACHE) > 16:
            _OBSERVED_CACHE.clear()
        _OBSERVED_CACHE[key] = load_observed_mortality(data_dir)
    return _OBSERVED_CACHE[key]


_SFU_SERIES_CACHE: dict[int, tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]] = {}


def sfu_loss_series(observed: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{aimag (lower case): (loss years, NSO SFU-weighted rate)} of a table of
    :func:`load_observed_mortality`, built once per table object: every model reads its
    households' initial loss memory from the same cached table (about 2 ms a model
    otherwise)."""
    hit = _SFU_SERIES_CACHE.get(id(observed))
    if hit is not None and hit[0] is observed:
        return hit[1]
    t = observed.assign(_aimag=observed["aimag"].str.lower()).drop_duplicates(["_aimag", "year"])
    series = {a: (g["year"].to_numpy(), g["sfu_rate"].to_numpy(dtype=float))
              for a, g in t.groupby("_aimag", sort=False)}
    if len(_SFU_SERIES_CACHE) > 16:
        _SFU_SERIES_CACHE.clear()
    _SFU_SERIES_CACHE[id(observed)] = (observed, series)  # the table is kept: its id stays its own
    return series


def load_observed_mortality(data_dir: Path) -> pd.DataFrame:
    """NSO aimag adult mortality, tidy: aimag, year, species, rate, sfu_rate.

    ``year`` is the loss year t (winter (t-1)/t); ``sfu_rate`` is the NSO
    sheep-unit-weighted rate of all species (All_SFU), repeated per species row.
    """
    path = Path(data_dir) / MORTALITY_FILE
    if not path.is_file():
        raise FileNotFoundError(f"NSO mortality table not found: {path}")
    from model.nso import read_table

    rates = (*NSO_MORTALITY_COLUMNS.values(), "All_SFU")
    raw = read_table(path, ("Aimag", "Year", *rates), integers=("Year",), rates=rates)
    cols = {v: k for k, v in NSO_MORTALITY_COLUMNS.items()}
    long = raw.melt(id_vars=["Aimag", "Year", "All_SFU"], value_vars=list(cols),
                    var_name="column", value_name="rate")
    long["species"] = long["column"].map(cols)
    long = long.rename(columns={"Aimag": "aimag", "Year": "year", "All_SFU": "sfu_rate"})
    long["species"] = pd.Categorical(long["species"], categories=list(SPECIES), ordered=True)
    long = long.sort_values(["aimag", "year", "species"]).reset_index(drop=True)
    long["species"] = long["species"].astype(str)
    long["year"] = long["year"].astype(int)
    return long[["aimag", "year", "species", "rate", "sfu_rate"]]


def replay_winter(
    rng: np.random.Generator,
    region: Region,
    observed: pd.DataFrame,
    year: int,
    *,
    soum_noise_sd: float,
    signal_corr: float,
    species_noise_share: float = 0.2,
) -> Winter:
    """The observed aimag × species rates of loss year ``year`` plus soum noise.

    Consumes the same number of draws as ``draw_stochastic_winter``. A missing
    species rate falls back to the aimag's SFU rate of that year. ``latent`` is
    the observed winter's copula score (``copula_scores``), so a stochastic
    winter after a replayed one follows on from it.
    """
    n_a, n_s = region.n_aimags, region.n_soums
    rows = observed[observed["year"] == int(year)]
    aimag_m = np.empty((n_a, 5))
    sfu = np.empty(n_a)
    for i, a in enumerate(region.aimags):
        r = rows[rows["aimag"].str.lower() == a.lower()]
        if r.empty:
            have = observed[observed["aimag"].str.lower() == a.lower()]["year"]
            span = f"{have.min()}–{have.max()}" if len(have) else "none"
            raise ValueError(
                f"no observed mortality for aimag {a!r} in loss year {year} "
                f"(available years for {a}: {span})"
            )
        by_sp = dict(zip(r["species"], r["rate"], strict=True))
        sfu[i] = float(r["sfu_rate"].iloc[0])
        aimag_m[i] = [by_sp.get(s, np.nan) for s in SPECIES]
        aimag_m[i] = np.where(np.isfinite(aimag_m[i]), aimag_m[i], sfu[i])
    aimag_m = np.clip(aimag_m, 0.0, MAX_MORTALITY)
    p = region.dzud_arrays
    y = np.log(np.clip(sfu, 1e-4, MAX_MORTALITY) / (1 - np.clip(sfu, 1e-4, MAX_MORTALITY)))
    severity = (y - p.y_mean) / p.y_sd
    z = rng.standard_normal(8 * n_a + 6 * n_s)
    _, _, z_signal, _, z_soum, z_soum_species = _split(z, n_a, n_s)
    soum_m = _soum_rates(aimag_m, region, z_soum, z_soum_species, soum_noise_sd,
                         species_noise_share)
    return Winter(
        soum_mortality=soum_m,
        aimag_mortality=aimag_m,
        severity=severity,
        signal=_signal(severity, z_signal, signal_corr),
        year=int(year),
        latent=copula_scores(region, y),
    )


def aimag_sfu_mortality(winter: Winter, region: Region) -> np.ndarray:
    """(n_aimags,) SFU-weighted mortality: species weighted by the aimag's 2019
    stock × SFU, soums weighted by their 2019 livestock."""
    wsp = region.species_sfu_weight  # (n_a, 5)
    per_soum = (winter.soum_mortality * wsp[region.soum_aimag]).sum(axis=1)
    return np.bincount(region.soum_aimag, weights=per_soum * region.soum_livestock_weight,
                       minlength=region.n_aimags)

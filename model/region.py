"""A study region: one or more aimags with their soums and fitted parameters.

The per-aimag numbers live in ``model/data/regions/<aimag>.json``; they are
derived from the NSO tables (see ``default_data_dir()``) by
``herdtrap calibrate``, which records the source of every block.
``load_region`` concatenates aimags into one :class:`Region` whose arrays are
ordered aimag by aimag, soums within an aimag in NSO code order.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from model.species import N_SPECIES, SFU, SPECIES

REPO_ROOT = Path(__file__).resolve().parent.parent
REGIONS_DIR = Path(__file__).resolve().parent / "data" / "regions"
SEASONS: tuple[str, ...] = ("spring", "summer", "autumn", "winter")
N_SEASONS = len(SEASONS)
#: Herd-size classes (head) of the NSO table; the top class (>200) is open.
HERD_CLASS_LABELS: tuple[str, ...] = ("<=10", "11-30", "31-50", "51-100", "101-200", ">200")


#: The NSO tables shipped with herdtrap (package data; attribution in its README.md).
SHIPPED_DATA_DIR = Path(__file__).resolve().parent / "data" / "nso"
#: The project's shared data folder beside a checkout, used when present.
SHARED_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "nso"
#: The table every NSO folder must hold (it marks ../shared/data/nso as present).
_MARKER = "mortality_rates_aimag.csv"


def default_data_dir() -> Path:
    """Directory holding the NSO CSV tables; the one place that decides.

    In order: ``$HERDTRAP_NSO_DATA`` if set; else ``../shared/data/nso`` beside the
    repository if it holds the tables; else the copy shipped with herdtrap
    (``model/data/nso``). A ``--data DIR`` flag of a command overrides all three.
    """
    env = os.environ.get("HERDTRAP_NSO_DATA")
    if env:
        return Path(env)
    if (SHARED_DATA_DIR / _MARKER).is_file():
        return SHARED_DATA_DIR
    return SHIPPED_DATA_DIR


def data_dir_label(path: Path | str) -> str:
    """How reports and manifests name an NSO folder (or a file in one).

    The shipped copy is ``model/data/nso (shipped with herdtrap)``; a folder beside
    the repository is named relative to the repository's parent
    (``shared/data/nso``); anything else by its path.
    """
    p = Path(path)
    try:
        rp = p.resolve()
    except OSError:
        return str(p)
    if rp == SHIPPED_DATA_DIR or SHIPPED_DATA_DIR in rp.parents:
        return f"{rp.relative_to(REPO_ROOT)} (shipped with herdtrap)"
    try:
        return str(rp.relative_to(REPO_ROOT.parent))
    except ValueError:
        return str(p)


def region_file_name(aimag: str) -> str:
    """File name of an aimag's calibration JSON (lower case, spaces -> '_')."""
    return aimag.strip().lower().replace(" ", "_") + ".json"


def available_aimags(regions_dir: Path | None = None) -> list[str]:
    """Aimags with a calibration file (file stems, lower case)."""
    d = Path(regions_dir) if regions_dir is not None else REGIONS_DIR
    return sorted(p.stem for p in d.glob("*.json"))


@dataclass(frozen=True, eq=False)
class DzudArrays:
    """The dzud generator parameters of all aimags as arrays (for fast draws).

    y = logit(aimag SFU-weighted adult mortality) follows a two-component
    Gaussian mixture per aimag; species rates follow
    ``logit(m_s) = intercept_s + slope_s * y + N(0, resid_sd_s)``.
    Aimags are linked by a Gaussian copula with correlation ``corr``; the copula
    scores follow an AR(1) from year to year with coefficient ``persistence``
    (0 in region files written before it was fitted: independent winters).
    """

    p_dzud: np.ndarray  # (n_aimags,)
    mu_normal: np.ndarray
    sd_normal: np.ndarray
    mu_dzud: np.ndarray
    sd_dzud: np.ndarray
    y_mean: np.ndarray  # mixture mean of y (for standardising severity)
    y_sd: np.ndarray  # mixture sd of y
    intercept: np.ndarray  # (n_aimags, 5)
    slope: np.ndarray  # (n_aimags, 5)
    resid_sd: np.ndarray  # (n_aimags, 5)
    corr: np.ndarray  # (n_aimags, n_aimags) copula correlation between aimags
    chol: np.ndarray  # lower Cholesky factor of corr
    persistence: np.ndarray  # (n_aimags,) AR(1) coefficient phi of the copula scores
    cache: dict = field(default_factory=dict, repr=False)  # quantile tables (model.climate)


@dataclass(frozen=True, eq=False)
class Region:
    """One or more aimags, concatenated. Per-soum arrays have length n_soums."""

    aimags: tuple[str, ...]
    soum_codes: np.ndarray  # int, (n_soums,)
    soum_names: tuple[str, ...]
    soum_aimag: np.ndarray  # int index into aimags, (n_soums,)
    soum_herder_households: np.ndarray  # (n_soums,) 2019
    soum_livestock_head: np.ndarray  # (n_soums,) 2019, head
    soum_children_under5: np.ndarray  # (n_soums,) 2019
    soum_population: np.ndarray  # (n_soums,) 2019
    soum_price_factor: np.ndarray  # (n_soums,) soum price / aimag price (2021)
    base_price_kmnt: np.ndarray  # (n_aimags, 5) annual mean, thousand MNT per head
    season_price_multiplier: np.ndarray  # (n_aimags, 4, 5) spring, summer, autumn, winter
    stock_2019: np.ndarray  # (n_aimags, 5) head, year-end 2019
    herd_class_lower: np.ndarray  # (n_aimags, 6) head, inclusive
    herd_class_upper: np.ndarray  # (n_aimags, 6) head, inclusive; inf for the top class
    herd_class_households: np.ndarray  # (n_aimags, 6) households with livestock, 2019
    # (herders' classes: model.population.herder_class_households)
    top_class_pareto_alpha: np.ndarray  # (n_aimags,) Pareto shape above x_min
    top_class_x_min: np.ndarray  # (n_aimags,) Pareto scale (head)
    dzud: list[dict[str, Any]]  # per aimag: the fitted generator block of the JSON
    dzud_arrays: DzudArrays
    sources: dict[str, Any]  # per aimag: {block: source string}
    notes: dict[str, list[str]] = field(default_factory=dict)  # per aimag: fallbacks used

    @property
    def n_aimags(self) -> int:
        return len(self.aimags)

    @property
    def n_soums(self) -> int:
        return len(self.soum_names)

    @cached_property
    def species_sfu_weight(self) -> np.ndarray:
        """(n_aimags, 5) share of each species in the aimag's 2019 stock in SFU."""
        w = self.stock_2019 * SFU
        return w / w.sum(axis=1, keepdims=True)

    @cached_property
    def aimag_herder_households(self) -> np.ndarray:
        """(n_aimags,) 2019 herder households of the aimag (sum over its soums)."""
        return np.bincount(self.soum_aimag, weights=self.soum_herder_households,
                           minlength=self.n_aimags)

    @cached_property
    def soum_livestock_weight(self) -> np.ndarray:
        """(n_soums,) soum share of its aimag's livestock (sums to 1 per aimag)."""
        tot = np.bincount(self.soum_aimag, weights=self.soum_livestock_head,
                          minlength=self.n_aimags)
        return self.soum_livestock_head / tot[self.soum_aimag]

    def aimag_soums(self, aimag: str | int) -> np.ndarray:
        """Indices of the soums of one aimag (by name or index)."""
        i = self.aimags.index(aimag) if isinstance(aimag, str) else int(aimag)
        return np.flatnonzero(self.soum_aimag == i)


def nearest_corr_psd(c: np.ndarray) -> np.ndarray:
    """Clip negative eigenvalues so a correlation matrix admits a Cholesky factor."""
    c = 0.5 * (c + c.T)
    vals, vecs = np.linalg.eigh(c)
    vals = np.clip(vals, 1e-6, None)
    c2 = (vecs * vals) @ vecs.T
    d = np.sqrt(np.diag(c2))
    return c2 / np.outer(d, d)


def load_region(aimags: list[str] | tuple[str, ...], regions_dir: Path | None = None) -> Region:
    """Load and concatenate the calibrated aimags (names are case-insensitive).

    A region is built once per process and content of the files: later calls with the
    same files return the same :class:`Region`, whose arrays are read-only."""
    if isinstance(aimags, str):
        aimags = [aimags]
    if not aimags:
        raise ValueError("load_region needs at least one aimag")
    d = Path(regions_dir) if regions_dir is not None else REGIONS_DIR
    files = []
    for a in aimags:
        path = d / region_file_name(a)
        if not path.is_file():
            avail = ", ".join(available_aimags(d)) or "(none)"
            raise ValueError(
                f"no calibration file for aimag {a!r} ({path}); available aimags: {avail}. "
                "Run `herdtrap calibrate --aimag NAME` to create one."
            )
        files.append(path.read_bytes())
    return _region_of_files(tuple(aimags), tuple(files))


@lru_cache(maxsize=16)
def _region_of_files(aimags: tuple[str, ...], files: tuple[bytes, ...]) -> Region:
    """The region of the calibration files' contents ``files`` (one per aimag)."""
    region = _build_region(aimags, [json.loads(f.decode("utf-8")) for f in files])
    for obj in (region, region.dzud_arrays):
        for value in vars(obj).values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False  # (shared by the models of the process)
    return region


def _build_region(aimags: tuple[str, ...], blobs: list[dict[str, Any]]) -> Region:
    names = tuple(b["aimag"] for b in blobs)
    if len(set(names)) != len(names):
        raise ValueError(f"aimag listed twice: {list(aimags)}")

    codes, snames, sidx, hh, head, ch5, pop, pf = [], [], [], [], [], [], [], []
    for i, b in enumerate(blobs):
        for s in b["soums"]["rows"]:
            codes.append(int(s["code"]))
            snames.append(str(s["name"]))
            sidx.append(i)
            hh.append(float(s["herder_households"]))
            head.append(float(s["livestock_head"]))
            ch5.append(float(s["children_under5"]))
            pop.append(float(s["population"]))
            pf.append(float(s.get("price_factor", 1.0)))

    def sp(vals: dict[str, float]) -> list[float]:
        return [float(vals[s]) for s in SPECIES]

    base_price = np.array([sp(b["prices"]["annual_mean_kmnt"]) for b in blobs])
    season = np.array(
        [[sp(b["prices"]["season_multiplier"][se]) for se in SEASONS] for b in blobs]
    )
    stock = np.array([sp(b["stock_2019"]["head"]) for b in blobs])
    hc = [b["herd_classes"] for b in blobs]
    lower = np.array([[float(c["lower"]) for c in h["classes"]] for h in hc])
    upper = np.array(
        [[np.inf if c["upper"] is None else float(c["upper"]) for c in h["classes"]] for h in hc]
    )
    hh_cls = np.array([[float(c["households"]) for c in h["classes"]] for h in hc])
    alpha = np.array([float(h["top_class"]["pareto_alpha"]) for h in hc])
    xmin = np.array([float(h["top_class"]["x_min"]) for h in hc])

    dz = [b["dzud"] for b in blobs]
    n = len(blobs)
    corr = np.eye(n)
    for i in range(n):
        for j in range(n):
            if i != j:
                cij = dz[i].get("copula_corr", {}).get(names[j])
                cji = dz[j].get("copula_corr", {}).get(names[i])
                vals = [v for v in (cij, cji) if v is not None]
                corr[i, j] = float(np.mean(vals)) if vals else 0.0
    corr = nearest_corr_psd(corr)

    def spx(sub: str) -> np.ndarray:
        return np.array([[float(z["species"][s][sub]) for s in SPECIES] for z in dz])

    arrays = DzudArrays(
        p_dzud=np.array([float(z["p_dzud"]) for z in dz]),
        mu_normal=np.array([float(z["mu_normal"]) for z in dz]),
        sd_normal=np.array([float(z["sd_normal"]) for z in dz]),
        mu_dzud=np.array([float(z["mu_dzud"]) for z in dz]),
        sd_dzud=np.array([float(z["sd_dzud"]) for z in dz]),
        y_mean=np.array([float(z["y_mean"]) for z in dz]),
        y_sd=np.array([float(z["y_sd"]) for z in dz]),
        intercept=spx("intercept"),
        slope=spx("slope"),
        resid_sd=spx("resid_sd"),
        corr=corr,
        chol=np.linalg.cholesky(corr),
        persistence=np.array([float(z.get("persistence", {}).get("phi", 0.0)) for z in dz]),
    )
    assert arrays.intercept.shape == (n, N_SPECIES)
    return Region(
        aimags=names,
        soum_codes=np.array(codes, dtype=np.int64),
        soum_names=tuple(snames),
        soum_aimag=np.array(sidx, dtype=np.int64),
        soum_herder_households=np.array(hh),
        soum_livestock_head=np.array(head),
        soum_children_under5=np.array(ch5),
        soum_population=np.array(pop),
        soum_price_factor=np.array(pf),
        base_price_kmnt=base_price,
        season_price_multiplier=season,
        stock_2019=stock,
        herd_class_lower=lower,
        herd_class_upper=upper,
        herd_class_households=hh_cls,
        top_class_pareto_alpha=alpha,
        top_class_x_min=xmin,
        dzud=dz,
        dzud_arrays=arrays,
        sources={b["aimag"]: b["sources"] for b in blobs},
        notes={b["aimag"]: list(b.get("notes", [])) for b in blobs},
    )

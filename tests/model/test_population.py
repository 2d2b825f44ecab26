"""The starting population: herder households only, their herds and the 2019 stock.

Targets are derived here from the NSO tables themselves (shared/data/nso), with the
rule of docs/ODD.md section 5 written out again, and compared with statistics of
many drawn households.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.model import HerdtrapModel
from model.parameters import defaults
from model.population import herder_class_households
from model.region import default_data_dir
from model.species import SPECIES

DATA = default_data_dir()
needs_data = pytest.mark.skipif(
    not (DATA / "herd_size_classes_aimag_2019.csv").is_file(),
    reason=f"NSO tables not found in {DATA} (set HERDTRAP_NSO_DATA)",
)
CLASS_COLS = ["up_to_10", "11_30", "31_50", "51_100", "101_200"]
MIDPOINTS = np.array([5.5, 20.5, 40.5, 75.5, 150.5])
N = 100_000  # households drawn: Zavkhan ~34,500, enough for the heavy top class


def nso_targets(c: float) -> dict[str, dict[str, float]]:
    """Per aimag: herder households, herders' shares up to 30 and 100 head, the
    non-herders' head (bounded classes) and the non-herders removed from the top class."""
    classes = pd.read_csv(DATA / "herd_size_classes_aimag_2019.csv")
    soums = pd.read_csv(DATA / "soum_profile_2019.csv")
    out = {}
    for _, r in classes.iterrows():
        owners = [float(r[col]) for col in CLASS_COLS] + [float(r["total"] - r["up_to_200"])]
        herders = float(soums.loc[soums["aimag"] == r["aimag"], "herder_households"].sum())
        left = r["total"] - herders  # non-herder households, taken from the bottom up
        kept = []
        removed = []
        for n in owners:
            take = min(c * n, left)
            left -= take
            kept.append(n - take)
            removed.append(take)
        kept = np.array(kept)
        out[r["aimag"]] = {
            "herders": herders,
            "up_to_30": kept[:2].sum() / kept.sum(),
            "up_to_100": kept[:4].sum() / kept.sum(),
            "owners_up_to_100": sum(owners[:4]) / r["total"],
            "nonherder_head_bounded": float(np.dot(removed[:5], MIDPOINTS)),
            "nonherders_top": removed[5],
            "kept_total": kept.sum(),
        }
    return out


@pytest.fixture(scope="module")
def big_model() -> HerdtrapModel:
    return HerdtrapModel("baseline", seed=3, params={"population.households": N},
                         create_agents=False)


def test_non_herders_leave_the_smallest_classes_first():
    owners = np.array([[10.0, 10.0, 10.0], [10.0, 10.0, 10.0]])
    kept, removed = herder_class_households(owners, np.array([15.0, 2.0]), 0.8)
    np.testing.assert_allclose(removed[0], [8.0, 7.0, 0.0])  # d = 15: 8 (cap), then 7
    np.testing.assert_allclose(removed[1], [8.0, 8.0, 8.0])  # d = 28 > cap: 80% of each
    np.testing.assert_allclose(kept[0], [2.0, 3.0, 10.0])
    # more herders than owners: nobody is removed
    kept, removed = herder_class_households(owners[0], 40.0, 0.8)
    assert removed.sum() == 0 and kept.sum() == 30


@needs_data
def test_starting_herds_follow_the_herder_distribution_not_all_livestock_owners(big_model):
    """Shares of herds up to 30 and up to 100 head in the drawn population equal the
    herder-only distribution derived from the NSO classes and the soums' herder counts
    (Zavkhan: 11% of livestock owners have <= 30 head, about 3% of herders)."""
    target = nso_targets(defaults()["population.nonherder_max_class_share"])
    hh = big_model.households
    head = hh.herd.sum(axis=1)
    for a, name in enumerate(big_model.region.aimags):
        t = target[name]
        h = head[hh.aimag == a]
        assert abs((h <= 30).mean() - t["up_to_30"]) < 0.005, (name, (h <= 30).mean(), t)
        assert abs((h <= 100).mean() - t["up_to_100"]) < 0.01, (name, (h <= 100).mean(), t)
        # what a user would notice: far fewer small herds than among all owners
        assert (h <= 100).mean() < 0.7 * t["owners_up_to_100"], name
        assert h.min() >= 1


@needs_data
def test_starting_stock_matches_the_2019_census(big_model):
    """Herders' simulated mean herd x the aimag's herder households, plus the
    non-herders' animals (class midpoints), is the NSO 2019 census within 3%; the
    species mix is the census mix."""
    c = defaults()["population.nonherder_max_class_share"]
    target = nso_targets(c)
    pop = pd.read_csv(DATA / "livestock_population_aimag_species.csv")
    hh = big_model.households
    for a, name in enumerate(big_model.region.aimags):
        t = target[name]
        census = pop[(pop["Aimag"] == name) & (pop["Year"] == 2019)]
        census_head = 1000.0 * census["Thousand_head"].sum()
        herd = hh.herd[hh.aimag == a]
        mean_head = herd.sum(axis=1).mean()
        top = herd.sum(axis=1) > 200
        nonherder_head = (t["nonherder_head_bounded"]
                          + t["nonherders_top"] * herd.sum(axis=1)[top].mean())
        implied = mean_head * t["kept_total"] + nonherder_head
        assert abs(implied / census_head - 1) < 0.03, (name, implied, census_head)
        mix = herd.sum(axis=0) / herd.sum()
        names = {"sheep": "Sheep", "goat": "Goat", "cattle": "Cattle", "horse": "Horse",
                 "camel": "Camel"}
        nso_mix = np.array([census.loc[census["Species"] == names[s], "Thousand_head"].sum()
                            for s in SPECIES]) * 1000.0 / census_head
        assert np.abs(mix - nso_mix).max() < 0.02, (name, mix, nso_mix)


@needs_data
def test_households_per_soum_follow_the_2019_herder_households(big_model):
    """Each soum gets its share of the region's herder households (NSO 2019); Khatgal
    (Khuvsgul), which the profile lists without a herder count, gets none."""
    soums = pd.read_csv(DATA / "soum_profile_2019.csv")
    soums = soums[soums["aimag"].isin(big_model.region.aimags)]
    hh = big_model.households
    counts = np.bincount(hh.soum, minlength=big_model.n_soums)
    by_code = dict(zip(big_model.region.soum_codes, counts, strict=True))
    total = soums["herder_households"].sum()
    for r in soums.itertuples(index=False):
        if not np.isfinite(r.herder_households):
            assert by_code.get(r.soum_code, 0) == 0, r.soum
            continue
        assert abs(by_code[r.soum_code] - N * r.herder_households / total) <= 1, r.soum
    z = (hh.aimag == big_model.region.aimags.index("Zavkhan")).mean()
    assert abs(z - 8921 / (8921 + 16913)) < 1e-4


@needs_data
def test_the_non_herder_share_moves_the_small_herds():
    """A lower cap on the non-herder share of a class leaves more small herder herds."""
    def small_share(c: float) -> float:
        m = HerdtrapModel("baseline", seed=1, years=1, create_agents=False,
                          params={"population.nonherder_max_class_share": c})
        return float((m.households.herd.sum(axis=1) <= 30).mean())

    lo, hi = small_share(0.5), small_share(0.95)
    assert lo > 0.05 > 0.01 > hi, (lo, hi)

"""Small scenario files shared by the batch and compare tests (imported by name:
pytest's default import mode puts tests/ on sys.path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from model.scenario import SCENARIO_DIR


def write_scenarios(folder: Path) -> list[Path]:
    """A small baseline (300 households, 5 years) and a small policy change."""
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / "small_base.toml"
    base.write_text(
        'name = "small_base"\n'
        f'base = "{SCENARIO_DIR / "baseline.toml"}"\n'
        "[run]\nyears = 5\n"
        '[parameters]\n"population.households" = 300\n'
    )
    policy = folder / "small_policy.toml"
    policy.write_text(
        'name = "small_policy"\nbase = "small_base.toml"\n'
        '[parameters]\n"income.offfarm_per_adult" = 1900.0\n'
    )
    return [base, policy]


def lineage(hh, hid: int) -> np.ndarray:
    """Ids of household ``hid`` and every household founded from it (recursively)."""
    family = {hid}
    while True:
        more = set(hh.hid[np.isin(hh.parent_hid, list(family))].tolist()) - family
        if not more:
            return np.array(sorted(family))
        family |= more


def assert_worlds(make: Callable[[], object], index: int, run: Callable[[object], None]) -> tuple:
    """Starsim's worlds check: two models from ``make`` (built with model.DECOUPLED), the
    second with household ``index`` given cash and a quarter of its herd; after ``run``
    no other household's herd, cash or herding differs, and ``index``'s herd does.
    Returns (a, b, others) for further checks."""
    a, b = make(), make()
    b.households.cash[index] += 50_000.0
    b.households.herd[index] //= 4
    run(a)
    run(b)
    # the household's own family (households founded from it, and theirs) shares its herd
    others = ~np.isin(a.households.hid, lineage(a.households, int(a.households.hid[index])))
    assert a.households.n == b.households.n  # the table grows alike in both worlds
    np.testing.assert_array_equal(a.households.herd[others], b.households.herd[others])
    np.testing.assert_allclose(a.households.cash[others], b.households.cash[others])
    np.testing.assert_array_equal(a.households.herding[others], b.households.herding[others])
    assert not np.array_equal(a.households.herd[index], b.households.herd[index])
    return a, b, others

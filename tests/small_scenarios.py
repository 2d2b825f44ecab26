"""Small scenario files shared by the batch and compare tests (imported by name:
pytest's default import mode puts tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path

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

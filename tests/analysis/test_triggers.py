"""Trigger scorecard (experiments/analysis/triggers.py): a trigger defined on the same
index as the bad winter catches every bad winter and never fires in another; a replay of
the observed winters 1993-2024 lists the dzud years; compare and brief report it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import cli
from experiments.analysis.compare import compare
from experiments.analysis.triggers import fired_list, read_triggers, scorecard
from experiments.run.batch import load_scenarios, run_batch
from model.scenario import SCENARIO_DIR

R = 3


def _scenarios(folder: Path) -> list[str]:
    base = folder / "t_base.toml"
    base.write_text(f'name = "t_base"\nbase = "{SCENARIO_DIR / "status_quo.toml"}"\n'
                    '[run]\nyears = 8\n[parameters]\n"population.households" = 300\n')
    expost = folder / "t_expost.toml"
    expost.write_text('name = "t_expost"\nbase = "t_base.toml"\n'
                      '[policies.shock_responsive_topup]\ntrigger = "ex_post"\n'
                      'loss_threshold = 0.08\namount = 20.0\n')
    return [str(base), str(expost)]


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("trig_scen")
    out = tmp_path_factory.mktemp("trig") / "batch"
    run_batch(load_scenarios(_scenarios(folder), None), R, out, backend="sequential",
              progress=False)
    return out


def test_a_trigger_on_the_bad_winter_index_catches_every_bad_winter_and_no_other(batch_dir):
    df = read_triggers(batch_dir)
    assert df is not None
    top = df[(df["scenario"] == "t_expost") & (df["policy"] == "shock_responsive_topup")]
    assert len(top) > 0 and top["fired"].any() and (~top["fired"]).any()
    # the ex-post top-up fires where the soum index exceeds its threshold, exactly
    np.testing.assert_array_equal(top["fired"].to_numpy(), (top["index"] > 0.08).to_numpy())
    card = scorecard(df, bad_winter=0.08, loss=0.3)
    row = card.table.set_index(["scenario", "policy"]).loc[("t_expost", "shock_responsive_topup")]
    assert row["hit_rate"] == 1.0 and row["false_alarm"] == 0.0
    assert row["activation"] == pytest.approx(float((top["index"] > 0.08).mean()), rel=0.2)
    # with a laxer definition of a bad winter it misses some, never a false alarm
    lax = scorecard(df, bad_winter=0.04, loss=0.3).table.set_index(["scenario", "policy"])
    assert lax.loc[("t_expost", "shock_responsive_topup"), "hit_rate"] < 1.0
    assert lax.loc[("t_expost", "shock_responsive_topup"), "false_alarm"] == 0.0
    # households in fired soums with children are all awarded: basis risk comes from
    # households in soums that did not fire
    paid = top.loc[top["fired"], ["covered", "paid"]].sum()
    assert paid["paid"] == paid["covered"]


def test_index_insurance_is_on_the_scorecard_of_the_status_quo(batch_dir):
    card = scorecard(read_triggers(batch_dir))
    assert ("t_base", "insurance") in set(zip(card.table["scenario"], card.table["policy"],
                                                strict=True))


def test_bad_thresholds_are_one_line_and_exit_code_2(batch_dir, capsys):
    assert cli.main(["compare", str(batch_dir), "--bad-winter", "1.5"]) == 2
    assert cli.main(["compare", str(batch_dir), "--loss-threshold", "0.25"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--bad-winter" in err[0] and "--loss-threshold" in err[1]


def test_compare_and_brief_report_the_scorecard(batch_dir):
    res = compare(batch_dir, baseline="t_base", bad_winter=0.08)
    t = pd.read_csv(res.out_dir / "triggers.csv")
    assert {"activation", "hit_rate", "false_alarm", "basis_risk"} <= set(t.columns)
    assert (res.out_dir / "triggers_by_year.csv").is_file()
    assert "Trigger scorecard" in res.text
    assert "Trigger scorecard" in (res.out_dir / "report.html").read_text()
    assert cli.main(["brief", str(batch_dir), "--baseline", "t_base", "--no-images"]) == 0
    assert "## How well the triggers fire" in (batch_dir / "brief" / "brief.md").read_text()


def test_a_replay_of_1993_2024_lists_the_dzud_years(tmp_path):
    """Zavkhan's observed winters replayed with an ex-post top-up at a 20% soum index: it
    fires in the two great dzuds (NSO loss years 2001 and 2010: 35% and 36% of the stock
    died) and in none of the quiet years 2004-2008 (at most 3.6%)."""
    sc = tmp_path / "replay.toml"
    sc.write_text(f'name = "replay"\nbase = "{SCENARIO_DIR / "status_quo.toml"}"\n'
                  '[run]\nstart_year = 1992\nyears = 32\naimags = ["Zavkhan"]\n'
                  '[climate]\nregime = "replay"\nreplay_years = ['
                  + ", ".join(str(y) for y in range(1993, 2025)) + "]\n"
                  '[parameters]\n"population.households" = 200\n'
                  '[policies.shock_responsive_topup]\ntrigger = "ex_post"\n'
                  'loss_threshold = 0.2\n')
    out = tmp_path / "replay_batch"
    run_batch(load_scenarios([str(sc)], None), 2, out, backend="sequential", progress=False)
    card = scorecard(read_triggers(out), bad_winter=0.2)
    years = fired_list(card, "replay", "shock_responsive_topup")  # NSO loss years
    assert 2001 in years and 2010 in years
    assert not set(years) & set(range(2004, 2009))

"""Scenario files: inheritance, overrides, hashing, and one-line errors with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments import cli
from model.scenario import SCENARIO_DIR, ScenarioError, load_scenario


def write(tmp_path: Path, body: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(f'base = "{SCENARIO_DIR / "baseline.toml"}"\n{body}')
    return path


def test_inheritance_overrides_and_hash(tmp_path):
    base = load_scenario("baseline")
    sc = load_scenario(write(tmp_path, 'name = "x"\n[run]\nyears = 7\n'
                                      '[parameters]\nherd.offtake_rate = 0.15\n'))
    assert sc.years == 7 and sc.params["herd.offtake_rate"] == 0.15
    assert sc.aimags == base.aimags and sc.hash != base.hash
    assert load_scenario("baseline").hash == base.hash  # stable
    assert base.with_overrides(years=5).years == 5


@pytest.mark.parametrize(("body", "message"), [
    ('[parameters]\nherd.offtake_rat = 0.1\n', "unknown parameter 'herd.offtake_rat'"),
    ('[parameters]\nherd.offtake_rate = 0.9\n', "outside the allowed range [0.13, 0.2]"),
    ('[parameters]\nherd.offtake_rate = "high"\n', "must be a number"),
    ('[run]\naimags = ["Gobi"]\n', "no calibrated region 'Gobi'"),
    ('[run]\nyears = 0\n', "run.years = 0 is outside"),
    ('[climate]\nregime = "magic"\n', "climate.regime"),
    ('[colour]\nx = 1\n', "unknown key 'colour'"),
    ('[run\n', "not valid TOML"),
])
def test_bad_scenarios_name_the_file_and_key_and_exit_2(tmp_path, capsys, body, message):
    path = write(tmp_path, body)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert message in str(exc.value) and str(path) in str(exc.value)
    assert cli.main(["run", str(path), "--years", "1", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "out").exists()  # nothing written


def test_missing_scenario_file_exits_2(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "scenario file not found" in capsys.readouterr().err

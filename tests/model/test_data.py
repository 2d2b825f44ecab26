"""The NSO tables ship with herdtrap; --data, $HERDTRAP_NSO_DATA and ../shared override them.

.ci/run runs the whole suite a second time in a clone with no ../shared beside it and
$HERDTRAP_NSO_DATA unset (HERDTRAP_EXPECT_SHIPPED_DATA=1): there every test reads the
shipped copy, and the first test here checks that it really does.
"""

from __future__ import annotations

import fnmatch
import json
import os
import tomllib
from pathlib import Path

import pytest

from experiments import cli
from model import region
from model.region import SHIPPED_DATA_DIR, data_dir_label, default_data_dir

REPO = Path(__file__).resolve().parents[2]
TABLES = ("mortality_rates_aimag.csv", "livestock_population_aimag_species.csv",
          "soum_profile_2019.csv", "herd_size_classes_aimag_2019.csv",
          "livestock_prices_soum_monthly_2021.csv", "poverty_headcount_aimag.csv",
          "livestock_population_national_species.csv", "livestock_losses_national_annual.csv")


@pytest.mark.skipif(os.environ.get("HERDTRAP_EXPECT_SHIPPED_DATA") != "1",
                    reason="only in .ci/run's isolated clone")
def test_the_isolated_clone_reads_the_shipped_tables():
    assert "HERDTRAP_NSO_DATA" not in os.environ
    assert not (REPO.parent / "shared").exists()
    assert default_data_dir() == SHIPPED_DATA_DIR


def test_the_shipped_folder_holds_every_table_and_its_attribution():
    names = {p.name for p in SHIPPED_DATA_DIR.iterdir()}
    assert set(TABLES) <= names
    assert {"README.md", "LICENSE.upstream", "CITATION.upstream.cff"} <= names
    assert "10.5281/zenodo.22470385" in (SHIPPED_DATA_DIR / "README.md").read_text()
    readme = (REPO / "README.md").read_text()
    assert "10.5281/zenodo.22470385" in readme and "model/data/nso" in readme


def test_the_shipped_tables_are_package_data():
    """pyproject's package-data covers every file of model/data/nso (a wheel carries them)."""
    pkg = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pkg["tool"]["setuptools"]["package-data"]["model"]
    for p in SHIPPED_DATA_DIR.iterdir():
        rel = p.relative_to(REPO / "model").as_posix()
        assert any(fnmatch.fnmatch(rel, pat) for pat in patterns), rel


@pytest.mark.skipif(not (region.SHARED_DATA_DIR / TABLES[0]).is_file(),
                    reason="no ../shared/data/nso beside the repository")
def test_the_shipped_tables_equal_the_shared_ones():
    for name in TABLES:
        assert (SHIPPED_DATA_DIR / name).read_bytes() == \
            (region.SHARED_DATA_DIR / name).read_bytes(), f"model/data/nso/{name} is stale"


def test_override_order(tmp_path, monkeypatch):
    shared = tmp_path / "shared" / "data" / "nso"
    monkeypatch.setattr(region, "SHARED_DATA_DIR", shared)
    monkeypatch.delenv("HERDTRAP_NSO_DATA", raising=False)
    assert default_data_dir() == SHIPPED_DATA_DIR  # no ../shared: the shipped copy
    shared.mkdir(parents=True)
    assert default_data_dir() == SHIPPED_DATA_DIR  # an empty one does not count
    (shared / TABLES[0]).write_text("Aimag,Year\n")
    assert default_data_dir() == shared
    monkeypatch.setenv("HERDTRAP_NSO_DATA", str(tmp_path / "mine"))
    assert default_data_dir() == tmp_path / "mine"
    assert data_dir_label(SHIPPED_DATA_DIR) == "model/data/nso (shipped with herdtrap)"


def test_the_pilot_replay_runs_on_the_shipped_tables_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(region, "SHARED_DATA_DIR", tmp_path / "no-shared")
    monkeypatch.delenv("HERDTRAP_NSO_DATA", raising=False)
    out = tmp_path / "pilot"
    assert cli.main(["run", "zavkhan_2019_20_pilot", "--years", "2", "--out", str(out)]) == 0
    assert "real programme" in capsys.readouterr().out
    m = json.loads((out / "manifest.json").read_text())
    assert m["nso_data"] == "model/data/nso (shipped with herdtrap)"

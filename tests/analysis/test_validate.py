"""Pieces of `herdtrap validate` that are quick to check (the full report takes ~1.5 min)."""

from __future__ import annotations

import pandas as pd

from experiments.analysis import hindcast_compute as hc
from experiments.analysis import validate_compute
from experiments.report import validate_render
from model.region import default_data_dir

DATA = default_data_dir()


def test_national_tables_become_a_region_in_aimag_format(tmp_path):
    d = validate_compute.national_as_aimag(DATA, tmp_path)
    assert hc.check_inputs(d, "mongolia", 1992, 2024) == "Mongolia"
    mort = pd.read_csv(d / hc.F_MORT).set_index("Year")
    # the 2009/10 dzud killed ~23% of the national herd (NSO: 10.3 M head)
    assert 0.15 < mort.loc[2010, "All"] < 0.30
    r = hc.run_hindcast(d, "Mongolia", 2005, 2015, replicates=1, households=300,
                        progress=False)
    assert r.summary["years_compared"] == 10
    assert r.summary["rmse_log"] < 0.5


def test_model_checks_compare_start_with_nso():
    text = "\n".join(validate_render.model_checks_section(validate_compute.model_checks(DATA, seeds=1)))
    assert "| Zavkhan | model |" in text and "| Zavkhan | NSO |" in text
    assert "25.7%" in text  # NSO 2018 poverty headcount, Zavkhan
    row = next(line for line in text.splitlines() if line.startswith("| Zavkhan | ")
               and "%" in line and "NSO" not in line and "model" not in line)
    simulated = float(row.split("|")[2].split("%")[0])
    assert 5.0 < simulated < 60.0

"""`herdtrap discover`: PRIM scenario discovery on sensitivity and batch folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import discover
from experiments.cli import main as cli

pytest.importorskip("ema_workbench")


def planted_sensitivity_folder(folder: Path, n: int = 1200, seed: int = 1) -> Path:
    """A sensitivity folder whose outcome is bad exactly inside a planted box:
    0.6 <= herd.offtake_rate <= 1 and 0 <= climate.dzud_prob_scale <= 0.3 (unit cube),
    plus noise that never crosses the threshold."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    x = rng.uniform(size=(n, 4))
    names = ["herd.offtake_rate", "climate.dzud_prob_scale", "income.dairy_per_sfu",
             "consumption.subsistence_floor"]
    sample = pd.DataFrame(x, columns=names)
    sample.insert(0, "row", np.arange(n))
    inside = (x[:, 0] >= 0.6) & (x[:, 1] <= 0.3)
    y = np.where(inside, 0.6, 0.2) + rng.uniform(-0.05, 0.05, size=n)
    outcomes = pd.DataFrame({"row": np.repeat(np.arange(n), 2), "replicate": np.tile([0, 1], n),
                             "poverty_headcount_final": np.repeat(y, 2)})
    sample.to_parquet(folder / "sample.parquet", index=False)
    outcomes.to_parquet(folder / "outcomes.parquet", index=False)
    (folder / "manifest.json").write_text(json.dumps({"kind": "sensitivity"}))
    return folder


def test_prim_finds_the_planted_box(tmp_path, capsys):
    folder = planted_sensitivity_folder(tmp_path / "sens")
    code = cli(["discover", str(folder), "--outcome", "poverty_headcount_final",
                "--threshold", "0.4"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "box 1: coverage" in printed and "herd.offtake_rate" in printed
    boxes = pd.read_csv(folder / "discovery" / "boxes.csv")
    first = boxes[boxes.box == 1].set_index("input")
    assert set(first.index) == {"herd.offtake_rate", "climate.dzud_prob_scale"}
    assert abs(first.loc["herd.offtake_rate", "low"] - 0.6) < 0.03
    assert abs(first.loc["climate.dzud_prob_scale", "high"] - 0.3) < 0.03
    assert first["coverage"].iloc[0] >= 0.9 and first["density"].iloc[0] >= 0.9
    for name in ("trajectory.csv", "peeling_trajectory.html", "discovery.json"):
        assert (folder / "discovery" / name).is_file()
    html = (folder / "discovery" / "peeling_trajectory.html").read_text()
    assert "<script src=" not in html  # plotly.js inline


def test_direction_defaults_follow_the_outcome():
    assert discover.default_direction("poverty_headcount_final") == "above"
    assert discover.default_direction("herding_share_final") == "below"
    assert discover.default_direction("effect_herding_share_final") == "below"


def test_below_finds_the_complement(tmp_path):
    folder = planted_sensitivity_folder(tmp_path / "sens")
    boxes, data, direction = discover.run_discovery(
        folder, "poverty_headcount_final", 0.4, direction="below", max_boxes=1)
    assert direction == "below"
    assert boxes and boxes[0].density > 0.95  # the outside of the planted box is good


def fake_batch_folder(folder: Path, replicates: int = 40, seed: int = 2) -> Path:
    """Two scenarios; poverty is high in runs with 2+ dzud winters, whatever the scenario."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    runs, ts = [], []
    for scen in ("baseline", "child_money"):
        for r in range(replicates):
            losses = rng.choice([0.03, 0.2], p=[0.9, 0.1], size=10)
            dzud = int((losses >= 0.1).sum())
            runs.append({"task_id": f"{scen}/r{r}", "scenario": scen, "replicate": r,
                         "status": "ok", "error": None,
                         "poverty_headcount_final": 0.5 if dzud >= 2 else 0.2,
                         "herding_share_final": 0.9})
            for y, loss in enumerate(losses):
                ts.append({"scenario": scen, "replicate": r, "year": y + 1,
                           "mortality_index_zavkhan": loss, "mortality_index_khuvsgul": loss})
    pd.DataFrame(runs).to_parquet(folder / "runs.parquet", index=False)
    pd.DataFrame(ts).to_parquet(folder / "timeseries.parquet", index=False)
    manifest = {"kind": "batch", "scenarios": {
        "baseline": {"resolved": {"params": {"herd.offtake_rate": 0.18}, "policies": {}}},
        "child_money": {"resolved": {"params": {"herd.offtake_rate": 0.18},
                                     "policies": {"child_money": {"amount": 20.0}}}},
    }}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_batch_folder_uses_scenario_levers_and_weather(tmp_path, capsys):
    folder = fake_batch_folder(tmp_path / "batch")
    data = discover.load_data(folder, "poverty_headcount_final")
    assert {"policy_scenario", "policy.child_money.amount", "dzud_winters",
            "first_dzud_year", "worst_winter_loss"} <= set(data.x.columns)
    assert "param.herd.offtake_rate" not in data.x.columns  # the same in every scenario
    assert cli(["discover", str(folder), "--outcome", "poverty_headcount_final",
                "--threshold", "0.3"]) == 0
    boxes = pd.read_csv(folder / "discovery" / "boxes.csv")
    first = boxes[boxes.box == 1]
    assert list(first["input"]) == ["dzud_winters"] and first["low"].iloc[0] >= 1
    assert first["density"].iloc[0] == 1.0


@pytest.mark.parametrize(("argv", "message"), [
    (["--outcome", "poverty_headcount_final", "--threshold", "5"], "no case has"),
    (["--outcome", "poverty_rate", "--threshold", "0.3"], "no outcome 'poverty_rate'"),
    (["--outcome", "poverty_headcount_final", "--threshold", "0.3", "--min-coverage", "2"],
     "--min-coverage"),
])
def test_bad_input_exits_2(tmp_path, capsys, argv, message):
    folder = planted_sensitivity_folder(tmp_path / "sens", n=200)
    assert cli(["discover", str(folder), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_not_a_results_folder_exits_2(tmp_path, capsys):
    assert cli(["discover", str(tmp_path), "--outcome", "y", "--threshold", "1"]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_missing_extra_gives_install_hint(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("ema_workbench"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(discover.DiscoveryError, match="pip install ema_workbench"):
        discover._prim_module()

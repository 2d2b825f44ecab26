"""`herdtrap brief`: numbers that can be cited, figures that can be read, one-command reproduction.

A small real batch (`herdtrap batch`: baseline and two Child Money levels,
300 households, 11 years, 4 replicates) is built once; the brief is written
from it and checked the way an adviser or a reviewer would check it:

* every number in findings.csv is recomputed here, independently, from
  runs.parquet (horizon) and timeseries.parquet (year 10), with a paired
  t-interval written out with scipy;
* the sentences state those numbers with their CIs, money in MNT;
* brief.html loads nothing from the network; the PNG/SVG figures open and
  have the brief size, units on the axes and the Okabe–Ito palette;
* the reproduce command printed in the brief, run as printed, gives a
  byte-identical findings.csv;
* a bad folder ends with one line and exit code 2; without Chromium the brief
  still writes HTML and Markdown and says that PNG/SVG were skipped.
"""

from __future__ import annotations

import html
import json
import math
import re
import shlex
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments import cli
from experiments.report.figures import chromium_path

REPO_ROOT = Path(__file__).resolve().parents[2]
YEARS, REPLICATES, SEED, HOUSEHOLDS = 11, 4, 11, 300
SCENARIOS = {
    "base.toml": f'''
base = "{REPO_ROOT / "scenarios" / "baseline.toml"}"
name = "baseline"
description = "Baseline, small (test)"
[run]
years = {YEARS}
[parameters]
"population.households" = {HOUSEHOLDS}
''',
    "cmp100.toml": '''
base = "base.toml"
name = "child_money_100"
description = "Child Money at MNT 100,000 per child per month (test)"
[policies.child_money]
amount = 100.0
''',
    "cmp20.toml": '''
base = "base.toml"
name = "child_money_20"
description = "Child Money at MNT 20,000 per child per month (test)"
[policies.child_money]
amount = 20.0
''',
}
OKABE_ITO_RGB = ["rgb(230, 159, 0)", "rgb(86, 180, 233)"]  # orange, sky blue (series 1, 2)


def _batch_args(folder: Path, out: Path) -> list[str]:
    files = [str(folder / name) for name in SCENARIOS]
    return ["batch", *files, "--replicates", str(REPLICATES), "--years", str(YEARS),
            "--seed", str(SEED), "--out", str(out), "--backend", "sequential", "--no-progress"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("brief")
    for name, text in SCENARIOS.items():
        (folder / name).write_text(text)
    out = folder / "batch"
    assert cli.main(_batch_args(folder, out)) == 0
    return out


@pytest.fixture(scope="module")
def brief(batch: Path) -> Path:
    """The brief of the small batch; with figures when a Chromium is available."""
    args = ["brief", str(batch), "--baseline", "baseline", "--title", "Test brief"]
    if chromium_path() is None:
        args.append("--no-images")
    assert cli.main(args) == 0
    return batch / "brief"


# --------------------------------------------------------------------------- recomputation


def _per_run(batch: Path, scenario: str, outcome: str, year: int) -> pd.Series:
    """Per-replicate value of an outcome, from the batch tables (not from brief.py)."""
    runs = pd.read_parquet(batch / "runs.parquet")
    runs = runs[(runs["scenario"] == scenario) & (runs["status"] == "ok")].set_index("replicate")
    ts = pd.read_parquet(batch / "timeseries.parquet")
    ts = ts[(ts["scenario"] == scenario) & (ts["year"] <= year)]
    # households living in the region each year (the table grows with demography)
    hh_years = ts.groupby("replicate")["households"].sum()
    assert (hh_years != HOUSEHOLDS * year).any()  # the population did change
    if year == YEARS:  # the horizon: runs.parquet
        return {
            "poverty_headcount": runs["poverty_headcount_final"] * 100,
            "asset_poverty": runs["asset_poverty_final"] * 100,
            "herding_share": runs["herding_share_final"] * 100,
            "exits": runs["exits_total"] / (hh_years / year) * 100,
            "fiscal_cost": runs["fiscal_cost_per_household_year"] * 1000,  # kMNT -> MNT
        }[outcome]
    at = ts[ts["year"] == year].set_index("replicate")
    by = ts.groupby("replicate")
    return {
        "poverty_headcount": at["poverty_headcount"] * 100,
        "asset_poverty": at["asset_poverty"] * 100,
        "herding_share": at["herding_share"] * 100,
        "exits": by["exits"].sum() / (hh_years / year) * 100,
        "fiscal_cost": by["fiscal_cost"].sum() / hh_years * 1000,
    }[outcome]


def test_every_number_in_findings_is_recomputed_from_the_batch(batch, brief):
    f = pd.read_csv(brief / "findings.csv")
    assert list(f.columns) == [
        "finding_id", "scenario", "baseline", "outcome", "horizon_year", "baseline_mean",
        "scenario_mean", "difference", "ci_low", "ci_high", "n_replicates", "unit", "sentence",
    ]
    # 2 scenarios x 2 years (10 and the horizon 11) x 5 outcomes
    assert len(f) == 2 * 2 * 5
    assert set(f["horizon_year"]) == {10, YEARS}
    assert set(f["outcome"]) == {"poverty_headcount", "asset_poverty", "herding_share",
                                 "exits", "fiscal_cost"}
    assert f["finding_id"].is_unique
    for row in f.itertuples():
        s = _per_run(batch, row.scenario, row.outcome, row.horizon_year).sort_index()
        b = _per_run(batch, "baseline", row.outcome, row.horizon_year).sort_index()
        assert list(s.index) == list(b.index) == list(range(REPLICATES))
        d = s.to_numpy() - b.to_numpy()
        half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
        tol = 1e-5 * max(1.0, abs(b.mean()), abs(s.mean()))
        assert row.n_replicates == REPLICATES
        assert row.baseline_mean == pytest.approx(b.mean(), abs=tol), row.finding_id
        assert row.scenario_mean == pytest.approx(s.mean(), abs=tol), row.finding_id
        assert row.difference == pytest.approx(d.mean(), abs=tol), row.finding_id
        assert row.ci_low == pytest.approx(d.mean() - half, abs=tol), row.finding_id
        assert row.ci_high == pytest.approx(d.mean() + half, abs=tol), row.finding_id


def test_sentences_state_the_numbers_with_their_ci_in_mnt(brief):
    f = pd.read_csv(brief / "findings.csv").set_index("finding_id")
    r = f.loc[f"child_money_100:poverty_headcount:y{YEARS}"]
    # a universal MNT 100,000 child benefit lowers consumption poverty in this model
    assert r["difference"] < 0 and r["ci_high"] < 0
    text = r["sentence"]
    assert text.startswith(f"After {YEARS} years (end of {2020 + YEARS - 1}), scenario")
    assert f"lowers the share of households below the poverty line by {abs(r['difference']):.1f} " \
           "percentage points" in text
    assert f"(95% CI {abs(r['ci_high']):.1f}–{abs(r['ci_low']):.1f})" in text
    cost = f.loc[f"child_money_100:fiscal_cost:y{YEARS}"]
    assert cost["unit"] == "MNT per household per year (2021 prices)"
    assert cost["difference"] > 100_000  # MNT, not kMNT
    assert f"MNT {cost['difference']:,.0f} per household per year" in text
    assert "2021 prices" in text
    for sentence in f["sentence"]:
        assert "95% CI" in sentence, sentence


def test_brief_html_is_self_contained_and_complete(batch, brief):
    page = (brief / "brief.html").read_text()
    md = (brief / "brief.md").read_text()
    # nothing is loaded from the network: no external src/href on scripts, styles, images
    for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
        for m in re.finditer(rf"<{tag}\b[^>]*\b{attr}\s*=\s*[\"']([^\"']*)", page, re.I):
            assert not re.match(r"(https?:)?//", m.group(1)), f"<{tag} {attr}={m.group(1)[:60]}>"
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", page)
    assert page.count("<figure>") == 4  # with "who gains" (household outcomes)
    findings = pd.read_csv(brief / "findings.csv")
    key = findings[findings["outcome"].isin(["poverty_headcount", "asset_poverty"])]
    for s in key["sentence"]:
        assert html.escape(s) in page
        assert s in md
    manifest = json.loads((batch / "manifest.json").read_text())
    for text in (page, md):
        assert "Test brief" in text
        for name, entry in manifest["scenarios"].items():  # citation block: hashes
            assert name in text and entry["hash"] in text
        assert f"root seed {SEED}" in text
        assert manifest["git"]["commit"] in text
        assert "docs/ODD.md" in text and "docs/PARAMETERS.md" in text
        assert f"{HOUSEHOLDS} simulated households" in text
        assert "Limitations" in text and "[est]" in text
        assert "10.5281/zenodo.22470385" in text
        assert "t-interval" in text


@pytest.mark.browser
def test_figures_open_and_are_legible_at_brief_size(brief):
    from PIL import Image

    stems = ["poverty_over_time", "difference_at_horizon", "cost_vs_poverty"]
    for stem in stems:
        with Image.open(brief / "figures" / f"{stem}.png") as im:
            im.verify()
        with Image.open(brief / "figures" / f"{stem}.png") as im:
            assert im.width >= 800 and im.height >= 450
            # not a blank canvas: many distinct colours (lines, bands, text)
            pixels = np.asarray(im.convert("RGB")).reshape(-1, 3)[::13]
            assert len(np.unique(pixels, axis=0)) > 20
        root = ET.parse(brief / "figures" / f"{stem}.svg").getroot()
        assert root.tag.endswith("svg")
        assert float(root.get("width")) >= 800 and float(root.get("height")) >= 450
        svg = (brief / "figures" / f"{stem}.svg").read_text()
        sizes = [float(x) for x in re.findall(r"font-size:\s*([\d.]+)px", svg)]
        assert sizes and min(sizes) >= 12, (stem, min(sizes))
        assert any(c in svg for c in OKABE_ITO_RGB), stem
    time_svg = (brief / "figures" / "poverty_over_time.svg").read_text()
    assert "% of households" in time_svg and "Year" in time_svg
    cost_svg = (brief / "figures" / "cost_vs_poverty.svg").read_text()
    assert "MNT per household per year" in cost_svg and "points" in cost_svg
    md = (brief / "brief.md").read_text()
    for stem in stems:
        assert f"figures/{stem}.png" in md and f"figures/{stem}.svg" in md


def test_reproduce_command_gives_identical_findings(brief, tmp_path, monkeypatch):
    md = (brief / "brief.md").read_text()
    block = md.split("```bash", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block[0].startswith("git checkout ")
    command = block[1]
    assert command.startswith("herdtrap batch ") and " && herdtrap brief " in command
    assert f"--replicates {REPLICATES} --years {YEARS} --seed {SEED}" in command
    monkeypatch.chdir(tmp_path)  # the printed --out is relative: it lands here
    for part in command.split(" && "):
        argv = shlex.split(part)
        assert argv[0] == "herdtrap"
        assert cli.main(argv[1:]) == 0, part
    out = shlex.split(command.split(" && ")[1])[2]
    again = tmp_path / out / "brief" / "findings.csv"
    assert again.read_bytes() == (brief / "findings.csv").read_bytes()


def test_bad_folder_is_one_line_and_exit_2(tmp_path, capsys, batch):
    assert cli.main(["brief", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no such folder" in err
    (tmp_path / "empty").mkdir()
    assert cli.main(["brief", str(tmp_path / "empty")]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    assert cli.main(["brief", str(batch), "--baseline", "nosuch", "--no-images"]) == 2
    err = capsys.readouterr().err
    assert "nosuch" in err and "child_money_20" in err


def test_without_chromium_html_and_markdown_are_still_written(batch, brief, tmp_path,
                                                              monkeypatch, capsys):
    copy = tmp_path / "batch"
    shutil.copytree(batch, copy, ignore=shutil.ignore_patterns("brief"))
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    assert cli.main(["brief", str(copy)]) == 0
    assert "PNG/SVG figures were skipped" in capsys.readouterr().out
    out = copy / "brief"
    assert not list((out / "figures").glob("*.png"))
    page = (out / "brief.html").read_text()
    assert "PNG/SVG figures were skipped" in page
    assert "Plotly.newPlot" in page  # interactive figures, plotly.js inline
    assert not re.search(r"<script\b[^>]*\bsrc\s*=\s*[\"'](https?:)?//", page, re.I)
    assert "PNG/SVG figures were skipped" in (out / "brief.md").read_text()
    assert (out / "findings.csv").read_bytes() == (brief / "findings.csv").read_bytes()


def test_citation_cff_parses():
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert cff["title"].startswith("herdtrap")
    assert cff["version"] == "0.1.0" and cff["license"] == "MIT"
    assert cff["authors"] == [{"name": "herdtrap developers"}]
    assert any(r.get("doi") == "10.5281/zenodo.22470385" for r in cff["references"])


def test_brief_warns_when_a_scenario_file_no_longer_matches_the_batch(batch, tmp_path):
    copy = tmp_path / "batch"
    shutil.copytree(batch, copy, ignore=shutil.ignore_patterns("brief"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["scenarios"]["child_money_20"]["hash"] = "0123456789abcdef"  # as if edited since
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert cli.main(["brief", str(copy), "--no-images"]) == 0
    md = (copy / "brief" / "brief.md").read_text()
    assert "cmp20.toml has changed since the batch ran" in md
    assert "batch used 0123456789abcdef" in md

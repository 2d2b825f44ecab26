"""`herdtrap sensitivity`: Sobol/Morris through SALib and the shared execution layer.

The Ishigami test function runs through exactly the path the model uses
(spec -> sample -> execution tasks -> part files -> outcomes -> SALib analysis
-> results folder), so recovering its analytic indices checks the pipeline.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.analysis import sensitivity_compute as sa
from experiments.cli import UsageError
from experiments.cli import main as cli


def _narrowed(name: str) -> tuple[float, float]:
    """The middle half of a parameter's range in the table (the table changes over time)."""
    from model.parameters import parameter_table

    p = parameter_table()[name]
    return (round(p.low + 0.25 * (p.high - p.low), 6), round(p.low + 0.75 * (p.high - p.low), 6))


LOW, HIGH = _narrowed("herd.offtake_rate")
TINY_MODEL_SPEC = f"""
name = "tiny"
method = "sobol"
n = 8
replicates = 1
years = 3
root_seed = 3
seed = 11
bootstrap = 100
parameters = ["herd.offtake_rate", "climate.dzud_prob_scale", "consumption.subsistence_floor"]
outcomes = ["poverty_headcount_final", "exits_total", "trap_share_final", "fiscal_cost_total"]
trap_threshold = 65.7

[ranges]
"herd.offtake_rate" = [{LOW}, {HIGH}]

[fixed]
"population.households" = 200
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def ishigami_spec(tmp_path: Path, n: int = 1024, method: str = "sobol", extra: str = "") -> Path:
    return write(tmp_path / f"ishigami_{method}_{n}.toml", f"""
name = "ishigami"
model = "ishigami"
method = "{method}"
n = {n}
seed = 2024
bootstrap = 500
outcomes = ["y"]
{extra}
""")


def run_cli(*argv: str) -> int:
    return cli(["sensitivity", *map(str, argv), "--no-progress"])


# ------------------------------------------------------------------ Ishigami


def test_ishigami_recovers_analytic_indices_within_ci(tmp_path):
    spec = ishigami_spec(tmp_path, n=1024)
    out = tmp_path / "ishigami"
    assert run_cli(spec, "--out", out, "--jobs", "2", "--backend", "loky") == 0
    idx = pd.read_csv(out / "indices.csv").set_index("parameter")
    for name in ("x1", "x2", "x3"):
        for key, truth in (("S1", sa.ISHIGAMI_S1[name]), ("ST", sa.ISHIGAMI_ST[name])):
            est, conf = idx.loc[name, key], idx.loc[name, f"{key}_conf"]
            assert abs(est - truth) <= conf, f"{key}[{name}] = {est:.4f} ± {conf:.4f}, truth {truth}"
            assert conf < 0.1  # the CI is informative, not huge
    # the analysis ran every row through the execution layer
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 1024 * (3 + 2) and set(runs["status"]) == {"ok"}


def test_ishigami_second_order_and_convergence(tmp_path):
    spec = ishigami_spec(tmp_path, n=512, extra="second_order = true")
    out = tmp_path / "s2"
    assert run_cli(spec, "--out", out, "--backend", "sequential") == 0
    s2 = pd.read_csv(out / "indices_S2.csv")
    x13 = s2[(s2.parameter_1 == "x1") & (s2.parameter_2 == "x3")].iloc[0]
    assert abs(x13.S2 - 0.2437) <= x13.S2_conf  # analytic S13 of Ishigami (a=7, b=0.1)
    conv = pd.read_csv(out / "convergence.csv")
    assert sorted(conv["n"].unique()) == [256, 512]
    full = conv[conv.n == 512].set_index("parameter")["ST"]
    idx = pd.read_csv(out / "indices.csv").set_index("parameter")["ST"]
    assert np.allclose(full.loc[idx.index], idx)  # N row of convergence = the indices


def test_first_half_of_sobol_design_is_the_half_size_design():
    """Why convergence at N/2 needs no extra runs: the first N/2 blocks ARE sample(N/2)."""
    from SALib.sample import sobol

    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0, 1]] * 4}
    for second in (False, True):
        full = sobol.sample(problem, 64, calc_second_order=second, seed=5)
        half = sobol.sample(problem, 32, calc_second_order=second, seed=5)
        assert np.array_equal(full[: len(half)], half)


def test_morris_ishigami_ranks_parameters(tmp_path):
    spec = ishigami_spec(tmp_path, n=40, method="morris")
    out = tmp_path / "morris"
    assert run_cli(spec, "--out", out, "--backend", "sequential") == 0
    idx = pd.read_csv(out / "indices.csv").set_index("parameter")
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(idx.columns)
    # x3 acts only through its interaction with x1: mu* small relative to sigma
    assert idx.loc["x3", "sigma"] > idx.loc["x3", "mu_star"] * 0.5
    assert idx["mu_star"].idxmax() in ("x1", "x2")
    html = (out / "report.html").read_text()
    assert "Morris" in html and "mu_star" in html
    assert "<script src=" not in html  # plotly.js inline, nothing fetched


def test_same_spec_twice_gives_identical_indices(tmp_path):
    spec = ishigami_spec(tmp_path, n=256)
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli(spec, "--out", a, "--backend", "sequential") == 0
    assert run_cli(spec, "--out", b, "--backend", "loky", "--jobs", "2") == 0
    for name in ("indices.csv", "convergence.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert pd.read_parquet(a / "sample.parquet").equals(pd.read_parquet(b / "sample.parquet"))


# ------------------------------------------------------------------ the model


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tiny")
    spec = write(tmp / "tiny.toml", TINY_MODEL_SPEC)
    out = tmp / "out"
    assert run_cli(spec, "--out", out, "--jobs", "2") == 0
    return spec, out


def test_model_spec_runs_end_to_end(tiny_run):
    spec, out = tiny_run
    for name in ("manifest.json", "sample.parquet", "runs.parquet", "outcomes.parquet",
                 "indices.csv", "convergence.csv", "report.html"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity"
    assert manifest["counts"] == {"done": 40, "failed": 0, "total": 40, "rows": 40,
                                  "replicates": 1}
    assert manifest["problem"]["bounds"][0] == [LOW, HIGH]  # narrowed by the spec
    assert manifest["seeds"]["0"][0] == 3 and manifest["finished"]
    assert manifest["git"]["commit"] and manifest["versions"]["SALib"]
    sample = pd.read_parquet(out / "sample.parquet")
    assert len(sample) == 8 * (3 + 2)
    assert sample["herd.offtake_rate"].between(LOW, HIGH).all()
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert list(outcomes.columns) == ["row", "replicate", "poverty_headcount_final",
                                      "exits_total", "trap_share_final", "fiscal_cost_total"]
    assert outcomes["trap_share_final"].between(0, 1).all()
    idx = pd.read_csv(out / "indices.csv")
    assert set(idx["outcome"]) == {"poverty_headcount_final", "exits_total", "trap_share_final",
                                   "fiscal_cost_total"}
    # no policy: fiscal cost is 0 everywhere, flagged rather than divided by zero
    assert idx.loc[idx.outcome == "fiscal_cost_total", "outcome_constant"].all()
    assert not idx.loc[idx.outcome == "poverty_headcount_final", "outcome_constant"].any()
    html = (out / "report.html").read_text()
    assert "Sobol indices" in html and "<script src=" not in html and "plotly" in html


def test_every_row_uses_the_same_replicate_seeds(tiny_run):
    """Common random numbers: row i replicate r runs run_seed_sequence(root_seed, r)."""
    from experiments.run.runner import simulate
    from model.scenario import load_scenario
    from model.streams import run_seed_sequence

    _, out = tiny_run
    sample = pd.read_parquet(out / "sample.parquet")
    outcomes = pd.read_parquet(out / "outcomes.parquet").set_index("row")
    row = sample.iloc[7]
    sc = load_scenario("baseline", years=3, params={
        "population.households": 200, **{k: float(row[k]) for k in sample.columns if k != "row"}})
    summary = simulate(sc, run_seed_sequence(3, 0)).summary
    assert summary["poverty_headcount_final"] == outcomes.loc[7, "poverty_headcount_final"]


def test_resume_after_interruption_runs_only_the_missing_runs(tiny_run, tmp_path):
    import shutil

    spec, done = tiny_run
    out = tmp_path / "resumed"
    shutil.copytree(done, out)
    # as if the process died after half the runs: only those records survived
    runs = pd.read_parquet(out / "runs.parquet")
    runs.iloc[:17].to_parquet(out / "runs.parquet", index=False)
    for name in ("indices.csv", "outcomes.parquet", "report.html", "convergence.csv"):
        (out / name).unlink()
    res = sa.run_sensitivity(sa.load_spec(spec), out, backend="sequential", progress=False)
    assert res.report.skipped == 17 and res.report.ran == 23
    assert (out / "indices.csv").read_bytes() == (done / "indices.csv").read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["timings"]["sessions"]) == 2


def test_a_design_run_with_other_model_code_is_not_resumed(tiny_run, tmp_path):
    import shutil

    spec, done = tiny_run
    out = tmp_path / "old"
    shutil.copytree(done, out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["design"]["model_code"] = "0123456789abcdef"
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UsageError, match="other model code.*cannot be resumed"):
        sa.run_sensitivity(sa.load_spec(spec), out, backend="sequential", progress=False)


def test_policy_effect_is_paired_by_row_and_replicate(tmp_path):
    spec = write(tmp_path / "effect.toml", """
name = "effect"
method = "sobol"
n = 2
replicates = 2
years = 2
bootstrap = 50
parameters = ["herd.offtake_rate", "consumption.subsistence_floor"]
outcomes = ["poverty_headcount_final", "effect_poverty_headcount_final"]
policy_scenario = "baseline"
[fixed]
"population.households" = 100
""")
    s = sa.load_spec(spec)
    assert sa.arm_runs(s) == {"scenario": "scenario", "baseline": "scenario",
                              "policy": "scenario"}  # identical scenarios run once
    out = tmp_path / "out"
    assert run_cli(spec, "--out", out, "--backend", "sequential") == 0
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert len(outcomes) == 2 * 4 * 2
    assert (outcomes["effect_poverty_headcount_final"] == 0).all()  # policy == baseline


@pytest.mark.parametrize(("snippet", "message"), [
    ('[ranges]\n"herd.offtake_rate" = [0.0, 0.2]', "outside the parameter table's range"),
    ('n = 12', "power of 2"),
    ('outcomes = ["poverty_rate"]', "unknown outcome 'poverty_rate'"),
    ('parameters = ["herd.offtake", "herd.density_exponent"]', "cannot be varied"),
    ('parameters = ["population.households", "herd.offtake_rate"]', "not marked uncertain"),
    ('method = "fast"', "allowed: sobol, morris"),
    ('colour = "blue"', "unknown key 'colour'"),
    ('outcomes = ["effect_exits_total"]', "need policy_scenario"),
    ('outcomes = ["trap_share_final"]', "needs trap_threshold"),
    ('scenario = "no_such_scenario"', "scenario file not found"),
])
def test_bad_spec_exits_2_with_one_line(tmp_path, capsys, snippet, message):
    base = {"method": 'method = "sobol"', "n": "n = 8",
            "outcomes": 'outcomes = ["poverty_headcount_final"]',
            "parameters": 'parameters = ["herd.offtake_rate", "herd.density_exponent"]'}
    key = snippet.split(" ", 1)[0]
    lines = [v for k, v in base.items() if k != key]
    text = "\n".join([*lines, snippet]) + "\n"
    spec = write(tmp_path / "bad.toml", text)
    assert run_cli(spec, "--out", tmp_path / "never") == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "never").exists()


def test_folder_of_another_design_is_refused(tiny_run, tmp_path, capsys):
    _, out = tiny_run
    other = ishigami_spec(tmp_path, n=8)
    assert run_cli(other, "--out", out) == 2
    assert "different sensitivity design" in capsys.readouterr().err


def test_problem_comes_from_the_parameter_table():
    from model.parameters import uncertain_parameters

    spec = sa.parse_spec({"method": "morris", "n": 4}, where="t.toml")
    problem = sa.build_problem(spec)
    params = uncertain_parameters()
    assert problem["names"] == [p.name for p in params]
    assert problem["bounds"] == [[p.low, p.high] for p in params]
    X = sa.generate_sample(spec, problem)
    lo, hi = np.array(problem["bounds"]).T
    assert ((X >= lo) & (X <= hi)).all()  # round-off clipped: every value passes validation


def test_spec_errors_are_usage_errors():
    with pytest.raises(UsageError, match="Morris needs at least 2"):
        sa.parse_spec({"method": "morris", "n": 1}, where="t.toml")
    with pytest.raises(UsageError, match="second_order applies"):
        sa.parse_spec({"method": "morris", "n": 4, "second_order": True}, where="t.toml")
    assert math.isclose(sa.ishigami(np.array([[0.0, math.pi / 2, 1.0]]))[0], 7.0)


@pytest.mark.parametrize("name", ["morris_screening.toml", "sobol_main.toml",
                                  "sobol_child_money.toml"])
def test_shipped_specs_are_valid(name):
    spec = sa.load_spec(Path(__file__).resolve().parents[2] / "experiments" / "specs" / name)
    problem = sa.build_problem(spec)
    assert problem["num_vars"] == len(spec.parameters) >= 4


_ROOT = Path(__file__).resolve().parents[2]


#: the sensitivity specs shipped: those with a method (fit_*.toml are `herdtrap fit` specs,
#: frontier_*.toml `herdtrap frontier` specs, futures.toml a futures file)
SENSITIVITY_SPECS = sorted(p for p in (_ROOT / "experiments/specs").glob("*.toml")
                           if "method" in tomllib.loads(p.read_text()))


@pytest.mark.parametrize("spec", SENSITIVITY_SPECS, ids=lambda p: p.stem)
def test_shipped_specs_use_the_validated_trap_threshold(spec):
    """The trap outcome counts households below the threshold `herdtrap validate` measured
    (docs/validation/trap.json): a spec must follow it when the model changes."""
    root = _ROOT
    measured = json.loads((root / "docs/validation/trap.json").read_text())["threshold"]["h"]
    loaded = sa.load_spec(root / spec)
    if loaded.trap_threshold is not None:
        assert loaded.trap_threshold == pytest.approx(measured, abs=0.05), spec.name

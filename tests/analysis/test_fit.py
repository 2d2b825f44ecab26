"""herdtrap fit: ABC-SMC calibration (experiments/analysis/fit.py, issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pyabc = pytest.importorskip("pyabc")

from experiments.analysis import fit  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

SMALL = """
name = "small"
parameters = ["herd.offtake_rate"]
ranges = {{"herd.offtake_rate" = [0.15, 0.18]}}
population_size = 20
generations = {generations}
predictive_draws = 0
seed = {seed}
[[targets]]
kind = "stock"
aimag = "Zavkhan"
start = 1992
end = 2000
fit_until = 2000
households = 150
sd_log = 0.04
"""


def _spec(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("text, message", [
    ('parameters = ["herd.offtake_rate"]\n', "at least one [[targets]]"),
    ('parameters = ["no.such"]\n[[targets]]\nkind = "losses"\n', "'no.such' cannot be fitted"),
    ('parameters = ["herd.offtake_rate"]\nranges = {"herd.offtake_rate" = [0.1, 0.3]}\n'
     '[[targets]]\nkind = "losses"\n', "inside the parameter table's range [0.13, 0.2]"),
    ('parameters = ["herd.offtake_rate"]\n[[targets]]\nkind = "rain"\n', "kind must be one of"),
    ('parameters = ["herd.offtake_rate"]\n[[targets]]\nkind = "stock"\naimag = "Zavkhan"\n'
     'fit_until = 1990\n', "fit_until = 1990 is out of range"),
    ('parameters = ["herd.offtake_rate"]\npopulation = 5\n[[targets]]\nkind = "losses"\n',
     "unknown key 'population'"),
    ('parameters = ["herd.offtake_rate"]\n[[targets]]\nkind = "poverty"\naimag = "Zavkhan"\n'
     'sd_log = 0.1\n', "unknown key 'sd_log' for kind 'poverty'"),
])
def test_bad_specs_are_one_line_errors(tmp_path, text, message):
    with pytest.raises(fit.FitError) as e:
        fit.load_spec(_spec(tmp_path, text))
    assert message in str(e.value) and "\n" not in str(e.value)
    assert "spec.toml" in str(e.value)


def test_a_held_out_target_is_not_simulated_during_the_fit(tmp_path):
    spec = fit.load_spec(_spec(tmp_path, SMALL.format(generations=1, seed=0) + """
[[targets]]
kind = "poverty"
aimag = "Khuvsgul"
households = 100
held_out = true
"""))
    assert "poverty:Khuvsgul:headcount" not in fit.weights(spec)
    p = {"herd.offtake_rate": 0.16}
    assert "poverty:Khuvsgul:headcount" in fit.simulate(spec, p, 1)
    assert "poverty:Khuvsgul:headcount" not in fit.simulate(spec, p, 1, held_out=False)
    only = _spec(tmp_path, 'parameters = ["herd.offtake_rate"]\n[[targets]]\nkind = "losses"\n'
                           'held_out = true\n', "only.toml")
    with pytest.raises(fit.FitError, match="every target is held_out"):
        fit.load_spec(only)


def test_the_fit_stops_a_replay_at_fit_until_without_changing_the_fitted_years(tmp_path):
    """During the fit a stock replay ends at fit_until: the fitted years' statistics are
    those of the whole replay with the same seed, and the held-out years are left out."""
    spec = fit.load_spec(_spec(tmp_path, SMALL.format(generations=1, seed=0).replace(
        "end = 2000\nfit_until = 2000", "end = 2002\nfit_until = 1998\n"
        "growth_years = [1994, 1997]")))
    p = {"herd.offtake_rate": 0.16}
    whole, fitted = fit.simulate(spec, p, 7), fit.simulate(spec, p, 7, held_out=False)
    assert "stock:Zavkhan:log_sfu:2002" in whole and "stock:Zavkhan:log_sfu:1999" not in fitted
    assert set(fitted) == set(fit.weights(spec))
    assert fitted == {k: whole[k] for k in fitted}
    # the years differ from seed to seed, so equality is not by construction
    assert fit.simulate(spec, p, 8, held_out=False) != fitted
    assert set(fit.observed(spec, fit._data_dir(), held_out=False)) == set(fitted)


def test_bad_spec_exits_2_on_the_command_line(tmp_path):
    p = _spec(tmp_path, 'parameters = ["no.such"]\n[[targets]]\nkind = "losses"\n')
    r = subprocess.run([sys.executable, "-m", "experiments.cli", "fit", str(p), "--out",
                        str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    assert "herdtrap fit: error:" in r.stderr and "no.such" in r.stderr
    assert not (tmp_path / "out").exists()


def test_unknown_aimag_is_reported_before_any_simulation(tmp_path):
    p = _spec(tmp_path, 'parameters = ["herd.offtake_rate"]\n[[targets]]\nkind = "stock"\n'
                        'aimag = "Atlantis"\n')
    with pytest.raises(fit.FitError, match="Atlantis"):
        fit.run_fit(fit.load_spec(p), tmp_path / "out", progress=False)


def test_shipped_default_spec_is_valid_and_its_data_are_shipped():
    spec = fit.load_spec(ROOT / "experiments/specs/fit_default.toml")
    x0 = fit.observed(spec, fit._data_dir())
    w = fit.weights(spec)
    assert set(w) < set(x0)  # every fitted statistic has data; held-out years are extra
    held = set(x0) - set(w)
    assert "stock:Zavkhan:log_sfu:2016" in held and "stock:Zavkhan:log_sfu:2015" in w
    # every series is held out from 2016 on, the country's included
    for series in ("Zavkhan", "Khuvsgul", "Mongolia"):
        assert f"stock:{series}:log_sfu:2015" in w
        assert {f"stock:{series}:log_sfu:{y}" for y in range(2016, 2025)} <= held
    # the census's 2003-2009 recovery in sheep units, about 8% a year on the log scale
    # (docs/VALIDATION.md: +10.5% a year in head), the number issue 12 asks the model to meet
    assert 0.06 < x0["stock:Zavkhan:growth:2003-2009"] < 0.10


def test_synthetic_fits_recover_known_parameters(tmp_path):
    """Data simulated at known parameters, three fits: the 90% posterior interval holds
    the truth in at least 2 of them, every truth lies within the posterior's particles,
    and every interval is narrower than the prior (the data inform the parameter).

    With nominal coverage a 90% interval holds the truth in all three fits with
    probability 0.73 only, in at least two with 0.97 (a coverage far below nominal, say
    50%, passes with 0.5)."""
    inside = []
    for seed, truth in ((0, 0.157), (1, 0.165), (2, 0.173)):
        spec = fit.load_spec(_spec(tmp_path, SMALL.format(generations=3, seed=seed),
                                   f"spec{seed}.toml"))
        data = fit.simulate(spec, {"herd.offtake_rate": truth}, seed=1000 + seed)
        out = tmp_path / f"out{seed}"
        res = fit.run_fit(spec, out, progress=False, data=data)
        q = res.summary["parameters"]["herd.offtake_rate"]
        inside.append(q["q05"] <= truth <= q["q95"])
        post = res.posterior
        assert post["herd.offtake_rate"].min() <= truth <= post["herd.offtake_rate"].max(), q
        assert q["q95"] - q["q05"] < 0.85 * (0.18 - 0.15), q  # three generations only
        assert res.summary["effective_sample_size"] > 5
        assert np.isclose(post["weight"].sum(), 1.0)
        assert (out / "posterior.csv").is_file()
    assert sum(inside) >= 2, inside


def test_ninety_percent_intervals_hold_the_truth_about_ninety_percent_of_the_time(tmp_path):
    """Coverage over repeated fits (issue 16): 40 fits of a toy herd model
    (tests/analysis/toy_herd.py), each of data simulated at a truth drawn from the prior,
    through the same ABC-SMC machinery (run_fit with simulator=). Under nominal coverage
    the 80 intervals (two parameters per fit) hold the truth in 65-77 cases with
    probability 0.98 (binomial 80, 0.9); fewer means overconfident intervals, more means
    a tolerance too wide to have fitted anything. The intervals must also be informative:
    on average narrower than the prior (σ much narrower, μ, known from 30 years only,
    less so). Measured: 74 of 80 (μ 35/40, σ 39/40), widths 0.64 and 0.32 of the prior."""
    from toy_herd import PRIOR, ToyHerd

    toy, rng = ToyHerd(years=30), np.random.default_rng(123)
    inside = {k: 0 for k in PRIOR}
    width = {k: [] for k in PRIOR}
    fits = 40
    for i in range(fits):
        truth = {k: rng.uniform(*v) for k, v in PRIOR.items()}
        data = toy.simulate(truth["mu"], truth["sigma"], rng)
        spec = fit.FitSpec(name=f"toy{i}", parameters=PRIOR, targets=(), population_size=100,
                           generations=4, predictive_draws=0, seed=i)
        res = fit.run_fit(spec, tmp_path / f"toy{i}", progress=False, data=data, simulator=toy)
        for k, (lo, hi) in PRIOR.items():
            q = res.summary["parameters"][k]
            inside[k] += q["q05"] <= truth[k] <= q["q95"]
            width[k].append((q["q95"] - q["q05"]) / (hi - lo))
    held = sum(inside.values())
    assert 65 <= held <= 77, (inside, {k: np.mean(v) for k, v in width.items()})
    assert np.mean(width["mu"]) < 0.8 and np.mean(width["sigma"]) < 0.45, width
    # a simulator's data must carry exactly its statistics
    with pytest.raises(fit.FitError, match="exactly the statistics"):
        fit.run_fit(spec, tmp_path / "bad", progress=False, data={"mean": 0.0}, simulator=toy)


def test_the_importance_weights_do_not_collapse_with_nine_parameters(tmp_path):
    """As many parameters as the default fit (a 9-parameter toy with a ridge): after five
    generations the posterior still has an effective sample size above 30 of 100. With
    pyabc's default kernel (Silverman's factor) it fell to 7.5; with twice the covariance
    (fit.twice_the_covariance, Beaumont et al. 2009) it is 86."""
    from toy_herd import ToyNine

    toy, rng = ToyNine(), np.random.default_rng(5)
    truth = {k: rng.uniform(3, 7) for k in toy.PRIOR}
    spec = fit.FitSpec(name="nine", parameters=toy.PRIOR, targets=(), population_size=100,
                       generations=5, predictive_draws=0, seed=1)
    res = fit.run_fit(spec, tmp_path / "nine", progress=False,
                      data=toy.simulate(truth, rng), simulator=toy)
    assert res.summary["generations"] == 5
    assert res.summary["effective_sample_size"] > 30, res.summary["effective_sample_size"]


def test_a_fit_resumes_from_its_database_and_refuses_another_spec(tmp_path, capsys):
    out = tmp_path / "out"
    spec1 = fit.load_spec(_spec(tmp_path, SMALL.format(generations=1, seed=3)))
    r1 = fit.run_fit(spec1, out, progress=False)
    assert r1.summary["generations"] == 1
    eps0 = r1.summary["epsilons"][0]
    # the same spec with more generations (as after a crash): continues from the database
    spec2 = fit.load_spec(_spec(tmp_path, SMALL.format(generations=2, seed=3)))
    r2 = fit.run_fit(spec2, out, progress=True, jobs=2)  # joblib's loky processes
    assert "resuming" in capsys.readouterr().out
    assert r2.summary["generations"] == 2
    assert r2.summary["epsilons"][0] == eps0  # the first generation was kept, not re-run
    assert r2.summary["epsilons"][1] < eps0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "finished"
    other = fit.load_spec(_spec(tmp_path, SMALL.format(generations=2, seed=3).replace(
        "households = 150", "households = 120"), "other.toml"))
    with pytest.raises(fit.FitError, match="another spec"):
        fit.run_fit(other, out, progress=False)
    # a fit of another model version is not continued: its generations would be mixed
    assert manifest["sessions"][-1]["model_code"]
    manifest["sessions"][-1]["model_code"] = "0123456789abcdef"
    (out / "manifest.json").write_text(json.dumps(manifest))
    db = (out / "fit.db").read_bytes()
    with pytest.raises(fit.FitError, match="other model code.*cannot be resumed"):
        fit.run_fit(spec2, out, progress=False)
    assert (out / "fit.db").read_bytes() == db


@pytest.mark.slow
def test_a_fit_runs_on_a_dask_cluster_and_agrees_with_the_local_fit(tmp_path):
    """Scheduler and two workers as separate processes (`--scheduler`): the fit finishes,
    its simulations ran on the workers, and its posterior agrees with the local fit of the
    same data (the 90% intervals overlap and the medians lie within each other's interval;
    whether intervals hold the truth is the synthetic test's job)."""
    distributed = pytest.importorskip("distributed")
    from dask_cluster import dask_scheduler, start_worker

    truth = 0.162
    spec = fit.load_spec(_spec(tmp_path, SMALL.format(generations=3, seed=5)))
    data = fit.simulate(spec, {"herd.offtake_rate": truth}, seed=2024)
    local = fit.run_fit(spec, tmp_path / "local", progress=False, data=data)
    with dask_scheduler(tmp_path) as address:
        workers = [start_worker(address, tmp_path, i) for i in range(2)]
        try:
            with distributed.Client(address, timeout="30s") as client:
                client.wait_for_workers(2, timeout=60)
            remote = fit.run_fit(spec, tmp_path / "dask", scheduler=address, progress=False,
                                 data=data)
            with distributed.Client(address, timeout="30s") as client:
                # each worker process calibrated its region for the simulations it ran
                ran = client.run(lambda: len(fit._REGIONS))
        finally:
            for w in workers:
                w.kill()
                w.wait()
    assert sorted(ran.values()) == [1, 1], ran  # both workers simulated
    assert remote.summary["generations"] == 3
    a = local.summary["parameters"]["herd.offtake_rate"]
    b = remote.summary["parameters"]["herd.offtake_rate"]
    assert max(a["q05"], b["q05"]) < min(a["q95"], b["q95"]), (a, b)
    assert a["q05"] <= b["median"] <= a["q95"] and b["q05"] <= a["median"] <= b["q95"], (a, b)
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["scheduler"] == address and manifest["status"] == "finished"


def test_the_validation_section_reads_a_committed_fit_without_fitting(tmp_path):
    """fit_section renders a fit folder (summary.json, predictive.csv) into the report, and
    says how to make one when there is none."""
    assert "No committed fit" in "\n".join(fit.fit_section(tmp_path / "none"))
    spec = fit.load_spec(_spec(tmp_path, SMALL.format(generations=1, seed=7).replace(
        "fit_until = 2000", "fit_until = 1998").replace("predictive_draws = 0",
                                                        "predictive_draws = 6")))
    res = fit.run_fit(spec, tmp_path / "out", progress=False)
    table = fit.predictive_check(spec, res)
    assert set(table.statistic) == set(fit.observed(spec, fit._data_dir()))
    assert (~table.fitted).sum() == 2  # 1999 and 2000 held out
    text = "\n".join(fit.fit_section(tmp_path / "out"))
    from model.parameters import parameter_table

    default = parameter_table()["herd.offtake_rate"].default
    assert f"| herd.offtake_rate | 0.15–0.18 | {default:g}" in text
    held = res.summary["predictive"]
    assert f"{held['held_out_inside']} of 2 held-out statistics" in text
    assert "stock:Zavkhan:log_sfu:2000 (held out)" in text


def test_every_fit_spec_shipped_loads():
    """experiments/specs/fit_*.toml are fit specs (the others are sensitivity specs)."""
    specs = sorted((ROOT / "experiments/specs").glob("fit_*.toml"))
    assert specs
    for p in specs:
        assert fit.load_spec(p).parameters


def test_a_generation_is_capped_by_the_minimum_acceptance_rate(tmp_path):
    """min_acceptance_rate caps a generation at population / rate simulations (pyabc's
    max_eval, enforced by the local samplers): the fit stops with the last complete one."""
    spec = fit.load_spec(_spec(tmp_path, SMALL.format(generations=6, seed=4).replace(
        "predictive_draws = 0", "predictive_draws = 0\nmin_acceptance_rate = 0.9")))
    # the first generation cannot reach 90% acceptance: stopped after 20 / 0.9 simulations
    with pytest.raises(fit.FitError, match="no generation completed"):
        fit.run_fit(spec, tmp_path / "out", progress=False)
    h = pyabc.History(f"sqlite:///{tmp_path / 'out' / 'fit.db'}")
    assert h.total_nr_simulations <= 20 + 20 / 0.9 + 1  # calibration sample + the cap


def test_a_generation_on_dask_stops_after_max_eval_simulations(tmp_path):
    """pyabc's own Dask sampler ignores max_eval (population / min_acceptance_rate), so a
    generation that accepts nothing would run for ever; the fit's sampler stops it there,
    as the local samplers do, and pyabc ends the fit."""
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        sampler = fit.capped_dask_sampler(client, batch_size=2)
        prior = pyabc.Distribution(x=pyabc.RV("uniform", 0, 1))

        def model(p):
            return {"y": p["x"] + np.random.normal()}  # noqa: NPY002 (pyabc seeds it)

        abc = pyabc.ABCSMC(model, prior, lambda a, b: abs(a["y"] - b["y"]),
                           population_size=10, sampler=sampler,
                           eps=pyabc.epsilon.ListEpsilon([1e-9]))
        abc.new("sqlite:///" + str(tmp_path / "abc.db"), {"y": 0.5})
        abc.run(max_nr_populations=1, min_acceptance_rate=0.25)
    # max_eval = 10 / 0.25 = 40; nothing is accepted at tolerance 1e-9
    assert 40 <= sampler.nr_evaluations_ <= 40 + 2, sampler.nr_evaluations_


def test_the_section_warns_when_the_fitted_model_gave_other_results(tmp_path):
    """A fit that recorded the model's fingerprint is flagged when the current model's
    results differ, whatever git says; not when they agree (a refactoring). A fit records
    it with its fitted parameters pinned (fingerprint_params): the pins are what is
    compared, so that making the posterior's central values the defaults does not flag
    the fit, while any other change to the model does."""
    from experiments.report.provenance import model_fingerprint

    spec = fit.load_spec(ROOT / "experiments/specs/fit_default.toml")
    pins = fit.fingerprint_pins(spec)
    pinned = model_fingerprint(pins)
    assert pinned != model_fingerprint()  # the pins matter
    for session, stale in (({"model_fingerprint": model_fingerprint()}, False),
                           ({"model_fingerprint": "0" * 16}, True),
                           ({"model_fingerprint": pinned, "fingerprint_params": pins}, False),
                           # the same fingerprint read without its pins: another model
                           ({"model_fingerprint": pinned}, True)):
        (tmp_path / "manifest.json").write_text(json.dumps(
            {"sessions": [{"git": {"commit": "HEAD"}, **session}]}))
        text = "\n".join(fit._stale_text(tmp_path))
        assert ("of an earlier model" in text) is stale, (session, text)
    # the committed fit recorded its pins, and the current model is the fitted one
    manifest = json.loads((fit.COMMITTED_FIT / "manifest.json").read_text())
    assert manifest["sessions"][0]["fingerprint_params"] == pins


def test_the_section_warns_when_the_fit_is_of_an_earlier_model(tmp_path):
    """A committed fit made at a commit whose model/ differs from the work tree's is
    flagged; one made at the current model is not (skipped where git cannot tell)."""
    from experiments.report.provenance import model_changed_since

    if model_changed_since("HEAD") is None:
        pytest.skip("not a git checkout")
    root = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True).stdout.split()
    if not root or model_changed_since(root[-1]) is not True:
        pytest.skip("history too shallow to hold an earlier model")
    # HEAD is stale only with uncommitted changes to model/ in the work tree
    for commit, stale in ((root[-1], True), ("HEAD", model_changed_since("HEAD"))):
        (tmp_path / "manifest.json").write_text(json.dumps(
            {"sessions": [{"git": {"commit": commit}}]}))
        text = "\n".join(fit._stale_text(tmp_path))
        assert ("of an earlier model" in text) is stale, (commit, text)

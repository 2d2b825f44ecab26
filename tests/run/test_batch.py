"""`herdtrap batch`: paired seeds, backends, streaming, resume after SIGKILL, failures, bad input.

Small batches: 300 households, 5 years, 2 scenarios x 4 replicates (a run takes ~0.05 s).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
from killing import kill_after_first_part
from small_scenarios import write_scenarios

from experiments import cli
from experiments.run import batch as batch_mod
from experiments.run.batch import load_scenarios, run_batch
from experiments.run.execution import TIMING_COLUMNS, Task, run_tasks

REPO = Path(__file__).resolve().parents[2]
TABLES = ("runs", "timeseries", "ledger")
R = 4


def read(folder: Path, name: str) -> pd.DataFrame:
    df = pd.read_parquet(folder / f"{name}.parquet")
    return df.drop(columns=[c for c in TIMING_COLUMNS if c in df])


def assert_same_results(a: Path, b: Path, tables=TABLES) -> None:
    for name in tables:
        pd.testing.assert_frame_equal(read(a, name), read(b, name), check_exact=True)


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory) -> list[Path]:
    return write_scenarios(tmp_path_factory.mktemp("scenarios"))


@pytest.fixture(scope="module")
def scenarios(scenario_files):
    return load_scenarios([str(p) for p in scenario_files], None)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, scenarios) -> Path:
    """The batch run sequentially, uninterrupted."""
    out = tmp_path_factory.mktemp("ref") / "batch"
    report, _ = run_batch(scenarios, R, out, backend="sequential", progress=False)
    assert report.ok == 2 * R and report.failed == 0
    return out


def batch_cli(scenario_files, out: Path, *extra: str) -> int:
    return cli.main(["batch", *map(str, scenario_files), "--replicates", str(R), "--out", str(out),
                     "--no-progress", *extra])


# --------------------------------------------------------------------------- results


def test_batch_writes_one_row_per_run_with_paired_seeds(reference, scenarios):
    runs = pd.read_parquet(reference / "runs.parquet")
    assert len(runs) == 2 * R
    assert list(runs["scenario"]) == ["small_base"] * R + ["small_policy"] * R
    assert list(runs["replicate"]) == list(range(R)) * 2
    assert (runs["status"] == "ok").all() and runs["error"].isna().all()
    assert set(runs["scenario_hash"]) == {sc.hash for sc in scenarios}
    for col in ("poverty_headcount_final", "asset_poverty_final", "fiscal_cost_total"):
        assert runs[col].notna().all()
    # common random numbers: replicate r has the same weather in both scenarios
    ts = pd.read_parquet(reference / "timeseries.parquet")
    assert len(ts) == 2 * R * 5
    sev = ts.pivot_table(index=["replicate", "year"], columns="scenario",
                         values="severity_zavkhan")
    pd.testing.assert_series_equal(sev["small_base"], sev["small_policy"], check_names=False)
    # ... and different replicates have different weather
    assert sev["small_base"].unstack("year").nunique().min() > 1
    assert (pd.read_parquet(reference / "ledger.parquet")
            .groupby("scenario")["replicate"].nunique() == R).all()


def test_manifest_says_what_produced_the_batch(reference, scenarios):
    m = json.loads((reference / "manifest.json").read_text())
    assert m["kind"] == "batch"
    assert m["counts"] == {"done": 2 * R, "failed": 0, "total": 2 * R}
    assert m["replicates"] == R and m["root_seed"] == batch_mod.DEFAULT_ROOT_SEED
    assert m["years"] == 5
    assert {k: v["hash"] for k, v in m["scenarios"].items()} == {s.name: s.hash for s in scenarios}
    assert m["scenarios"]["small_policy"]["resolved"]["params"]["income.offfarm_per_adult"] == 1900
    assert sorted(m["seeds"]) == [str(r) for r in range(R)]
    assert m["seeds"]["2"] == [batch_mod.DEFAULT_ROOT_SEED, [2]]
    assert m["finished"] and m["started"] and m["versions"]["numpy"]
    assert "commit" in m["git"]
    assert not (reference / "parts").exists()  # chunks merged away


def test_same_command_twice_gives_identical_results(reference, scenario_files, tmp_path):
    assert batch_cli(scenario_files, tmp_path / "again", "--backend", "sequential") == 0
    assert_same_results(reference, tmp_path / "again")


def test_backends_and_job_counts_give_identical_results(reference, scenarios, tmp_path):
    run_batch(scenarios, R, tmp_path / "loky1", backend="loky", jobs=1, progress=False)
    run_batch(scenarios, R, tmp_path / "loky2", backend="loky", jobs=2, progress=False,
              flush_every=1)
    report, manifest = run_batch(scenarios, R, tmp_path / "dask", backend="dask", jobs=2,
                                 progress=False)
    assert report.ok == 2 * R and manifest["backend"] == "dask"
    for name in ("loky1", "loky2", "dask"):
        assert_same_results(reference, tmp_path / name)


def test_batch_runs_on_a_dask_cluster_given_by_its_scheduler_address(reference, scenario_files,
                                                                     tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        assert batch_cli(scenario_files, tmp_path / "remote", "--backend", "dask",
                         "--scheduler", cluster.scheduler_address) == 0
    assert_same_results(reference, tmp_path / "remote")


def test_household_panel_follows_the_same_households(scenarios, tmp_path):
    """The panel is a sample of household ids: the same households in every scenario of
    a replicate, each in the years it lives in the region, households founded during
    the run included."""
    out = tmp_path / "panel"
    run_batch(scenarios, 2, out, backend="sequential", panel_fraction=0.1, progress=False)
    panel = pd.read_parquet(out / "panel.parquet")
    assert {"scenario", "replicate", "year", "household", "hid", "herd_sfu", "cash_kmnt",
            "debt_kmnt", "herding", "transfers_kmnt"} <= set(panel.columns)
    per_run = panel.groupby(["scenario", "replicate", "year"])["hid"].apply(tuple)
    per_run = per_run.unstack("scenario")
    assert (per_run.nunique(axis=1) == 1).all()  # same households in every scenario
    assert (panel["hid"] % 10 == 0).all()
    start = panel[panel["year"] == 0].groupby(["scenario", "replicate"]).size()
    assert (start == 30).all()  # 10% of 300 households
    # households founded during the run join the sample ...
    assert (panel["hid"] >= 300).any()
    # ... and a sampled household's slot is its own for as long as it lives
    slots = panel.groupby(["scenario", "replicate", "hid"])["household"].nunique()
    assert (slots == 1).all()
    # every sampled household living in the region is there: the full panel agrees
    full = tmp_path / "full"
    run_batch(scenarios[:1], 1, full, backend="sequential", panel_fraction=1.0, progress=False)
    everyone = pd.read_parquet(full / "panel.parquet")
    mine = panel[(panel["scenario"] == scenarios[0].name) & (panel["replicate"] == 0)]
    expected = everyone[everyone["hid"] % 10 == 0]
    assert sorted(zip(mine["year"], mine["hid"], strict=True)) == sorted(
        zip(expected["year"], expected["hid"], strict=True))
    assert json.loads((out / "manifest.json").read_text())["household_panel_fraction"] == 0.1


# --------------------------------------------------------------------------- resume


def test_rerun_skips_finished_runs(reference, scenarios, capsys):
    before = read(reference, "runs")
    report, manifest = run_batch(scenarios, R, reference, backend="sequential", progress=False)
    assert report.skipped == 2 * R and report.ran == 0
    assert_frame = pd.testing.assert_frame_equal
    assert_frame(read(reference, "runs"), before)
    assert len(manifest["timings"]["sessions"]) >= 2


def test_sigkill_part_way_then_resume_is_complete_without_duplicates(scenario_files, scenarios,
                                                                     tmp_path):
    years, reps = 30, 6  # long enough to kill part way: 12 runs of ~0.1 s
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "experiments.cli", "batch", *map(str, scenario_files),
           "--replicates", str(reps), "--years", str(years), "--out", str(out),
           "--backend", "sequential", "--flush-every", "1", "--no-progress"]
    kill_after_first_part(cmd, out)
    parts = out / "parts"
    assert not (out / "runs.parquet").exists()  # nothing counts as finished yet
    done_before = len([p for p in parts.iterdir() if p.name.startswith("part-")])
    assert 1 <= done_before < 2 * reps
    # debris of a crash in the middle of writing: must be ignored
    (parts / ".tmp-deadbeef").mkdir(exist_ok=True)
    (parts / ".tmp-deadbeef" / "runs.parquet").write_bytes(b"half a file")
    (out / ".runs.parquet.0123.tmp").write_bytes(b"half a file")

    assert cli.main([c for c in cmd[3:]]) == 0  # resume, same command
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2 * reps and not runs["task_id"].duplicated().any()
    assert (runs["status"] == "ok").all()
    m = json.loads((out / "manifest.json").read_text())
    assert m["counts"] == {"done": 2 * reps, "failed": 0, "total": 2 * reps}
    assert m["timings"]["sessions"][-1]["ran"] == 2 * reps - done_before
    assert not list(out.glob(".*.tmp")) and not parts.exists()

    fresh = tmp_path / "uninterrupted"
    run_batch(load_scenarios([str(p) for p in scenario_files], years), reps, fresh,
              backend="sequential", progress=False)
    assert_same_results(out, fresh)
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert not ts.duplicated(["scenario", "replicate", "year"]).any() and len(ts) == 2 * reps * 30


# --------------------------------------------------------------------------- failures


def test_a_failing_run_becomes_a_record_and_the_batch_goes_on(scenario_files, reference,
                                                               tmp_path, monkeypatch, capsys):
    real = batch_mod.simulate

    def flaky(scenario, seed, **kw):
        if scenario.name == "small_policy" and tuple(seed.spawn_key) == (2,):
            raise RuntimeError("household table exploded")
        return real(scenario, seed, **kw)

    monkeypatch.setattr(batch_mod, "simulate", flaky)
    out = tmp_path / "flaky"
    assert batch_cli(scenario_files, out, "--backend", "sequential") == 1
    err = capsys.readouterr()
    assert "1 failed" in err.out and "small_policy/r0002" in err.out
    runs = pd.read_parquet(out / "runs.parquet")
    bad = runs[runs["status"] == "failed"]
    assert list(bad["task_id"]) == ["small_policy/r0002"]
    assert "RuntimeError: household table exploded" in bad["error"].iloc[0]
    assert (runs["status"] == "ok").sum() == 2 * R - 1
    m = json.loads((out / "manifest.json").read_text())
    assert m["counts"] == {"done": 2 * R - 1, "failed": 1, "total": 2 * R}

    # the same command again retries the failed run only
    monkeypatch.setattr(batch_mod, "simulate", real)
    assert batch_cli(scenario_files, out, "--backend", "sequential") == 0
    assert "7 already done" in capsys.readouterr().out
    assert_same_results(reference, out)


def test_run_tasks_records_an_invalid_seed_as_a_failure(scenarios, tmp_path):
    tasks = [Task("good", scenarios[0], (1, 0)), Task("bad", scenarios[0], -5)]
    report = run_tasks(tasks, tmp_path / "t", backend="sequential", progress=False)
    assert (report.ok, report.failed) == (1, 1)
    runs = pd.read_parquet(tmp_path / "t" / "runs.parquet")
    assert list(runs["task_id"]) == ["good", "bad"]
    assert "ValueError" in runs.loc[1, "error"]
    ts = pd.read_parquet(tmp_path / "t" / "timeseries.parquet")
    assert set(ts["task_id"]) == {"good"}


# --------------------------------------------------------------------------- bad input


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("herdtrap batch: error:")
    return err


@pytest.mark.parametrize(
    "args, words",
    [
        (["no_such_scenario_xyz", "--replicates", "2"], "not found"),
        (["{base}", "--replicates", "0"], "replicates"),
        (["{base}", "--replicates", "2", "--household-panel", "1.5"], "household-panel"),
        (["{base}", "{base}", "--replicates", "2"], "unique"),
        (["{bad}", "--replicates", "2"], "unknown"),
        (["{base}", "--replicates", "2", "--scheduler", "tcp://127.0.0.1:1"], "dask"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, words, scenario_files, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[parameters]\n"herd.offtake_ratio" = 0.2\n')
    args = [a.format(base=scenario_files[0], bad=bad) for a in args]
    assert cli.main(["batch", *args, "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert words in _one_line_error(capsys)


def test_a_folder_holding_a_different_batch_is_refused(reference, scenario_files, capsys):
    before = (reference / "manifest.json").read_text()
    assert batch_cli(scenario_files[:1], reference) == 2
    err = _one_line_error(capsys)
    assert "holds a different batch" in err and "scenarios" in err
    assert cli.main(["batch", *map(str, scenario_files), "--replicates", "5",
                     "--out", str(reference), "--no-progress"]) == 2
    assert "replicates 4 vs 5" in _one_line_error(capsys)
    assert (reference / "manifest.json").read_text() == before


def test_a_batch_run_with_other_model_code_is_not_resumed(reference, scenario_files, tmp_path,
                                                          capsys):
    """Runs of another model version must not be mixed with this one's: a folder whose
    manifest records other model code is refused, without the offer to resume it, and
    left as it was."""
    import shutil

    out = tmp_path / "old"
    shutil.copytree(reference, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["spec"]["model_code"]) == 16
    manifest["spec"]["model_code"] = "0123456789abcdef"
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert batch_cli(scenario_files, out) == 2
    err = _one_line_error(capsys)
    assert "other model code" in err and "0123456789abcdef" in err, err
    assert "cannot be resumed" in err and "resume it" not in err, err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    # the same folder with this model's code resumes (nothing left to run)
    manifest["spec"]["model_code"] = json.loads(
        (reference / "manifest.json").read_text())["spec"]["model_code"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert batch_cli(scenario_files, out) == 0


def test_a_folder_with_other_files_is_refused(scenario_files, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert batch_cli(scenario_files, tmp_path) == 2
    assert "no batch manifest" in _one_line_error(capsys)

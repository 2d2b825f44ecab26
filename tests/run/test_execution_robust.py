"""Starting, racing and ending batches: the folder lock comes first, a failed start leaves
nothing, workers die with their batch, counts have limits, Dask uses its workers.

Small batches (tests/small_scenarios.py with fewer households and years) keep this quick.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from dask_cluster import dask_env, dask_scheduler, start_worker
from small_scenarios import write_scenarios

from experiments import cli
from experiments.run.batch import load_scenarios
from experiments.run.execution import TIMING_COLUMNS, ExecutionError, folder_lock

REPO = Path(__file__).resolve().parents[2]
# forked children run `herdtrap batch` (sequential backend): they use no inherited threads
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
TABLES = ("runs", "timeseries", "ledger")


def read(folder: Path, name: str) -> pd.DataFrame:
    df = pd.read_parquet(folder / f"{name}.parquet")
    return df.drop(columns=[c for c in TIMING_COLUMNS if c in df])


def assert_same_results(a: Path, b: Path) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(read(a, name), read(b, name), check_exact=True)


def one_line(err: str, command: str = "batch") -> str:
    err = err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"herdtrap {command}: error:"), err
    return err


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[Path]:
    """Two small scenarios, made smaller still: 60 households, 2 years."""
    folder = tmp_path_factory.mktemp("scen")
    base, policy = write_scenarios(folder)
    base.write_text(base.read_text().replace("years = 5", "years = 2")
                    .replace('"population.households" = 300', '"population.households" = 60'))
    return [base, policy]


def batch_args(files, out: Path, *extra: str, replicates: int = 2) -> list[str]:
    return ["batch", *map(str, files), "--replicates", str(replicates), "--out", str(out),
            "--no-progress", *extra]


# --------------------------------------------------------------------------- failed starts


@pytest.mark.parametrize("extra, words", [
    (["--backend", "dask", "--scheduler", "tcp://127.0.0.1:1", "--worker-timeout", "2"],
     "cannot reach the Dask scheduler"),
    (["--backend", "loky", "--scheduler", "tcp://127.0.0.1:1"], "needs --backend dask"),
    (["--backend", "dask", "--worker-timeout", "0"], "--worker-timeout"),
    (["--replicates", "1000000000000"], "limit"),
    (["--jobs", "100000"], "limit"),
])
def test_a_failed_start_leaves_no_folder(files, tmp_path, capsys, extra, words):
    out = tmp_path / "deep" / "er" / "batch"
    t0 = time.monotonic()
    assert cli.main(batch_args(files, out, *extra)) == 2
    assert words in one_line(capsys.readouterr().err)
    assert not (tmp_path / "deep").exists()
    assert time.monotonic() - t0 < 60  # the huge --replicates is refused, not built


def test_a_failed_start_on_an_unfinished_folder_leaves_it_as_it_was(files, tmp_path, capsys,
                                                                      monkeypatch):
    from experiments.run import batch as batch_mod

    real = batch_mod.simulate

    def flaky(scenario, seed, **kw):
        if tuple(seed.spawn_key) == (1,):
            raise RuntimeError("lost")
        return real(scenario, seed, **kw)

    out = tmp_path / "half"
    monkeypatch.setattr(batch_mod, "simulate", flaky)
    assert cli.main(batch_args(files, out, "--backend", "sequential")) == 1
    monkeypatch.setattr(batch_mod, "simulate", real)
    capsys.readouterr()
    par = json.loads((out / "manifest.json").read_text())["parallelism"]
    assert par == {"backend": "sequential", "workers": 1, "threads": 1}
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    # the retry needs the cluster, which is unreachable: refused before any write
    assert cli.main(batch_args(files, out, "--backend", "dask", "--scheduler",
                               "tcp://127.0.0.1:1", "--worker-timeout", "2")) == 2
    assert "cannot reach" in one_line(capsys.readouterr().err)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_folder_lock_refuses_a_second_holder_and_removes_a_new_folder_on_failure(tmp_path):
    out = tmp_path / "new" / "x"
    with pytest.raises(RuntimeError), folder_lock(out):
        raise RuntimeError("boom")
    assert not (tmp_path / "new").exists()
    with folder_lock(out):
        with folder_lock(out):  # reentrant in one process
            (out / "manifest.json").write_text("{}")
        child = multiprocessing.get_context("fork").Process(target=_try_lock, args=(out,))
        child.start()
        child.join(30)
        assert child.exitcode == 2
    assert (out / "manifest.json").exists()  # a started folder is kept


def _try_lock(out: Path) -> None:
    try:
        with folder_lock(out):
            os._exit(0)
    except ExecutionError:
        os._exit(2)


# --------------------------------------------------------------------------- the race


def _racer(args: list[str], err_path: str, barrier) -> None:
    """A forked `herdtrap batch` that starts when its rival does (same moment)."""
    fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 2)
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    barrier.wait()
    rc = cli.main(args)
    sys.stderr.flush()
    os._exit(rc)


def test_race_two_batches_started_together_on_one_folder_one_is_refused(files, tmp_path):
    """20 rounds: batch A (both scenarios) and batch B (the first only) start at the same
    moment on one folder. Every time exactly one is refused with one line and exit 2,
    and the survivor's folder equals an uncontested run of its batch."""
    ctx = multiprocessing.get_context("fork")
    batches = {"A": files, "B": files[:1]}
    ref = {}
    for name, fs in batches.items():
        ref[name] = tmp_path / f"ref-{name}"
        assert cli.main(batch_args(fs, ref[name], "--backend", "sequential")) == 0
    outcomes = {"A": 0, "B": 0}
    reasons = {"in use": 0, "different batch": 0}
    for first in range(0, 20, 4):  # 4 rounds at a time, each on its own folder
        rounds = {}
        for round_ in range(first, first + 4):
            out = tmp_path / f"race{round_:02d}"
            barrier = ctx.Barrier(2)
            procs = {}
            for name, fs in batches.items():
                err = tmp_path / f"race{round_:02d}-{name}.err"
                p = ctx.Process(target=_racer, args=(
                    batch_args(fs, out, "--backend", "sequential"), str(err), barrier))
                p.start()
                procs[name] = (p, err)
            rounds[round_] = (out, procs)
        for round_, (out, procs) in rounds.items():
            codes = {}
            for name, (p, _) in procs.items():
                p.join(120)
                codes[name] = p.exitcode
            assert sorted(codes.values()) == [0, 2], (round_, codes)
            winner = next(n for n, c in codes.items() if c == 0)
            loser = next(n for n, c in codes.items() if c == 2)
            msg = one_line(procs[loser][1].read_text())
            assert "in use by another herdtrap process" in msg or "holds a different batch" in msg
            reasons["in use" if "in use" in msg else "different batch"] += 1
            outcomes[winner] += 1
            assert_same_results(out, ref[winner])
            m = json.loads((out / "manifest.json").read_text())
            assert list(m["spec"]["scenarios"]) == [
                load_scenarios([str(f)], None)[0].name for f in batches[winner]]
    assert sum(outcomes.values()) == 20
    print(f"race: survivors {outcomes}, refusals {reasons}")


# --------------------------------------------------------------------------- workers die


@pytest.mark.parametrize("backend", ["loky", "dask"])
def test_local_workers_exit_when_the_batch_process_is_killed(backend, files, tmp_path):
    """kill -9 of the batch process alone (not its process group): its 2 workers and the
    resource tracker (loky's, or multiprocessing's for a Dask LocalCluster) exit too."""
    psutil = pytest.importorskip("psutil")
    if backend == "dask":
        pytest.importorskip("distributed")
    out = tmp_path / "killed"
    # runs long enough to be killed in the middle (2 workers busy)
    cmd = [sys.executable, "-m", "experiments.cli", *batch_args(
        files, out, "--backend", backend, "--jobs", "2", "--years", "30", "--flush-every", "1",
        replicates=200)]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        parent = psutil.Process(proc.pid)
        children: list = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            children = parent.children(recursive=True)
            busy = (out / "parts").is_dir() and any((out / "parts").iterdir())
            if len(children) >= 3 and busy:  # 2 workers + the resource tracker
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()
        children = parent.children(recursive=True)
        assert len(children) >= 3, [c.cmdline() for c in children]
        os.kill(proc.pid, signal.SIGKILL)  # the batch process alone, not its group
        proc.wait(30)
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert alive == [], [(c.pid, c.cmdline()) for c in alive]
    finally:
        with contextlib.suppress(Exception):
            proc.kill()
        proc.stderr.close()


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize("argv, words", [
    (["hindcast", "--aimag", "Zavkhan", "--replicates", "100000000000", "--out", "{o}"],
     "--replicates"),
    (["trap", "{o}", "--bootstrap", "1000000000000"], "--bootstrap"),
    (["demo", "--replicates", "20000", "--out", "{o}"], "--replicates"),
    (["validate", "--replicates", "20000", "--out", "{o}/v.md"], "--replicates"),
])
def test_huge_counts_are_refused_at_once(argv, words, tmp_path, capsys):
    argv = [a.format(o=tmp_path / "o") for a in argv]
    assert cli.main(argv) == 2
    assert words in one_line(capsys.readouterr().err, argv[0])
    assert not (tmp_path / "o").exists()


def test_limits_do_not_refuse_a_big_but_sane_batch(files, tmp_path):
    """10,000 replicates is allowed: the start check passes (the run itself is not done)."""
    from experiments.run.limits import MAX_REPLICATES, check_limits

    check_limits(replicates=MAX_REPLICATES, runs=2 * MAX_REPLICATES, jobs=64)
    with pytest.raises(ValueError, match="limit"):
        check_limits(replicates=MAX_REPLICATES + 1)



# --------------------------------------------------------------------------- Dask


@pytest.mark.slow
@pytest.mark.parametrize("n_workers", [1, 2])
def test_a_dask_cluster_runs_the_batch_on_its_workers_and_a_lost_cluster_is_an_error(
        n_workers, files, tmp_path, capsys):
    """Scheduler and workers as separate processes: every run happens on a worker (one
    worker included), results equal the sequential ones, the manifest says how many
    workers ran what; killing every worker during a batch ends it with one line, exit 2."""
    distributed = pytest.importorskip("distributed")
    ref = tmp_path / "ref"
    assert cli.main(batch_args(files, ref, "--backend", "sequential")) == 0
    with dask_scheduler(tmp_path) as address:
        workers = [start_worker(address, tmp_path, i) for i in range(n_workers)]
        try:
            with distributed.Client(address, timeout="30s") as client:
                client.wait_for_workers(n_workers, timeout=60)
                pids = client.run(os.getpid)  # worker address -> pid
            assert sorted(pids.values()) == sorted(w.pid for w in workers)

            out = tmp_path / "dask"
            capsys.readouterr()
            assert cli.main(batch_args(files, out, "--backend", "dask", "--scheduler", address,
                                       "--worker-timeout", "5")) == 0
            assert_same_results(out, ref)
            par = json.loads((out / "manifest.json").read_text())["parallelism"]
            assert (par["backend"], par["workers"], par["threads"]) == ("dask", n_workers,
                                                                       n_workers)
            ran = par["runs_per_worker"]
            assert sum(ran.values()) == 4 and set(ran) <= set(pids)  # all on the workers
            assert len(ran) == n_workers  # every worker took part

            # a long batch; every worker is killed once runs have finished
            out = tmp_path / "lost"
            cmd = [sys.executable, "-m", "experiments.cli", *batch_args(
                files, out, "--backend", "dask", "--scheduler", address, "--worker-timeout",
                "3", "--years", "30", "--flush-every", "1", replicates=100)]
            proc = subprocess.Popen(cmd, cwd=REPO, env=dask_env(), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                if (out / "parts").is_dir() and any((out / "parts").iterdir()):
                    break
                time.sleep(0.05)
            assert proc.poll() is None, proc.stderr.read()
            for w in workers:
                w.kill()
                w.wait(30)
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 2
            msg = one_line(err)
            assert "has had no worker for 3 s" in msg and "--worker-timeout" in msg
            assert any((out / "parts").iterdir())  # finished runs are kept for a resume
        finally:
            for w in workers:
                w.kill()
                w.wait()


def test_a_dask_scheduler_without_workers_is_an_error_and_writes_nothing(files, tmp_path,
                                                                         capsys):
    with dask_scheduler(tmp_path) as address:
        out = tmp_path / "none"
        assert cli.main(batch_args(files, out, "--backend", "dask", "--scheduler", address,
                                   "--worker-timeout", "2")) == 2
    assert "no Dask worker joined the scheduler" in one_line(capsys.readouterr().err)
    assert not out.exists()

"""Run many simulations through joblib and stream their results to a folder.

This is the execution layer that batches (`herdtrap batch`) and sensitivity
analysis share. A *task* is plain data — an id, a resolved scenario, a seed,
the household-panel fraction and some labels — and :func:`run_tasks` runs the
tasks that are not done yet:

* through joblib: ``sequential``, ``loky`` (local processes) or ``dask``
  (``joblib.parallel_config(backend="dask")`` on a ``distributed.Client``:
  the scheduler address you give, or a ``LocalCluster`` on this machine);
* each run is :func:`experiments.run.runner.simulate` wrapped in ``try/except``:
  a run that raises becomes a ``failed`` record with its error, the other runs
  go on;
* results reach the parent as they finish (``return_as="generator_unordered"``)
  and are written in small chunks, each chunk a folder ``parts/part-NNNNNN/``
  (runs.parquet, timeseries.parquet, ledger.parquet, panel.parquet). A chunk is
  written under a temporary name and renamed into place, so after a crash
  (even SIGKILL) only complete chunks are visible;
* re-running on the same folder skips every task whose latest record is
  ``ok`` (failed tasks are tried again);
* at the end, :func:`compact` merges the chunks into ``runs.parquet``,
  ``timeseries.parquet``, ``ledger.parquet`` (and ``panel.parquet``), rows in
  the order of the task list, so the files have the same content whatever the
  backend, the number of workers or the order in which runs finished.

Only the parent process writes; workers return their (small) tables. That is
what lets a remote Dask cluster without a shared file system run a batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from experiments.report.provenance import model_code_refusal
from experiments.run.runner import RunOutput, simulate
from model.scenario import Scenario
from model.streams import run_seed_sequence

BACKENDS = ("sequential", "loky", "dask")
#: Tables a run can contribute besides its runs.parquet row (RunOutput attribute names).
TABLES = ("timeseries", "ledger", "panel", "household_outcomes", "triggers", "households",
          "soums")
#: Tables kept by default (the households' final state is large; soums is rarely needed).
DEFAULT_TABLES = ("timeseries", "ledger", "panel", "household_outcomes", "triggers")
#: Columns of runs.parquet that measure time, so differ between two identical runs.
TIMING_COLUMNS = ("elapsed_s",)
PARTS = "parts"
#: Write a chunk at the latest when the buffered tables hold this many rows (memory bound).
FLUSH_ROWS = 200_000
LOCK = ".lock"

SeedLike = np.random.SeedSequence | tuple[int, int] | int


def read_existing_manifest(out: Path, kind: str, key: str,
                           error: type[Exception] = ValueError) -> dict[str, Any] | None:
    """The manifest of a results folder about to be (re)used, or None if it is new.

    Raises ``error`` (one line, for exit code 2) when ``out`` is a file, a non-empty
    folder without a manifest, an unreadable manifest, or a result of another
    ``kind`` (or without its identity block ``key``). Comparing the identity is the
    caller's business.
    """
    if out.exists() and not out.is_dir():
        raise error(f"{out} exists and is not a folder")
    path = out / "manifest.json"
    if not path.exists():
        stray = [p.name for p in out.iterdir() if not p.name.startswith(".")] if out.is_dir() else []
        if stray:
            raise error(f"{out} is not empty and holds no {kind} manifest "
                        f"({', '.join(sorted(stray)[:3])}...); choose another --out")
        return None
    import json

    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise error(f"{path}: unreadable manifest ({exc}); choose another --out") from None
    if old.get("kind") != kind or key not in old:
        raise error(f"{out} holds a {old.get('kind', 'different')} result, not a {kind}; "
                    "choose another --out")
    return old


def resumable_manifest(out: Path, kind: str, key: str, identity: Mapping[str, Any],
                       difference: Callable[[Mapping[str, Any], Mapping[str, Any]], str | None],
                       error: type[Exception], *, what: str, resume: str
                       ) -> dict[str, Any] | None:
    """:func:`read_existing_manifest`, then refuse a folder that holds another ``what``.

    ``difference(old[key], identity)`` names what differs (None when the same); the
    error says to choose another --out, to delete the folder or to ``resume`` the
    original work (a model or scenario changed since, e.g. after an update). A folder
    whose runs came from other model code (``identity["model_code"]``,
    :func:`experiments.report.provenance.model_code_hash`) is refused without the offer
    to resume: its runs would mix two models.
    """
    old = read_existing_manifest(out, kind, key, error)
    if old is None:
        return None
    if identity.get("model_code") is not None:
        refusal = model_code_refusal(out, what, old[key].get("model_code"),
                                     identity["model_code"])
        if refusal:
            raise error(refusal)
    diff = difference(old[key], identity)
    if diff:
        raise error(f"{out} holds a different {what} ({diff}); choose another --out, "
                    f"delete {out} to start again, or {resume} to resume it")
    return old


class ExecutionError(Exception):
    """A batch cannot run as asked (bad backend, missing extra, folder in use, ...)."""


@dataclass(frozen=True)
class Task:
    """One run to do: plain data, so that any backend can ship it to a worker.

    Attributes:
        task_id: unique and stable id (e.g. ``"baseline/r0007"``); resume keys on it.
        scenario: the resolved scenario.
        seed: a SeedSequence, ``(root_seed, replicate)`` (common random numbers:
            :func:`model.streams.run_seed_sequence`) or an int.
        panel_fraction: share of household slots followed in the yearly panel (0 = none).
        labels: columns added to every row of every table (e.g. scenario, replicate).
        extra: columns added to the runs.parquet row only (e.g. hash, root seed, inputs).
    """

    task_id: str
    scenario: Scenario
    seed: SeedLike
    panel_fraction: float = 0.0
    labels: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def seed_sequence(self) -> np.random.SeedSequence | int:
        if isinstance(self.seed, tuple):
            return run_seed_sequence(*self.seed)
        return self.seed


@dataclass
class RunResult:
    """What a worker sends back: the runs.parquet row and the run's small tables."""

    row: dict[str, Any]
    tables: dict[str, pd.DataFrame]


@dataclass
class Report:
    """What :func:`run_tasks` did."""

    total: int  # tasks in the list
    skipped: int  # already done before this call
    ran: int  # runs finished in this call (ok or failed)
    ok: int  # tasks whose latest record is ok (whole folder)
    failed: int  # tasks whose latest record is failed (whole folder)
    wall_s: float  # time of this call
    run_s: float  # summed run time of the runs of this call
    failures: list[tuple[str, str]] = field(default_factory=list)  # (task_id, error)
    compacted: bool = False
    backend: Any = None  # the Backend used (None when nothing ran)

    @property
    def complete(self) -> bool:
        return self.ok + self.failed == self.total


def run_task(
    task: Task,
    tables: Sequence[str] = DEFAULT_TABLES,
    run: Callable[..., RunOutput] | None = None,
) -> RunResult:
    """Run one task in a worker; never raises for a failing model run."""
    run = run or simulate
    t0 = time.perf_counter()
    row: dict[str, Any] = {"task_id": task.task_id, **task.labels, **task.extra}
    out_tables: dict[str, pd.DataFrame] = {}
    try:
        out = run(task.scenario, task.seed_sequence(), panel_fraction=task.panel_fraction)
        row.update(status="ok", error=None, elapsed_s=0.0, **out.summary)
        front = {"task_id": task.task_id, **task.labels}
        for name in tables:
            df = getattr(out, name, None)
            if df is None or len(df) == 0:
                continue
            df = df.reset_index(drop=True)
            for i, (col, value) in enumerate(front.items()):
                if col in df.columns:
                    df = df.drop(columns=col)
                df.insert(i, col, value)
            out_tables[name] = df
    except Exception as exc:  # a failing run is a record, not a dead batch
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}{where}", elapsed_s=0.0)
        out_tables = {}
    row["elapsed_s"] = time.perf_counter() - t0
    return RunResult(row=row, tables=out_tables)


# --------------------------------------------------------------------------- storage


def _part_dirs(out_dir: Path) -> list[Path]:
    parts = out_dir / PARTS
    if not parts.is_dir():
        return []
    return sorted(p for p in parts.iterdir() if p.is_dir() and p.name.startswith("part-"))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _to_arrow(df: pd.DataFrame) -> pa.Table:
    table = pa.Table.from_pandas(df, preserve_index=False)
    return table.replace_schema_metadata(None)


def _write_table(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path)
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _runs_table(rows: list[dict[str, Any]]) -> pa.Table:
    table = pa.Table.from_pylist(rows)
    for col, kind in (("error", pa.string()), ("status", pa.string()),
                      ("elapsed_s", pa.float64())):
        i = table.schema.get_field_index(col)
        if i >= 0 and table.schema.field(i).type != kind:
            table = table.set_column(i, col, table.column(col).cast(kind))
    return table


def write_part(out_dir: Path, results: Sequence[RunResult]) -> Path | None:
    """Write finished runs as one chunk folder, atomically (temp folder + rename)."""
    if not results:
        return None
    parts = out_dir / PARTS
    parts.mkdir(parents=True, exist_ok=True)
    tmp = parts / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        _write_table(tmp / "runs.parquet", _runs_table([r.row for r in results]))
        names = sorted({name for r in results for name in r.tables})
        for name in names:
            frames = [r.tables[name] for r in results if name in r.tables]
            table = pa.concat_tables([_to_arrow(f) for f in frames], promote_options="permissive")
            _write_table(tmp / f"{name}.parquet", table)
        _fsync_dir(tmp)
        existing = _part_dirs(out_dir)
        seq = int(existing[-1].name.split("-")[1]) + 1 if existing else 1
        final = parts / f"part-{seq:06d}"
        os.rename(tmp, final)  # atomic: the chunk counts only once it is complete
        _fsync_dir(parts)
        return final
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _sources(out_dir: Path) -> list[Path]:
    """Where records live, oldest first: the compacted folder itself, then the chunks."""
    sources = [out_dir] if (out_dir / "runs.parquet").exists() else []
    return sources + _part_dirs(out_dir)


def latest_status(out_dir: Path) -> dict[str, str]:
    """task_id -> status of its latest record ("ok" or "failed") in ``out_dir``."""
    status: dict[str, str] = {}
    for src in _sources(out_dir):
        path = src / "runs.parquet"
        if not path.exists():
            continue
        t = pq.read_table(path, columns=["task_id", "status"])
        status.update(zip(t.column("task_id").to_pylist(), t.column("status").to_pylist(),
                          strict=True))
    return status


def _unify(tables: list[pa.Table]) -> pa.Table:
    table = pa.concat_tables(tables, promote_options="permissive")
    # string/large_string mixes: one type, whatever the chunking
    fields = [pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f
              for f in table.schema]
    return table.cast(pa.schema(fields))


def compact(out_dir: Path, task_ids: Sequence[str]) -> dict[str, int]:
    """Merge chunks into the folder's tables, in task-list order; then drop the chunks.

    For each task the latest record wins (a retried failure replaces the old
    record). Tasks not in ``task_ids`` are left out. Writing is atomic per file
    and the chunks are removed only after every table is written, so a crash
    part way leaves a folder that the next compaction repairs.

    Returns:
        rows written per table.
    """
    out_dir = Path(out_dir)
    sources = _sources(out_dir)
    order = {tid: i for i, tid in enumerate(task_ids)}
    winner: dict[str, int] = {}
    for s, src in enumerate(sources):
        path = src / "runs.parquet"
        if path.exists():
            for tid in pq.read_table(path, columns=["task_id"]).column("task_id").to_pylist():
                if tid in order:
                    winner[tid] = s
    wins: dict[int, list[str]] = {}
    for tid, s in winner.items():
        wins.setdefault(s, []).append(tid)
    names = ["runs", *[n for n in TABLES if any((src / f"{n}.parquet").exists() for src in sources)]]
    written: dict[str, int] = {}
    for name in names:
        pieces = []
        for s, src in enumerate(sources):
            path = src / f"{name}.parquet"
            if not path.exists() or s not in wins:
                continue
            t = pq.read_table(path)
            mask = pc.is_in(t.column("task_id"), value_set=pa.array(wins[s], pa.string()))
            t = t.filter(mask)
            if t.num_rows:
                pieces.append(t)
        if not pieces:
            continue
        table = _unify(pieces)
        key = pc.index_in(table.column("task_id"), value_set=pa.array(list(task_ids), pa.string()))
        table = table.take(pc.sort_indices(key))  # stable: a run's rows keep their order
        target = out_dir / f"{name}.parquet"
        tmp = out_dir / f".{name}.parquet.{uuid.uuid4().hex}.tmp"
        try:
            _write_table(tmp, table)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        written[name] = table.num_rows
    _fsync_dir(out_dir)
    for src in sources:
        if src != out_dir:
            shutil.rmtree(src, ignore_errors=True)
    with contextlib.suppress(OSError):
        (out_dir / PARTS).rmdir()  # only if empty
    return written


#: Results folders whose lock is held, (pid, resolved path) -> nesting depth (the pid keeps
#: a forked child from taking its parent's lock for its own).
_HELD: dict[tuple[int, str], int] = {}


def _lock_file(out_dir: Path):
    """Open and flock ``out_dir/.lock``; the file object, or ExecutionError if taken.

    A start that fails removes its new folder (lock file included) while holding the
    lock; a process that locked that removed file tries again on a fresh one.
    """
    for _ in range(20):
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            fh = open(out_dir / LOCK, "a")  # noqa: SIM115 - closed by the caller
        except FileNotFoundError:  # the folder went away between mkdir and open
            continue
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise ExecutionError(f"{out_dir} is in use by another herdtrap process") from None
        try:
            st = os.stat(out_dir / LOCK)
        except FileNotFoundError:
            st = None
        mine = os.fstat(fh.fileno())
        if st is not None and (st.st_ino, st.st_dev) == (mine.st_ino, mine.st_dev):
            return fh
        fh.close()
    raise ExecutionError(f"{out_dir}: could not take its lock (the folder keeps disappearing)")


@contextlib.contextmanager
def folder_lock(out_dir: Path) -> Iterator[None]:
    """One writer per results folder (released by the OS even after SIGKILL).

    Take it *before* reading or writing anything in the folder. Reentrant within a
    process. Creates the folder; if the folder did not exist before and the block
    ends with an error while it holds nothing but the lock file, the folder (and the
    parents this call created) is removed again: a start that fails leaves nothing.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExecutionError(f"{out_dir} exists and is not a folder; choose another --out")
    key = (os.getpid(), str(out_dir.resolve()))
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    new = [p for p in (out_dir, *out_dir.parents) if not p.exists()]  # innermost first
    try:
        fh = _lock_file(out_dir)
    except ExecutionError:
        raise
    except OSError as exc:
        raise ExecutionError(f"cannot create the results folder {out_dir}: "
                             f"{exc.strerror or exc}") from None
    _HELD[key] = 1
    try:
        yield
    except BaseException:
        if new and {p.name for p in out_dir.iterdir()} <= {LOCK}:
            with contextlib.suppress(OSError):
                (out_dir / LOCK).unlink()
                for p in new:
                    p.rmdir()
        raise
    finally:
        del _HELD[key]
        fh.close()


def _clean_temporaries(out_dir: Path) -> None:
    for tmp in (out_dir / PARTS).glob(".tmp-*") if (out_dir / PARTS).is_dir() else []:
        shutil.rmtree(tmp, ignore_errors=True)
    for tmp in out_dir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- backends

#: Default seconds a Dask batch waits while the scheduler has no worker (--worker-timeout).
WORKER_TIMEOUT = 60.0
#: How often (s) a worker process checks that the batch process that started it lives.
WATCHDOG_S = 0.5


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: the worker exits soon after the batch process dies.

    A loky worker's parent is the batch process. If that is killed (even with
    SIGKILL, which nothing can catch) the worker would idle on for minutes and keep
    loky's resource tracker alive. A daemon thread polls the parent pid and ends the
    worker (``os._exit``) once it changes. (Not ``PR_SET_PDEATHSIG``: the kernel sends
    that signal when the *thread* that spawned the worker ends (prctl(2)), and loky
    can spawn workers from threads that come and go, so it could kill healthy workers.)
    """
    import threading

    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_S)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="herdtrap-parent-watch", daemon=True).start()


def check_backend(backend: str, scheduler: str | None = None,
                  worker_timeout: float = WORKER_TIMEOUT) -> None:
    """ExecutionError for a backend that cannot run as asked (no connection is made)."""
    if backend not in BACKENDS:
        raise ExecutionError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if scheduler and backend != "dask":
        raise ExecutionError("--scheduler needs --backend dask")
    if not (worker_timeout > 0 and np.isfinite(worker_timeout)):
        raise ExecutionError(f"--worker-timeout must be a positive number of seconds, "
                             f"got {worker_timeout}")
    if backend == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ExecutionError(
                "the dask backend needs the optional extra: pip install 'herdtrap[dask]'"
            ) from None


@dataclass
class Backend:
    """A connected backend: what runs the tasks and how many at a time."""

    name: str
    n_jobs: int  # joblib n_jobs (sequential, loky)
    client: Any = None  # distributed.Client (dask)
    scheduler: str | None = None
    worker_timeout: float = WORKER_TIMEOUT
    #: the actual parallelism: workers (processes) and threads (runs at a time)
    workers: int = 1
    threads: int = 1
    #: dask: runs per worker address in this session
    runs_per_worker: dict[str, int] = field(default_factory=dict)

    def parallelism(self) -> dict[str, Any]:
        """What the manifest records about how this session ran."""
        d: dict[str, Any] = {"backend": self.name, "workers": self.workers,
                             "threads": self.threads}
        if self.name == "dask":
            d["scheduler"] = self.scheduler or "LocalCluster"
            if self.runs_per_worker:
                d["runs_per_worker"] = dict(sorted(self.runs_per_worker.items()))
        return d


def _dask_workers(client: Any) -> tuple[int, int]:
    workers = client.scheduler_info(n_workers=-1).get("workers", {})
    return len(workers), sum(int(w.get("nthreads", 1)) for w in workers.values())


@contextlib.contextmanager
def backend_context(backend: str, jobs: int, scheduler: str | None = None,
                    worker_timeout: float = WORKER_TIMEOUT) -> Iterator[Backend]:
    """Connect ``backend``; yields a :class:`Backend` (raises ExecutionError if it cannot).

    Dask: connects to ``scheduler`` (trying for ``worker_timeout`` seconds, at most
    20) or starts a LocalCluster of ``jobs`` workers, and waits up to
    ``worker_timeout`` seconds for a first worker. Every worker the
    scheduler has is used, one included: tasks are submitted to the cluster
    directly, never run in this process.
    """
    import joblib

    check_backend(backend, scheduler, worker_timeout)
    if backend == "sequential":
        with joblib.parallel_config(backend="sequential"):
            yield Backend("sequential", 1)
        return
    if backend == "loky":
        with warnings.catch_warnings(), joblib.parallel_config(
                backend="loky", initializer=_exit_with_parent, initargs=(os.getpid(),)):
            # loky's leak check restarts a worker whose memory has grown, between runs,
            # and warns; the runs still queued go to the new worker (every run of the
            # batch is accounted for in runs.parquet), so the warning only alarms users
            warnings.filterwarnings("ignore", message="A worker stopped while some jobs",
                                    category=UserWarning)
            yield Backend("loky", jobs, workers=jobs, threads=jobs)
        return
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(
                    Client(scheduler, timeout=f"{min(20.0, worker_timeout):g}s"))
            except (OSError, ValueError, TypeError) as exc:
                raise ExecutionError(f"cannot reach the Dask scheduler {scheduler}: "
                                     f"{type(exc).__name__}: {exc}") from None
        else:
            cluster = stack.enter_context(LocalCluster(
                n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=40,
            ))
            client = stack.enter_context(Client(cluster))
        try:
            client.wait_for_workers(1, timeout=worker_timeout)
        except (TimeoutError, OSError):
            raise ExecutionError(
                f"no Dask worker joined the scheduler {scheduler or '(LocalCluster)'} within "
                f"{worker_timeout:g} s (--worker-timeout); start workers with "
                f"`dask worker {scheduler or 'ADDRESS'}`") from None
        workers, threads = _dask_workers(client)
        quiet = _QuietRegather()
        logging.getLogger("distributed.client").addFilter(quiet)
        stack.callback(logging.getLogger("distributed.client").removeFilter, quiet)
        yield Backend("dask", -1, client=client, scheduler=scheduler,
                      worker_timeout=worker_timeout, workers=workers, threads=threads)


class _QuietRegather(logging.Filter):
    """Drops distributed's warning about a result whose worker died ("Couldn't gather
    N keys, rescheduling"): the run is computed again, or the batch ends with its own
    one-line message when no worker is left."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Couldn't gather")


def _run_on_worker(task: Task, tables: tuple[str, ...], run: Any) -> tuple[RunResult, str]:
    """:func:`run_task` on a Dask worker; also returns the worker's address."""
    from distributed import get_worker

    return run_task(task, tables, run), get_worker().address


def _dask_results(be: Backend, todo: Sequence[Task], tables: tuple[str, ...],
                  run: Any) -> Iterator[RunResult]:
    """Submit the tasks to the cluster, a few per worker thread at a time; yield results
    as they finish. ExecutionError when no worker is left for ``be.worker_timeout`` s
    or the cluster gives up on a run.

    Nothing here blocks for long, whatever the state of the cluster: each run's result
    is gathered in the background on the client's event loop (a gather that finds the
    run's worker dead makes the scheduler compute the run again and waits for that),
    while this thread waits on those gathers at most a second at a time and asks the
    scheduler between waits whether it still has a worker.
    """
    import asyncio
    import concurrent.futures as cf

    client = be.client
    loop = client.loop.asyncio_loop
    batch_key = uuid.uuid4().hex[:8]
    # a background gather of the result -> (the Dask future, its task)
    pending: dict[cf.Future, tuple[Any, Task]] = {}
    it = iter(enumerate(todo))
    exhausted = False
    no_worker_since: float | None = None
    threads = max(1, be.threads)
    try:
        while True:
            while not exhausted and len(pending) < 2 * threads:
                nxt = next(it, None)
                if nxt is None:
                    exhausted = True
                    break
                i, t = nxt
                f = client.submit(_run_on_worker, t, tables, run, pure=False,
                                  key=f"herdtrap-{batch_key}-{i}")
                gather = asyncio.run_coroutine_threadsafe(
                    client.gather([f], asynchronous=True), loop)
                pending[gather] = (f, t)
            if not pending:
                return
            done, _ = cf.wait(list(pending), timeout=1.0, return_when=cf.FIRST_COMPLETED)
            for g in done:
                _, t = pending.pop(g)
                try:
                    ((res, address),) = g.result()
                except (Exception, cf.CancelledError) as exc:
                    raise ExecutionError(
                        f"the Dask cluster gave up on run {t.task_id} "
                        f"({type(exc).__name__}: {exc}); finished runs are kept, run the same "
                        "command again to resume") from None
                be.runs_per_worker[address] = be.runs_per_worker.get(address, 0) + 1
                yield res
            try:
                n_workers, n_threads = _dask_workers(client)
            except Exception:  # the scheduler does not answer: no worker either
                n_workers, n_threads = 0, 0
            if n_workers:
                no_worker_since = None
                threads = max(1, n_threads)
                be.workers, be.threads = max(be.workers, n_workers), max(be.threads, n_threads)
            elif no_worker_since is None:
                no_worker_since = time.monotonic()
            elif time.monotonic() - no_worker_since > be.worker_timeout:
                raise ExecutionError(
                    f"the Dask scheduler {be.scheduler or '(LocalCluster)'} has had no worker "
                    f"for {be.worker_timeout:g} s (--worker-timeout); {len(pending)} run(s) "
                    "waiting; finished runs are kept, run the same command again to resume")
    finally:
        if pending:
            # cancelled runs end their gathers (CancelledError); a gather still running
            # after that is cancelled itself
            with contextlib.suppress(Exception):
                client.cancel([f for f, _ in pending.values()])
            cf.wait(list(pending), timeout=5.0)
            for g in pending:
                g.cancel()


# --------------------------------------------------------------------------- the loop


def _progress(total: int, initial: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="run", file=sys.stderr,
                disable=None if enabled else True, dynamic_ncols=True, smoothing=0.05)


def run_tasks(
    tasks: Sequence[Task],
    out_dir: Path | str,
    *,
    backend: str = "loky",
    jobs: int = 1,
    scheduler: str | None = None,
    worker_timeout: float = WORKER_TIMEOUT,
    progress: bool = True,
    desc: str = "runs",
    on_result: Callable[[RunResult], None] | None = None,
    on_start: Callable[[Backend | None], None] | None = None,
    tables: Sequence[str] = DEFAULT_TABLES,
    flush_every: int | None = None,
    flush_seconds: float = 10.0,
    retry_failed: bool = True,
    compact_at_end: bool = True,
    run: Callable[..., RunOutput] | None = None,
) -> Report:
    """Run the tasks of ``tasks`` that are not done in ``out_dir`` yet; resumable.

    Order of a start: every argument check; the folder lock (:func:`folder_lock`;
    the caller may hold it already); the backend (Dask: the scheduler and a first
    worker); ``on_start`` (e.g. writing the manifest); the runs. A start that fails
    before ``on_start`` has written nothing.

    Args:
        tasks: the whole task list (done ones included; their order is the row
            order of the compacted tables). task_ids must be unique.
        out_dir: results folder (created if needed).
        backend: "sequential", "loky" or "dask".
        jobs: worker processes (loky; for dask the LocalCluster's size).
        scheduler: address of a running Dask scheduler (``tcp://host:8786``);
            without it, ``backend="dask"`` starts a LocalCluster of ``jobs`` workers.
        worker_timeout: dask: seconds to wait for a worker, at the start and whenever
            the scheduler has none, before giving up with ExecutionError.
        progress: show a tqdm bar with ETA on stderr (only when it is a terminal).
        on_result: called in this process with each finished run's result.
        on_start: called once the folder is locked and the backend is connected (with
            the :class:`Backend`, or None when nothing is left to run), before any run.
        tables: which run tables to keep (see :data:`TABLES`).
        flush_every: runs per chunk on disk (default: ~1/20 of the runs, 1..100).
        flush_seconds: write a chunk at least this often while runs finish.
        retry_failed: run tasks again whose latest record is failed.
        compact_at_end: merge the chunks into the folder's tables when done.
        run: the run function (default :func:`experiments.run.runner.simulate`).

    Returns:
        a :class:`Report`; failures are in ``report.failures``, never raised. After
        the call, ``report.backend`` is the :class:`Backend` used (None if none).
    """
    out_dir = Path(out_dir)
    ids = [t.task_id for t in tasks]
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))
        raise ExecutionError(f"duplicate task_id {dup!r}")
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise ExecutionError(f"unknown tables {sorted(unknown)}; choose from {TABLES}")
    if jobs == 0 or jobs < -1:
        raise ExecutionError(f"jobs must be >= 1 (or -1 for all cores), got {jobs}")
    if jobs == -1:
        jobs = os.cpu_count() or 1
    check_backend(backend, scheduler, worker_timeout)
    t_start = time.perf_counter()
    used: Backend | None = None
    with folder_lock(out_dir):
        status = latest_status(out_dir)
        keep = {"ok"} if retry_failed else {"ok", "failed"}
        todo = [t for t in tasks if status.get(t.task_id) not in keep]
        skipped = len(tasks) - len(todo)
        chunk = flush_every or max(1, min(100, len(todo) // 20))
        buffer: list[RunResult] = []
        buffered_rows = 0
        failures: list[tuple[str, str]] = []
        run_s = 0.0
        ran = 0
        last_flush = time.monotonic()
        with contextlib.ExitStack() as stack:
            if todo:
                used = stack.enter_context(backend_context(backend, jobs, scheduler,
                                                           worker_timeout))
            if on_start is not None:
                on_start(used)
            _clean_temporaries(out_dir)
            bar = _progress(len(tasks), skipped, desc, progress)
            try:
                if used is not None:
                    if used.name == "dask":
                        results: Iterable[RunResult] = _dask_results(used, todo, tuple(tables),
                                                                     run)
                    else:
                        from joblib import Parallel, delayed

                        parallel = Parallel(n_jobs=used.n_jobs, return_as="generator_unordered",
                                            pre_dispatch="2*n_jobs")
                        results = parallel(delayed(run_task)(t, tuple(tables), run)
                                           for t in todo)
                    for res in results:
                        ran += 1
                        run_s += float(res.row.get("elapsed_s", 0.0))
                        if res.row["status"] != "ok":
                            failures.append((res.row["task_id"], str(res.row["error"])))
                            bar.set_postfix(failed=len(failures))
                        buffer.append(res)
                        buffered_rows += sum(len(df) for df in res.tables.values())
                        if on_result is not None:
                            on_result(res)
                        bar.update(1)
                        if (len(buffer) >= chunk or buffered_rows >= FLUSH_ROWS
                                or time.monotonic() - last_flush > flush_seconds):
                            write_part(out_dir, buffer)
                            buffer, buffered_rows = [], 0
                            last_flush = time.monotonic()
            finally:
                # whatever happens (Ctrl-C, a dead worker), finished runs are kept
                write_part(out_dir, buffer)
                bar.close()
        compacted = False
        if compact_at_end and (_part_dirs(out_dir) or not (out_dir / "runs.parquet").exists()):
            compact(out_dir, ids)
            compacted = True
        final = latest_status(out_dir)
        ok = sum(1 for i in ids if final.get(i) == "ok")
        failed = sum(1 for i in ids if final.get(i) == "failed")
    return Report(total=len(tasks), skipped=skipped, ran=ran, ok=ok, failed=failed,
                  wall_s=time.perf_counter() - t_start, run_s=run_s, failures=failures,
                  compacted=compacted, backend=used)


def read_runs(out_dir: Path | str) -> pd.DataFrame:
    """runs.parquet of a folder (compacted) or, while a batch is under way, of its chunks."""
    out_dir = Path(out_dir)
    pieces = [pq.read_table(src / "runs.parquet") for src in _sources(out_dir)
              if (src / "runs.parquet").exists()]
    if not pieces:
        return pd.DataFrame()
    df = _unify(pieces).to_pandas()
    return df.drop_duplicates("task_id", keep="last").reset_index(drop=True)


__all__ = [
    "BACKENDS", "DEFAULT_TABLES", "TABLES", "TIMING_COLUMNS", "WORKER_TIMEOUT", "Backend",
    "ExecutionError", "Report", "RunResult", "Task", "backend_context", "check_backend",
    "compact", "folder_lock", "latest_status",
    "read_runs", "run_task", "run_tasks", "write_part",
]

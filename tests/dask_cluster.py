"""A Dask scheduler and workers as separate processes, for the tests that run batches and
fits on a real cluster (imported by name: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _dask_cli(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("dask")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "dask", *args]


def dask_env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


@contextlib.contextmanager
def dask_scheduler(tmp_path: Path):
    """A `dask scheduler` process on 127.0.0.1; yields its address."""
    pytest.importorskip("distributed")
    sf = tmp_path / "scheduler.json"
    log = open(tmp_path / "scheduler.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(_dask_cli("scheduler", "--host", "127.0.0.1", "--port", "0",
                                      "--no-dashboard", "--scheduler-file", str(sf)),
                            env=dask_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        address = None
        while address is None and time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(OSError, ValueError, KeyError):
                address = json.loads(sf.read_text())["address"]
            time.sleep(0.1)
        assert address, (tmp_path / "scheduler.log").read_text()
        yield address
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)
        proc.kill()
        proc.wait()
        log.close()


def start_worker(address: str, tmp_path: Path, i: int) -> subprocess.Popen:
    """A `dask worker` process (no nanny: killing it is final), one thread."""
    log = open(tmp_path / f"worker{i}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(_dask_cli("worker", address, "--nthreads", "1", "--no-nanny",
                                      "--no-dashboard", "--host", "127.0.0.1",
                                      "--name", f"w{i}"),
                            env=dask_env(), stdout=log, stderr=subprocess.STDOUT)

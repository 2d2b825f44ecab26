"""kill -9 of a command part way, once it has written its first chunk of results
(imported by name: pytest's default import mode puts tests/ on sys.path)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def kill_after_first_part(cmd: list[str], out: Path, timeout: float = 120) -> None:
    """Run ``cmd`` from the repository root and SIGKILL it as soon as ``out/parts`` holds
    a finished chunk; fails if the command ends before that."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parts = out / "parts"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and any(p.name.startswith("part-") for p in parts.iterdir()):
            break
        time.sleep(0.005)
    assert proc.poll() is None, f"{cmd[3]} ended before it could be killed: {proc.stderr.read()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()

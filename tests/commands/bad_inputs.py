"""The harness of the malformed-input corpus (tests/commands/test_bad_inputs.py and
tests/commands/test_input_properties.py; imported by name: pytest puts the folder of these tests on sys.path).

A case is a command line plus the files it needs. :func:`check_refused` writes
the files into an empty folder, makes it the working directory (so a default
``results/`` folder would land there too), runs ``herdtrap`` in-process and
asserts what a user would see: exit code 2, exactly one line on stderr that
starts with ``herdtrap COMMAND: error:``, no traceback, and no file or folder
created or changed anywhere under the working folder.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from model.region import default_data_dir
from model.scenario import SCENARIO_DIR

BASELINE = str(SCENARIO_DIR / "baseline.toml")
#: A small valid base every scenario case may inherit (``base = "small.toml"``).
SMALL = ('name = "small"\nbase = "BASELINE"\n[run]\nyears = 2\n'
         '[parameters]\n"population.households" = 60\n')


@dataclass
class Case:
    """A malformed input: ``argv`` of `herdtrap`, the files it needs (relative to the
    working folder; str is written as UTF-8, bytes as is), and optionally a fragment
    the one-line message must contain. Placeholders in argv and str files: ``TMP``
    (the working folder), ``BASELINE`` (scenarios/baseline.toml); ``BATCH`` in argv
    copies a small finished batch (with a household panel) to TMP/batch first, ``NSO``
    copies the NSO tables to TMP/nso (files given for ``nso/...`` then replace them)."""

    id: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    expect: str | None = None
    setup: Callable[[Path], None] | None = None


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns if p.is_file() else 0)
    return out


def prepare(case: Case, tmp: Path, batch: Path | None = None) -> list[str]:
    """Write the case's files into ``tmp``; return its argv with placeholders filled."""
    joined = " ".join(case.argv)
    if "BATCH" in joined:
        assert batch is not None, "this case needs the small batch"
        shutil.copytree(batch, tmp / "batch")
    if "NSO" in joined:
        shutil.copytree(default_data_dir(), tmp / "nso")
    for rel, content in (case.files or {}).items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.replace("BASELINE", BASELINE).replace("TMP", str(tmp))
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    if case.setup is not None:
        case.setup(tmp)
    return [a.replace("TMP", str(tmp)).replace("BATCH", str(tmp / "batch"))
            .replace("NSO", str(tmp / "nso")).replace("BASELINE", BASELINE) for a in case.argv]


def check_refused(case: Case, tmp: Path, capsys, batch: Path | None = None) -> str:
    """Run the case in-process; assert exit 2, one line, nothing written. Returns the line."""
    from experiments import cli

    argv = prepare(case, tmp, batch)
    before = _snapshot(tmp)
    cwd = os.getcwd()
    os.chdir(tmp)
    capsys.readouterr()
    try:
        try:
            rc = cli.main(argv)
        except SystemExit as exc:  # argparse (it should not get here: cli maps it)
            rc = exc.code
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert rc == 2, f"exit code {rc}; stderr: {err!r}; stdout: {out[-500:]!r}"
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}: {err!r}"
    line = lines[0]
    assert line.startswith((f"herdtrap {argv[0]}: error: ", "herdtrap: error: ")), line
    assert "Traceback" not in err
    if case.expect is not None:
        assert case.expect in line, f"{case.expect!r} not in {line!r}"
    after = _snapshot(tmp)
    created = sorted(set(after) - set(before))
    changed = sorted(k for k in before if k in after and before[k] != after[k])
    assert not created and not changed, f"written: {created} changed: {changed}"
    return line


def run_subprocess(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """`python -m experiments.cli ARGV` in a fresh interpreter (end-to-end check)."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-m", "experiments.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr

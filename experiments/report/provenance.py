"""Provenance and safe writing: manifests, versions, git commit, atomic files.

Every result folder carries a manifest.json saying exactly what produced it.
Files are written to a temporary name in the same folder and renamed into
place (``os.replace`` is atomic on POSIX), so a crash never leaves a
half-written file under a name that counts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("herdtrap", "mesa", "numpy", "pandas", "pyarrow", "scipy", "joblib", "SALib", "plotly")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def nso_data(scenario: Any) -> str | None:
    """The NSO folder a replay scenario reads its observed winters from, as reports name
    it (``model/data/nso (shipped with herdtrap)``, ``shared/data/nso``, a path);
    None for a stochastic climate, which reads no table."""
    if getattr(scenario, "regime", None) != "replay":
        return None
    from model.region import data_dir_label, default_data_dir

    return data_dir_label(scenario.data_dir or default_data_dir())


def git_commit() -> dict[str, Any]:
    """The code's git commit and whether the work tree had uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
            timeout=10, check=True,
        ).stdout.strip()
        dirty = bool(subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip())
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}


def model_fingerprint(params: dict | None = None) -> str:
    """A digest of what the model does: the yearly metrics of a short baseline run (300
    households, 5 years, seed 0), rounded to 9 digits. Two versions of the code that give
    the same results have the same fingerprint (a refactoring keeps it).

    ``params`` pins parameters: a fit pins the parameters it fits, so that its fingerprint
    describes the rest of the model and does not change when their defaults do (when the
    defaults become the fit's posterior central values)."""
    import hashlib

    from model import HerdtrapModel

    m = HerdtrapModel("baseline", seed=0, years=5,
                      params={**(params or {}), "population.households": 300},
                      create_agents=False, panel_rows=None).run()
    t = m.metrics().select_dtypes("number").round(9)
    return hashlib.sha256(pd.util.hash_pandas_object(t, index=True).to_numpy().tobytes()
                          ).hexdigest()[:16]


_MODEL_CODE_SUFFIXES = (".py", ".toml", ".csv", ".json")


def model_code_hash() -> str:
    """A digest of the model's code, parameter table and package data: every ``.py``,
    ``.toml``, ``.csv`` and ``.json`` file of the installed ``model`` package, by path
    and content. A batch or sensitivity design records it, and a results folder whose
    runs came from other model code is not resumed: its runs would mix two models (a
    change that only comments the code refuses a resume too; start a fresh folder)."""
    global _MODEL_CODE_HASH
    if _MODEL_CODE_HASH is None:
        import hashlib

        import model

        root = Path(model.__file__).resolve().parent
        digest = hashlib.sha256()
        for path in sorted(p for p in root.rglob("*")
                           if p.is_file() and p.suffix in _MODEL_CODE_SUFFIXES
                           and "__pycache__" not in p.parts):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        _MODEL_CODE_HASH = digest.hexdigest()[:16]
    return _MODEL_CODE_HASH


_MODEL_CODE_HASH: str | None = None


def model_code_refusal(out: Path, what: str, recorded: str | None, now: str) -> str | None:
    """The one-line refusal to resume ``what`` in ``out`` when the model code it recorded
    (:func:`model_code_hash`; None: an older herdtrap recorded none) is not ``now``;
    None when they are the same. A resumed run would mix the results of two models."""
    if recorded == now:
        return None
    was = f"code {recorded}" if recorded else "not recorded: started by an older herdtrap"
    return (f"{out} holds a {what} run with other model code ({was}; now {now}): its runs "
            f"cannot be resumed with this model. Choose another --out, or delete {out} to "
            "run it again")


def model_changed_since(commit: str, paths: tuple[str, ...] = ("model",)) -> bool | None:
    """Whether ``paths`` (the model's code and parameter table) differ between ``commit``
    and the work tree; None when git cannot tell (no repository, unknown commit)."""
    try:
        r = subprocess.run(["git", "diff", "--quiet", commit, "--", *paths], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return {0: False, 1: True}.get(r.returncode)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


#: argv of the current `herdtrap` invocation, set by experiments.cli.main (so that
#: in-process calls such as ``cli.main([...])`` record their own command).
INVOCATION: list[str] | None = None


def command_line() -> str:
    """The `herdtrap ...` command that is running, shell-quoted."""
    import shlex

    argv = INVOCATION if INVOCATION is not None else sys.argv[1:]
    return shlex.join(["herdtrap", *argv])


#: Types of the manifest entries that analyses read (checked when present).
MANIFEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "kind": str, "scenarios": dict, "scenario_order": list, "replicates": int,
    "spec": dict, "design": dict, "counts": dict,
}


def read_results_manifest(folder: Path, error: type[Exception], *, give: str) -> dict[str, Any]:
    """The manifest of a results folder to analyse; ``error`` (one line) if there is none
    or it is unreadable: not UTF-8 JSON, not an object, or an entry of MANIFEST_FIELDS
    of the wrong type (e.g. ``scenarios`` not an object).

    ``give`` says what folder the user should pass, e.g. "a folder written by
    `herdtrap batch`". Checking the manifest's kind is the caller's business.
    """
    folder = Path(folder)
    if not folder.is_dir():
        what = "a file, not a folder" if folder.exists() else "no such folder"
        raise error(f"{folder}: {what} (give {give})")
    path = folder / "manifest.json"
    if not path.is_file():
        raise error(f"{folder}: no manifest.json (give {give})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise error(f"{path}: unreadable manifest ({reason})") from None
    if not isinstance(manifest, dict):
        raise error(f"{path}: unreadable manifest (a JSON object expected, got "
                    f"{type(manifest).__name__})")
    for key, kind in MANIFEST_FIELDS.items():
        value = manifest.get(key)
        if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
            raise error(f"{path}: unreadable manifest ({key} is a {type(value).__name__}, "
                        f"expected a {getattr(kind, '__name__', 'value')})")
    scenarios = manifest.get("scenarios") or {}
    if not all(isinstance(v, dict) for v in scenarios.values()):
        raise error(f"{path}: unreadable manifest (every entry of scenarios must be an object)")
    return manifest


def check_output_folder(path: Path, error: type[Exception]) -> Path:
    """The folder an analysis writes into (e.g. DIR/compare): ``error`` if a file is in
    its place, so that the command stops before it writes anything."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise error(f"{path} is a file; the command writes its results into a folder of "
                    "that name (move the file away)")
    return path


def read_results_table(folder: Path, name: str, error: type[Exception], *,
                       columns: Sequence[str] = (), read_columns: Sequence[str] | None = None,
                       redo: str = "run the command that wrote the folder again",
                       categorical: bool = False) -> pd.DataFrame:
    """A Parquet table of a results folder; ``error`` (one line naming the file) if it is
    missing, unreadable or lacks one of ``columns``. ``read_columns``: read only these
    (those the file has). ``categorical``: text columns as pandas categories (large
    per-household tables: a fraction of the memory of Python strings)."""
    path = Path(folder) / name
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "is missing"
        raise error(f"{path}: {what}; {redo}")
    try:
        import pyarrow.parquet as pq

        have = pq.read_schema(path).names
        cols = None if read_columns is None else [c for c in read_columns if c in have]
        if categorical:
            import pyarrow as pa

            table = pq.read_table(path, columns=cols)
            # hand the Arrow buffers over column by column, then give the pool back
            df = table.to_pandas(strings_to_categorical=True, self_destruct=True,
                                 split_blocks=True)
            del table
            pa.default_memory_pool().release_unused()
        else:
            df = pd.read_parquet(path, columns=cols)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise error(f"{path}: unreadable Parquet file ({reason}); {redo}") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise error(f"{path}: lacks column(s) {', '.join(missing)}; {redo}")
    return df


def results_finished(folder: Path, manifest: dict[str, Any]) -> bool:
    """The one "finished" rule of a results folder: the manifest does not say it is
    running (``finished`` is not null), the merged ``runs.parquet`` exists, and no part
    files wait to be merged (``parts/`` is empty or absent)."""
    folder = Path(folder)
    parts = folder / "parts"
    return (manifest.get("finished", "") is not None and (folder / "runs.parquet").is_file()
            and not (parts.is_dir() and any(parts.iterdir())))


@dataclass
class BatchTables:
    """A finished batch folder as read by :func:`read_batch`."""

    folder: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame  # every run (ok and failed), one row per (scenario, replicate)
    timeseries: pd.DataFrame
    panel: pd.DataFrame | None  # None: not read, or the batch has none
    order: list[str]  # scenarios in the manifest's order


def runs_written_twice(folder: Path) -> bool:
    """Whether a run of the batch was written twice (a resumed batch): its rows in the
    per-run tables then need de-duplicating (runs.parquet's task ids tell, cheaply)."""
    import pyarrow.parquet as pq

    path = Path(folder) / "runs.parquet"
    try:
        ids = pq.read_table(path, columns=["task_id"]).column("task_id").to_pylist()
    except Exception:  # noqa: BLE001 - no task ids (older folders): assume it may have
        return True
    return len(ids) != len(set(ids))


def read_batch(folder: Path, error: type[Exception], *, panel: bool = True) -> BatchTables:
    """The one reader of `herdtrap batch` folders (compare, brief): checks the manifest,
    the "finished" rule (:func:`results_finished`) and the tables; ``error`` (one line)
    names what is wrong. Runs written twice (a resumed batch) count once, the last.
    ``panel=False``: do not read the household panel (it can be large)."""
    folder = Path(folder)
    give = "a folder written by `herdtrap batch`"
    manifest = read_results_manifest(folder, error, give=give)
    if manifest.get("kind") != "batch" or not isinstance(manifest.get("scenarios"), dict):
        raise error(f"{folder / 'manifest.json'}: holds a {manifest.get('kind')!r} result, "
                    f"not a batch (give {give})")
    if not results_finished(folder, manifest):
        raise error(f"{folder}: the batch has not finished (it is running or was "
                    "interrupted); run the same `herdtrap batch` command again to complete it")
    redo = "run the `herdtrap batch` command that wrote the folder again"
    runs = read_results_table(folder, "runs.parquet", error,
                              columns=("scenario", "replicate", "status"), redo=redo)
    if "task_id" in runs:
        runs = runs.drop_duplicates("task_id", keep="last")
    runs = runs.drop_duplicates(["scenario", "replicate"], keep="last").reset_index(drop=True)
    ts = read_results_table(folder, "timeseries.parquet", error,
                            columns=("scenario", "replicate", "year"), redo=redo)
    households = (read_results_table(folder, "panel.parquet", error, redo=redo)
                  if panel and (folder / "panel.parquet").exists() else None)
    order = manifest.get("scenario_order") or list(manifest["scenarios"])
    if not manifest["scenarios"] or not all(isinstance(s, str) for s in order):
        raise error(f"{folder / 'manifest.json'}: unreadable manifest (no scenarios)")
    return BatchTables(folder, manifest, runs, ts, households, list(order))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: str, path: Path) -> None:
    """Rename ``tmp`` onto ``path`` with ordinary permissions (mkstemp makes 0600)."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run_record(root_seed: int, replicates: int, old: dict[str, Any] | None,
               session: dict[str, Any], finished: str | None) -> dict[str, Any]:
    """The manifest entries every resumable run folder shares (batch, sensitivity): the
    replicate seeds, versions and commit, start and finish, and the sessions' timings
    (``session`` appended to the earlier ones in ``old``)."""
    from model.streams import run_seed_sequence

    sessions = [*(old or {}).get("timings", {}).get("sessions", []), session]
    return {
        "root_seed": root_seed,
        "replicates": replicates,
        "seeds": {
            str(r): [int(s.entropy), list(s.spawn_key)]
            for r in range(replicates)
            for s in [run_seed_sequence(root_seed, r)]
        },
        "versions": package_versions(),
        "git": git_commit(),
        "started": (old or {}).get("started") or session["started"],
        "finished": finished,
        "timings": {
            "sessions": sessions,
            "wall_s": sum(float(s.get("wall_s") or 0.0) for s in sessions),
            "run_s": sum(float(s.get("run_s") or 0.0) for s in sessions),
        },
    }


def atomic_write_json(path: Path, obj: Any) -> None:
    data = json.dumps(obj, indent=2, sort_keys=True, default=str).encode() + b"\n"
    atomic_write_bytes(path, data)


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        df.to_parquet(tmp, index=False)
        _publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def uncertainty_note(manifest: dict[str, Any]) -> str:
    """What a batch's intervals over replicates cover: the weather and household luck
    only, or (``herdtrap batch --posterior``) the fitted parameters' uncertainty too."""
    post = manifest.get("posterior")
    if not post:
        return ("the intervals cover stochastic variation only (weather and household luck "
                "over the replicates), with every parameter at its value in "
                "model/parameters.toml; not parameter or structural uncertainty")
    names = ", ".join(post.get("parameters", []))
    return (f"each replicate draws its parameters ({names}) from the fitted posterior "
            f"{post.get('file')} ({post.get('particles')} particles, sha256 "
            f"{post.get('sha256')}), the same draw for every scenario, so the intervals cover "
            "the uncertainty of these parameters as well as the weather and household luck; "
            "not the uncertainty of other parameters or of the model's structure")

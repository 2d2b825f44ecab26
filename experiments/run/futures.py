"""Climate futures: run every scenario of a batch under several dzud regimes (issue 15,
item 5).

A futures file (TOML, e.g. ``experiments/specs/futures.toml``) has one table per future
with a ``description`` and parameter overrides (``climate.*`` parameters of the winter
generator, within their ranges in model/parameters.toml)::

    [frequent]
    description = "dzud-regime winters twice as likely as fitted"
    "climate.dzud_prob_scale" = 2.0

``herdtrap batch S... --futures FILE`` runs scenario S under future F as ``S@F`` (the
same replicate seeds everywhere: within a future, designs are paired) and writes
``futures.json`` into the batch folder; ``herdtrap compare DIR --futures`` ranks the
designs in each future and reports their regret (experiments/analysis/futures.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.errors import UsageError
from experiments.specfile import read_toml
from model.parameters import ParameterError, resolve
from model.scenario import Scenario, ScenarioError

FILE = "futures.json"
SEP = "@"


@dataclass(frozen=True)
class Future:
    name: str
    description: str
    params: dict[str, float]


def load_futures(path: str | Path) -> list[Future]:
    """Read and validate a futures file (UsageError: one line naming the file and key)."""
    path = Path(path)
    raw = read_toml(path, "futures file")
    if not raw:
        raise UsageError(f"{path}: no future defined (one [name] table per future)")
    out = []
    for name, table in raw.items():
        where = f"{path}: [{name}]"
        if not isinstance(table, dict):
            raise UsageError(f"{where} must be a table of parameter overrides")
        if not name or any(c in name for c in "/\\" + SEP) or name != name.strip():
            raise UsageError(f"{where}: a future's name must be non-empty, without / \\ {SEP}")
        description = table.get("description", "")
        if not isinstance(description, str):
            raise UsageError(f"{where}: description must be a string")
        params = {k: v for k, v in table.items() if k != "description"}
        for k, v in params.items():
            if not k.startswith("climate."):
                raise UsageError(f"{where}: {k!r}: a future sets climate.* parameters only")
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise UsageError(f"{where}: {k} must be a number, got {v!r}")
        try:
            resolve(params)
        except ParameterError as exc:
            raise UsageError(f"{where}: {exc}") from None
        out.append(Future(name, description, {k: float(v) for k, v in params.items()}))
    return out


def expand(scenarios: list[Scenario], futures: list[Future]) -> list[Scenario]:
    """Every scenario under every future, named ``scenario@future`` (scenario order,
    then future order)."""
    from model.parameters import defaults

    default = defaults()
    out = []
    for s in scenarios:
        if SEP in s.name:
            raise UsageError(f"scenario {s.name!r}: with --futures, scenario names must not "
                             f"contain {SEP!r}")
        for f in futures:
            clash = [k for k in f.params if s.params.get(k) != default[k]]
            if clash:
                raise UsageError(f"scenario {s.name!r} sets {', '.join(clash)} itself; future "
                                 f"{f.name!r} would override it (leave the climate to --futures)")
            try:
                out.append(s.with_overrides(params=f.params, name=f"{s.name}{SEP}{f.name}"))
            except ScenarioError as exc:
                raise UsageError(f"future {f.name!r}: {exc}") from None
    return out


def record(folder: Path, scenarios: list[Scenario], futures: list[Future]) -> None:
    """Write ``futures.json``: the futures and, per batch scenario, (design, future)."""
    from experiments.report.provenance import atomic_write_bytes

    data = {"futures": {f.name: {"description": f.description, "params": f.params}
                        for f in futures},
            "scenarios": {f"{s.name}{SEP}{f.name}": [s.name, f.name]
                          for s in scenarios for f in futures}}
    atomic_write_bytes(Path(folder) / FILE, json.dumps(data, indent=1).encode())


def read_record(folder: Path) -> dict[str, Any] | None:
    path = Path(folder) / FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data["futures"], dict) and isinstance(data["scenarios"], dict)
    except (OSError, ValueError, KeyError, AssertionError):
        raise UsageError(f"{path}: unreadable; run the `herdtrap batch ... --futures` command "
                         "again") from None
    return data

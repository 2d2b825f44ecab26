"""Parameter sets drawn from a fitted posterior, one per replicate (``herdtrap batch
--posterior FILE``).

A posterior file is the ``posterior.csv`` that ``herdtrap fit`` writes: one column per
fitted parameter (names of model/parameters.toml) and a ``weight`` column. Replicate r of
a batch with root seed s draws one row, by weight, from a generator seeded with
``SeedSequence(s, spawn_key=(r, POSTERIOR_KEY))``: every scenario of the batch gets the
same draw for replicate r (common random numbers *and* common parameters), so paired
differences compare scenarios under one parameter set at a time, and the intervals over
replicates cover parameter uncertainty as well as the weather and household luck.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.streams import stream_key

#: spawn key element that separates the posterior draws from the model's own streams
POSTERIOR_KEY = stream_key("posterior")


class PosteriorError(ValueError):
    """A posterior file that cannot be used (one line)."""


@dataclass(frozen=True)
class Posterior:
    path: Path
    frame: pd.DataFrame  # parameter columns + weight (normalised)
    names: tuple[str, ...]
    sha256: str

    def draw(self, root_seed: int, replicate: int) -> dict[str, Any]:
        """The parameter set of ``replicate`` (the same for every scenario)."""
        ss = np.random.SeedSequence(int(root_seed), spawn_key=(int(replicate), POSTERIOR_KEY))
        rng = np.random.default_rng(ss)
        i = int(rng.choice(len(self.frame), p=self.frame["weight"].to_numpy()))
        return {n: _typed(n, self.frame.iloc[i][n]) for n in self.names}

    def describe(self, root_seed: int, replicates: int) -> dict[str, Any]:
        """What a batch manifest records: the file, its hash and every replicate's draw."""
        return {"file": str(self.path), "sha256": self.sha256, "parameters": list(self.names),
                "particles": len(self.frame),
                "draws": {str(r): self.draw(root_seed, r) for r in range(replicates)}}


def _typed(name: str, value: float) -> Any:
    from model.parameters import parameter_table

    p = parameter_table()[name]
    return int(round(float(value))) if p.type == "int" else float(value)


def load_posterior(path: str | Path) -> Posterior:
    """Read and check a posterior file; any problem is one PosteriorError line."""
    from model.parameters import ParameterError, parameter_table

    path = Path(path)
    if not path.is_file():
        raise PosteriorError(f"--posterior {path}: no such file")
    data = path.read_bytes()
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise PosteriorError(f"--posterior {path}: not a CSV file ({exc})") from None
    if "weight" not in frame.columns:
        raise PosteriorError(f"--posterior {path}: no 'weight' column (give the posterior.csv "
                             "that `herdtrap fit` writes)")
    names = tuple(c for c in frame.columns if c != "weight")
    if not names or frame.empty:
        raise PosteriorError(f"--posterior {path}: no parameter columns or no rows")
    table = parameter_table()
    for n in names:
        if n not in table:
            raise PosteriorError(f"--posterior {path}: column {n!r} is not a parameter "
                                 "(see `herdtrap params`)")
        col = pd.to_numeric(frame[n], errors="coerce")
        if col.isna().any():
            raise PosteriorError(f"--posterior {path}: column {n!r} holds a value that is not "
                                 "a number")
        for v in (col.min(), col.max()):
            try:
                table[n].validate(_typed(n, v), where=f"--posterior {path}")
            except ParameterError as exc:
                raise PosteriorError(str(exc)) from None
        frame[n] = col
    w = pd.to_numeric(frame["weight"], errors="coerce")
    if w.isna().any() or (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
        raise PosteriorError(f"--posterior {path}: weights must be non-negative numbers with "
                             "a positive sum")
    frame["weight"] = w / w.sum()
    return Posterior(path=path, frame=frame[[*names, "weight"]], names=names,
                     sha256=hashlib.sha256(data).hexdigest()[:16])


def check_scenarios(posterior: Posterior, scenarios) -> None:
    """A scenario that sets a drawn parameter away from its default would be overridden
    silently: refuse it (one line)."""
    from model.parameters import defaults

    d = defaults()
    for sc in scenarios:
        for n in posterior.names:
            if sc.params.get(n) != d[n]:
                raise PosteriorError(
                    f"scenario {sc.name!r} sets {n} = {sc.params.get(n)}, which --posterior "
                    "draws per replicate; remove it from the scenario or from the posterior")

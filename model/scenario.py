"""Scenario files: TOML in, a validated, resolved, hashable scenario out.

A scenario file looks like::

    name = "baseline"
    description = "No policy beyond what exists"
    base = "baseline.toml"          # optional: inherit another file, then override

    [run]
    years = 30                      # simulated years (4 seasons each)
    aimags = ["Zavkhan", "Khuvsgul"]
    start_year = 2020               # calendar year of the first spring

    [climate]
    regime = "stochastic"           # or "replay"
    replay_years = [2010]           # NSO loss years to replay, in order (winter 2009/10 = 2010)

    [parameters]                    # overrides of model/parameters.toml
    herd.offtake_rate = 0.17

    [policies.child_money]          # policy levers (see model/policies.py)
    amount = 20.0

Unknown keys, wrong types and out-of-range values raise ScenarioError naming
the file, the key and the allowed range.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from model.parameters import ParameterError, resolve
from model.region import available_aimags as calibrated_files
from model.region import region_file_name

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = SCENARIO_DIR / "baseline.toml"

RUN_KEYS = {"years": int, "aimags": list, "start_year": int}
CLIMATE_KEYS = {"regime": str, "replay_years": list, "data_dir": str}
TOP_KEYS = {"name", "description", "base", "run", "climate", "parameters", "policies"}
REGIMES = ("stochastic", "replay")


REGION_DIR = Path(__file__).resolve().parent / "data" / "regions"


def available_aimags() -> list[str]:
    """Names of the aimags with a calibrated region file in model/data/regions/ (as spelled
    in the files; for display and messages)."""
    names = []
    for path in sorted(REGION_DIR.glob("*.json")):
        with path.open(encoding="utf-8") as fh:
            names.append(json.load(fh).get("aimag", path.stem.title()))
    return names


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with a message naming file and key."""


@dataclass(frozen=True)
class Scenario:
    """A fully resolved scenario: every parameter has a value."""

    name: str
    description: str = ""
    years: int = 30
    aimags: tuple[str, ...] = ("Zavkhan", "Khuvsgul")
    start_year: int = 2020
    regime: str = "stochastic"
    replay_years: tuple[int, ...] = ()
    data_dir: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Canonical, JSON-serialisable form (what the hash covers, plus the source path)."""
        d = asdict(self)
        d["aimags"] = list(self.aimags)
        d["replay_years"] = list(self.replay_years)
        return d

    @property
    def hash(self) -> str:
        """sha256 of the resolved content (name, settings, every parameter, policies)."""
        d = self.to_dict()
        d.pop("source", None)
        d.pop("description", None)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_overrides(
        self,
        *,
        years: int | None = None,
        params: Mapping[str, Any] | None = None,
        policies: Mapping[str, Mapping[str, Any]] | None = None,
        name: str | None = None,
    ) -> Scenario:
        """A copy with some settings changed (validated like a file)."""
        raw = self.to_dict()
        raw.pop("source")
        if years is not None:
            raw["years"] = years
        merged_params = {**self.params, **dict(params or {})}
        merged_policies = copy.deepcopy(self.policies)
        for pname, levers in (policies or {}).items():
            merged_policies.setdefault(pname, {}).update(levers)
        return build_scenario(
            name=name or self.name,
            description=self.description,
            run={"years": raw["years"], "aimags": raw["aimags"], "start_year": raw["start_year"]},
            climate={
                "regime": raw["regime"],
                "replay_years": raw["replay_years"],
                **({"data_dir": raw["data_dir"]} if raw["data_dir"] else {}),
            },
            parameters=merged_params,
            policies=merged_policies,
            where=self.source or self.name,
            source=self.source,
        )


def _check_keys(table: Mapping[str, Any], allowed: Mapping[str, type] | set, where: str,
                section: str) -> None:
    for key, value in table.items():
        if key not in allowed:
            raise ScenarioError(
                f"{where}: unknown key {section}{key!r}; allowed: {', '.join(sorted(allowed))}"
            )
        if isinstance(allowed, Mapping):
            kind = allowed[key]
            ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
            if not ok:
                raise ScenarioError(
                    f"{where}: {section}{key} must be of type {kind.__name__}, got {value!r}"
                )


def build_scenario(
    *,
    name: str,
    description: str = "",
    run: Mapping[str, Any] | None = None,
    climate: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    policies: Mapping[str, Any] | None = None,
    where: str = "<scenario>",
    source: str | None = None,
) -> Scenario:
    """Validate the pieces of a scenario and resolve every parameter."""
    run = dict(run or {})
    climate = dict(climate or {})
    _check_keys(run, RUN_KEYS, where, "run.")
    _check_keys(climate, CLIMATE_KEYS, where, "climate.")
    years = run.get("years", 30)
    if not 1 <= years <= 200:
        raise ScenarioError(f"{where}: run.years = {years} is outside the allowed range [1, 200]")
    aimags = tuple(run.get("aimags", ("Zavkhan", "Khuvsgul")))
    if not aimags or not all(isinstance(a, str) for a in aimags):
        raise ScenarioError(f"{where}: run.aimags must be a non-empty list of aimag names")
    files = set(calibrated_files())  # names are case-insensitive, as in load_region
    for a in aimags:
        if region_file_name(a).removesuffix(".json") not in files:
            known = available_aimags()
            raise ScenarioError(
                f"{where}: run.aimags: no calibrated region {a!r}; available: {', '.join(known)} "
                "(add one with `herdtrap calibrate --aimag NAME`)"
            )
    start_year = run.get("start_year", 2020)
    if not 1900 <= start_year <= 2200:
        raise ScenarioError(f"{where}: run.start_year = {start_year} is outside [1900, 2200]")
    regime = climate.get("regime", "stochastic")
    if regime not in REGIMES:
        raise ScenarioError(
            f"{where}: climate.regime = {regime!r}; allowed: {', '.join(REGIMES)}"
        )
    replay_years = tuple(climate.get("replay_years", ()))
    if not all(isinstance(y, int) and not isinstance(y, bool) for y in replay_years):
        raise ScenarioError(f"{where}: climate.replay_years must be a list of years (integers)")
    if regime == "stochastic" and replay_years:
        raise ScenarioError(
            f"{where}: climate.replay_years is set but climate.regime is 'stochastic'; "
            "set regime = \"replay\""
        )
    try:
        params = resolve(parameters or {}, where=where)
    except ParameterError as exc:
        raise ScenarioError(str(exc)) from None
    from model.policies import validate_policies

    try:
        resolved_policies = validate_policies(policies or {}, where=where)
    except ParameterError as exc:
        raise ScenarioError(str(exc)) from None
    return Scenario(
        name=name,
        description=description,
        years=years,
        aimags=aimags,
        start_year=start_year,
        regime=regime,
        replay_years=replay_years,
        data_dir=climate.get("data_dir"),
        params=params,
        policies=resolved_policies,
        source=source,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _load_raw(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        raise ScenarioError(f"{path}: circular 'base' chain")
    raw = _read_toml(path)
    for key in raw:
        if key not in TOP_KEYS:
            raise ScenarioError(
                f"{path}: unknown key {key!r}; allowed: {', '.join(sorted(TOP_KEYS))}"
            )
    base = raw.pop("base", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise ScenarioError(f"{path}: base must be a file name")
    base_raw = _load_raw(path.parent / base, (*seen, path))
    base_raw.pop("name", None)
    base_raw.pop("description", None)
    return _merge(base_raw, raw)


def find_scenario_file(ref: str | Path | None) -> Path:
    """A path, or the name of a file in scenarios/ (with or without .toml)."""
    if ref is None:
        return DEFAULT_SCENARIO
    path = Path(ref)
    if path.exists():
        return path
    for candidate in (SCENARIO_DIR / f"{ref}", SCENARIO_DIR / f"{ref}.toml"):
        if candidate.exists():
            return candidate
    raise ScenarioError(f"{ref}: scenario file not found (looked in . and {SCENARIO_DIR})")


def load_scenario(ref: str | Path | None = None, **overrides: Any) -> Scenario:
    """Load and resolve a scenario file (default: scenarios/baseline.toml).

    Keyword overrides: ``years=``, ``params=`` (dotted names), ``policies=``.
    """
    path = find_scenario_file(ref)
    raw = _load_raw(path)
    where = str(path)
    scenario = build_scenario(
        name=raw.get("name", path.stem),
        description=raw.get("description", ""),
        run=raw.get("run"),
        climate=raw.get("climate"),
        parameters=raw.get("parameters"),
        policies=raw.get("policies"),
        where=where,
        source=where,
    )
    if overrides:
        scenario = scenario.with_overrides(**overrides)
    return scenario

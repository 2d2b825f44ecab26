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

    [policies.child_money]          # policy levers (model/policies/levers.toml)
    amount = 20.0

    [policies.child_money_2]        # a further instance of a policy, under its own name
    policy = "child_money"

Everything is checked when the file is loaded, before anything runs or is
written: the file (UTF-8 TOML, a file and not a folder), the type of every
section and key, finite numbers and integer ranges, the scenario's name, and
values that refer to data: aimags (a calibrated region, each once), replay
years (observed in the NSO mortality table for every aimag) and policy levers
naming species, soums or schedules. A bad input raises ScenarioError (a
ValueError) with one line naming the file, the key and what is allowed; the
command line turns it into exit code 2.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from model.parameters import ParameterError, resolve
from model.region import available_aimags as calibrated_files
from model.region import region_file_name
from model.textfile import read_utf8

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
DEFAULT_SCENARIO = SCENARIO_DIR / "baseline.toml"

RUN_KEYS = {"years": int, "aimags": list, "start_year": int}
CLIMATE_KEYS = {"regime": str, "replay_years": list, "data_dir": str}
TOP_KEYS = {"name", "description", "base", "run", "climate", "parameters", "policies"}
#: top-level keys that must be tables, and those that must be strings
TABLE_KEYS = ("run", "climate", "parameters", "policies")
STRING_KEYS = ("name", "description", "base")
REGIMES = ("stochastic", "replay")
#: a scenario name becomes part of folder names and table values
NAME_MAX = 100


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


def check_name(name: Any, where: str, key: str = "name") -> str:
    """A scenario name: a non-empty string without control characters or slashes
    (it becomes part of folder names), at most NAME_MAX characters."""
    if not isinstance(name, str):
        raise ScenarioError(f"{where}: {key} must be a string, got {name!r}")
    if not name.strip():
        raise ScenarioError(f"{where}: {key} must not be empty")
    if name != name.strip():
        raise ScenarioError(f"{where}: {key} = {name!r} must not start or end with spaces")
    bad = [c for c in name if unicodedata.category(c)[0] == "C" or c in "/\\"]
    if bad:
        raise ScenarioError(f"{where}: {key} = {name!r} contains {bad[0]!r}; allowed: letters, "
                            "digits, spaces and punctuation except / and \\")
    if len(name) > NAME_MAX:
        raise ScenarioError(f"{where}: {key} is {len(name)} characters long; allowed: at most "
                            f"{NAME_MAX}")
    return name


def check_description(description: Any, where: str) -> str:
    if not isinstance(description, str):
        raise ScenarioError(f"{where}: description must be a string, got {description!r}")
    if "\x00" in description:
        raise ScenarioError(f"{where}: description contains a NUL character")
    return description


def _check_keys(table: Mapping[str, Any], allowed: Mapping[str, type] | set, where: str,
                section: str) -> None:
    if not isinstance(table, Mapping):
        raise ScenarioError(f"{where}: {section.rstrip('.')} must be a table ([{section.rstrip('.')}]), "
                            f"got {table!r}")
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
    name = check_name(name, where)
    description = check_description(description, where)
    run = {} if run is None else run
    climate = {} if climate is None else climate
    _check_keys(run, RUN_KEYS, where, "run.")
    _check_keys(climate, CLIMATE_KEYS, where, "climate.")
    run, climate = dict(run), dict(climate)
    years = run.get("years", 30)
    if not 1 <= years <= 200:
        raise ScenarioError(f"{where}: run.years = {years} is outside the allowed range [1, 200]")
    aimags = tuple(run.get("aimags", ("Zavkhan", "Khuvsgul")))
    if not aimags or not all(isinstance(a, str) and a.strip() for a in aimags):
        raise ScenarioError(f"{where}: run.aimags must be a non-empty list of aimag names, "
                            f"got {list(aimags)!r}")
    files = set(calibrated_files())  # names are case-insensitive, as in load_region
    seen: dict[str, str] = {}
    for a in aimags:
        key = region_file_name(a).removesuffix(".json")
        if key not in files:
            known = available_aimags()
            raise ScenarioError(
                f"{where}: run.aimags: no calibrated region {a!r}; available: {', '.join(known)} "
                "(add one with `herdtrap calibrate --aimag NAME`)"
            )
        if key in seen:
            raise ScenarioError(f"{where}: run.aimags lists {seen[key]!r} twice ({a!r}); "
                                "each aimag may appear once")
        seen[key] = a
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
        raise ScenarioError(f"{where}: climate.replay_years must be a list of years (integers), "
                            f"got {list(replay_years)!r}")
    if regime == "stochastic" and replay_years:
        raise ScenarioError(
            f"{where}: climate.replay_years is set but climate.regime is 'stochastic'; "
            "set regime = \"replay\""
        )
    data_dir = climate.get("data_dir")
    if data_dir is not None and (not data_dir.strip() or "\x00" in data_dir):
        raise ScenarioError(f"{where}: climate.data_dir must be a folder name, got {data_dir!r}")
    if regime == "replay":
        _check_replay_years(where, aimags, replay_years, start_year, years, data_dir)
    try:
        params = resolve({} if parameters is None else parameters, where=where)
    except ParameterError as exc:
        raise ScenarioError(str(exc)) from None
    from model.policies import ScenarioData, validate_policies

    try:
        resolved_policies = validate_policies({} if policies is None else policies, where=where,
                                              data=ScenarioData(aimags))
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
        data_dir=data_dir,
        params=params,
        policies=resolved_policies,
        source=source,
    )


def _observed_years(data_dir: str | None, where: str) -> dict[str, set[int]]:
    """Loss years with observed mortality per aimag (lower case) in the NSO table."""
    from model.climate import MORTALITY_FILE, load_observed_mortality
    from model.region import default_data_dir

    folder = Path(data_dir) if data_dir else default_data_dir()
    path = folder / MORTALITY_FILE
    if not path.is_file():
        hint = ("climate.data_dir" if data_dir else
                "set climate.data_dir or $HERDTRAP_NSO_DATA to the folder of the NSO tables")
        raise ScenarioError(f"{where}: climate.regime = \"replay\" needs the NSO mortality "
                            f"table {path}, which does not exist ({hint})")
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _OBSERVED_CACHE:
        try:
            obs = load_observed_mortality(folder)
            years = {str(a).lower(): set(g["year"].astype(int)) for a, g in obs.groupby("aimag")}
        except (ValueError, KeyError, OSError) as exc:
            raise ScenarioError(f"{where}: cannot read the NSO mortality table {path} "
                                f"({type(exc).__name__}: {exc})".replace("\n", " ")) from None
        _OBSERVED_CACHE.clear()
        _OBSERVED_CACHE[key] = years
    return _OBSERVED_CACHE[key]


_OBSERVED_CACHE: dict[tuple, dict[str, set[int]]] = {}


def _span(years: set[int]) -> str:
    return f"{min(years)}-{max(years)}" if years else "none"


def _check_replay_years(where: str, aimags: tuple[str, ...], replay_years: tuple[int, ...],
                        start_year: int, horizon: int, data_dir: str | None) -> None:
    """Every replayed loss year must be observed for every aimag of the scenario (with
    no replay_years the model replays the calendar years the table has)."""
    observed = _observed_years(data_dir, where)
    if replay_years:
        wanted, key = replay_years, "climate.replay_years"
    else:
        any_year = set().union(*observed.values()) if observed else set()
        wanted = tuple(y for y in range(start_year + 1, start_year + horizon + 1)
                       if y in any_year)
        key = "climate.regime = \"replay\" (years from run.start_year)"
    for a in aimags:
        have = observed.get(a.strip().lower(), set())
        missing = [y for y in wanted if y not in have]
        if missing:
            raise ScenarioError(
                f"{where}: {key}: no observed mortality for {a} in loss year "
                f"{missing[0]}; allowed: the years of the NSO table ({_span(have)} for {a})"
            )


def _read_toml(path: Path) -> dict[str, Any]:
    text = read_utf8(path, error=ScenarioError, what="scenario file",
                     folder_hint=" (give a .toml file)",
                     expected="scenario files must be UTF-8 TOML")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    for key in raw:
        if key not in TOP_KEYS:
            raise ScenarioError(
                f"{path}: unknown key {key!r}; allowed: {', '.join(sorted(TOP_KEYS))}"
            )
    for key in TABLE_KEYS:
        if key in raw and not isinstance(raw[key], dict):
            raise ScenarioError(f"{path}: {key} must be a table ([{key}]), got {raw[key]!r}")
    for key in STRING_KEYS:
        if key in raw and not isinstance(raw[key], str):
            raise ScenarioError(f"{path}: {key} must be a string, got {raw[key]!r}")
    if "name" in raw:
        check_name(raw["name"], str(path))
    if "description" in raw:
        check_description(raw["description"], str(path))
    return raw


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
    base = raw.pop("base", None)
    if base is None:
        return raw
    base_path = path.parent / base
    if not base.strip() or "\x00" in base or base_path.is_dir():
        raise ScenarioError(f"{path}: base = {base!r} is not a scenario file; allowed: the "
                            "path of a .toml file, relative to this file")
    base_raw = _load_raw(base_path, (*seen, path))
    base_raw.pop("name", None)
    base_raw.pop("description", None)
    return _merge(base_raw, raw)


def find_scenario_file(ref: str | Path | None) -> Path:
    """A path, or the name of a file in scenarios/ (with or without .toml)."""
    if ref is None:
        return DEFAULT_SCENARIO
    if not str(ref).strip() or "\x00" in str(ref):
        raise ScenarioError(f"{ref!r}: not a scenario file name")
    path = Path(ref)
    if path.is_dir():
        raise ScenarioError(f"{path}: is a folder, not a scenario file (give a .toml file)")
    if path.exists():
        return path
    for candidate in (SCENARIO_DIR / f"{ref}", SCENARIO_DIR / f"{ref}.toml"):
        if candidate.is_file():
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

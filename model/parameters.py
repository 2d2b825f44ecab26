"""The one parameter table: names, defaults, units, ranges and sources.

``model/parameters.toml`` is the single source. The model reads defaults from
it, scenario files override them (validated against type and range), SALib
problems and the app's sliders are built from it, and docs/PARAMETERS.md is
generated from it (``herdtrap params --markdown``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


class ParameterError(ValueError):
    """An unknown parameter name or a value of the wrong type or out of range."""


@dataclass(frozen=True)
class Param:
    """One row of the parameter table."""

    name: str
    default: Any
    low: float | None
    high: float | None
    unit: str
    source: str
    description: str
    type: str = "float"  # float | int | bool | str
    uncertain: bool = True

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]

    def validate(self, value: Any, where: str = "") -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ParameterError."""
        prefix = f"{where}: " if where else ""
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ParameterError(f"{prefix}{self.name} must be true or false, got {value!r}")
            return value
        if self.type == "str":
            if not isinstance(value, str):
                raise ParameterError(f"{prefix}{self.name} must be a string, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(
                f"{prefix}{self.name} must be a number ({self.unit}), got {value!r}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            kind = "whole number" if self.type == "int" else "number"
            raise ParameterError(f"{prefix}{self.name} must be a finite {kind}, got {value!r}"
                                 f"{self._allowed()}")
        if self.type == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ParameterError(f"{prefix}{self.name} must be a whole number, got {value!r}")
            value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:  # a TOML integer too large for a float
                raise ParameterError(f"{prefix}{self.name} = {value} is too large"
                                     f"{self._allowed()}") from None
        if self.low is not None and self.high is not None and not (self.low <= value <= self.high):
            raise ParameterError(
                f"{prefix}{self.name} = {value} is outside the allowed range "
                f"[{_fmt(self.low)}, {_fmt(self.high)}] ({self.unit})"
            )
        return value


    def _allowed(self) -> str:
        """"; allowed: [low, high] (unit)" for messages, or "" without a range."""
        if self.low is None or self.high is None:
            return ""
        return f"; allowed: [{_fmt(self.low)}, {_fmt(self.high)}] ({self.unit})"


def _fmt(x: float) -> str:
    return f"{x:g}"


@cache
def parameter_table() -> dict[str, Param]:
    """All parameters, keyed by dotted name, in file order."""
    text = resources.files("model").joinpath("parameters.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    table: dict[str, Param] = {}
    for name, row in raw.items():
        low, high = row.get("range", (None, None))
        kind = row.get("type", "float")
        table[name] = Param(
            name=name,
            default=row["default"],
            low=low,
            high=high,
            unit=row["unit"],
            source=row["source"],
            description=row["description"],
            type=kind,
            uncertain=row.get("uncertain", kind in ("float",)),
        )
    return table


def defaults() -> dict[str, Any]:
    """Default value of every parameter."""
    return {name: p.default for name, p in parameter_table().items()}


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested TOML tables into dotted names: {"herd": {"x": 1}} -> {"herd.x": 1}.

    An empty table stays a value (``{"herd.x": {}}``), so that validation reports it
    instead of silently dropping the key."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat


def resolve(overrides: Mapping[str, Any] | None = None, where: str = "") -> dict[str, Any]:
    """Defaults updated with validated overrides (dotted names or nested tables)."""
    table = parameter_table()
    values = defaults()
    if not isinstance(overrides or {}, Mapping):
        raise ParameterError(f"{where + ': ' if where else ''}parameters must be a table of "
                             f"parameter = value, got {overrides!r}")
    for name, value in flatten(overrides or {}).items():
        if name not in table:
            raise ParameterError(f"{where + ': ' if where else ''}unknown parameter {name!r}"
                                 f"{_suggest(name, table)}")
        values[name] = table[name].validate(value, where)
    return values


def _suggest(name: str, table: Mapping[str, Param]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(table), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def uncertain_parameters() -> list[Param]:
    """Parameters that sensitivity analysis varies by default."""
    return [p for p in parameter_table().values() if p.uncertain and p.low is not None]


def markdown_table() -> str:
    """The parameter table as Markdown (docs/PARAMETERS.md)."""
    lines = [
        "# Parameter table",
        "",
        "Generated from `model/parameters.toml` by `herdtrap params --markdown`; do not edit by hand.",
        "Money in thousand MNT (kMNT). [est] marks a reasoned estimate, varied in sensitivity analysis;",
        "[fit] a default set to a posterior central value of the ABC-SMC fit by `herdtrap adopt`",
        "(docs/VALIDATION.md section 8).",
        "Fitted regional numbers (dzud generator, prices, herd-size classes) are in",
        "`model/data/regions/*.json`, documented in docs/CALIBRATION.md.",
        "",
        "| name | default | range | unit | description | source |",
        "|---|---|---|---|---|---|",
    ]
    for p in parameter_table().values():
        rng = "" if p.low is None else f"{_fmt(p.low)} – {_fmt(p.high)}"
        default = p.default if not isinstance(p.default, float) else _fmt(p.default)
        lines.append(
            f"| `{p.name}` | {default} | {rng} | {p.unit} | {p.description} | {p.source} |"
        )
    return "\n".join(lines) + "\n"

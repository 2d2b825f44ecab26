"""The levers of the built-in policies, read from ``model/policies/levers.toml``.

Each lever is declared once, in a table ``[<policy>.<lever>]`` of that file (default,
range, unit, source, description, type), as model/parameters.toml declares the
parameters. Levers that several policies have in the same sense (the years a
programme is in force, its administrative cost, targeting errors, a mortality
trigger, pension ages) are declared once in ``[groups.<group>.<lever>]``; a policy's
lever with ``group = "<group>"`` takes the group's fields and states only its own.

A policy class takes its levers with ``levers = policy_levers(NAME)``; a lever is a
:class:`~model.parameters.Param` named ``policies.<policy>.<lever>`` (a second
instance of the policy renames them with :func:`named`).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from model.parameters import Param, ParameterError

LEVERS_FILE = "levers.toml"
#: fields a lever table may give
FIELDS = {"group", "default", "range", "unit", "source", "description", "type", "choices",
          "list"}
#: the group whose levers every policy accepts, also without declaring them
ACTIVE_YEARS = "active_years"


@dataclasses.dataclass(frozen=True)
class ChoiceParam(Param):
    """A string lever restricted to a set of choices (``low``/``high`` unused)."""

    choices: tuple[str, ...] = ()

    def validate(self, value: Any, where: str = "") -> Any:
        value = super().validate(value, where)
        if value not in self.choices:
            prefix = f"{where}: " if where else ""
            raise ParameterError(
                f"{prefix}{self.name} = {value!r}; allowed: {', '.join(self.choices)}"
            )
        return value


@dataclasses.dataclass(frozen=True)
class ListParam(Param):
    """A list lever: a TOML list or a comma-separated string, stored as a canonical
    comma-separated string (so that every lever stays a plain str/number/bool)."""

    item: str = "str"  # "str" or "int"

    def validate(self, value: Any, where: str = "") -> Any:
        prefix = f"{where}: " if where else ""
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, list | tuple):
            items = [v.strip() if isinstance(v, str) else v for v in value]
        else:
            raise ParameterError(
                f"{prefix}{self.name} must be a list or a comma-separated string, got {value!r}"
            )
        out = []
        for v in items:
            if self.item == "int":
                try:
                    if isinstance(v, bool) or float(v) != int(float(v)):
                        raise ValueError
                    v = int(float(v))
                except (TypeError, ValueError, OverflowError):
                    raise ParameterError(
                        f"{prefix}{self.name}: {v!r} is not a whole number ({self.unit})"
                    ) from None
                if self.low is not None and self.high is not None and not self.low <= v <= self.high:
                    raise ParameterError(
                        f"{prefix}{self.name}: {v} is outside the allowed range "
                        f"[{self.low:g}, {self.high:g}] ({self.unit})"
                    )
            elif not isinstance(v, str | int) or isinstance(v, bool):
                raise ParameterError(f"{prefix}{self.name}: {v!r} must be a name or a code")
            out.append(str(v))
        return ",".join(out)


@cache
def lever_file() -> dict[str, Any]:
    """The parsed levers.toml (groups, sources and one table per policy)."""
    text = resources.files("model.policies").joinpath(LEVERS_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _source(text: str, where: str) -> str:
    sources = lever_file().get("sources", {})

    def sub(m: re.Match[str]) -> str:
        if m[1] not in sources:
            raise ParameterError(f"{LEVERS_FILE}: {where}.source names {{{m[1]}}}, which is not "
                                 f"in [sources] ({', '.join(sources)})")
        return sources[m[1]]

    return re.sub(r"\{(\w+)\}", sub, text)


def _param(policy: str, key: str, row: Mapping[str, Any]) -> Param:
    """The Param of lever ``key`` of ``policy`` from its table (and its group's)."""
    where = f"{policy}.{key}"
    unknown = set(row) - FIELDS
    if unknown:
        raise ParameterError(f"{LEVERS_FILE}: [{where}] has unknown field(s) "
                             f"{', '.join(sorted(unknown))}; allowed: {', '.join(sorted(FIELDS))}")
    fields = dict(row)
    group = fields.pop("group", None)
    if group is not None:
        template = lever_file().get("groups", {}).get(group, {}).get(key)
        if template is None:
            raise ParameterError(f"{LEVERS_FILE}: [{where}] group = {group!r} has no lever {key!r}")
        fields = {**template, **fields}
    low, high = fields.get("range", (None, None))
    name = f"policies.{policy}.{key}"
    common = dict(name=name, default=fields.get("default"), unit=fields.get("unit", "choice"),
                  source=_source(fields["source"], where), uncertain=False)
    if "choices" in fields:
        choices = tuple(fields["choices"])
        return ChoiceParam(**common, low=None, high=None, type="str", choices=choices,
                           description=f"{fields['description']} ({', '.join(choices)})")
    if "list" in fields:
        return ListParam(**common, low=low, high=high, type="str", item=fields["list"],
                         description=fields["description"])
    return Param(**common, low=low, high=high, type=fields.get("type", "float"),
                 description=fields["description"])


@cache
def _policy_levers(policy: str) -> dict[str, Param]:
    table = lever_file().get(policy)
    if not isinstance(table, Mapping):
        raise ParameterError(f"{LEVERS_FILE} has no table [{policy}]")
    return {key: _param(policy, key, row) for key, row in table.items()}


def policy_levers(policy: str) -> dict[str, Param]:
    """The levers of ``policy`` in file order: lever -> Param named policies.<policy>.<lever>."""
    return dict(_policy_levers(policy))


def group_fields(group: str) -> dict[str, dict[str, Any]]:
    """The fields the group ``group`` declares, per lever."""
    return {k: dict(v) for k, v in lever_file().get("groups", {}).get(group, {}).items()}


def generic_levers(policy: str) -> dict[str, Param]:
    """The active-years levers a policy accepts without declaring them (default: none,
    i.e. in force in every year), named for ``policy``."""
    return {key: _param(policy, key, {"group": ACTIVE_YEARS})
            for key in group_fields(ACTIVE_YEARS)}


def named(levers: Mapping[str, Param], policy: str) -> dict[str, Param]:
    """``levers`` renamed policies.<policy>.<lever> (for an instance with its own name)."""
    return {key: dataclasses.replace(p, name=f"policies.{policy}.{key}")
            for key, p in levers.items()}

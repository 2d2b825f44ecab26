"""Policies: social protection levers that act on households in their season.

A policy is a class registered in :data:`REGISTRY` under the name used in
scenario files (``[policies.<name>]``). It declares its levers (with types,
defaults and allowed ranges, validated like parameters) and implements hooks
that the model calls at fixed points of the seasonal cycle (see
``HerdtrapModel.step`` for the order):

* ``season(model, season)`` — every season, after income and before
  consumption and coping (transfers, premiums, contributions, pensions);
* ``after_winter(model)`` — in winter, right after the winter's losses are
  known (insurance indices, ex-post triggers);
* ``end_year(model)`` — after the year's metrics are computed.

Dated schedules (any policy): ``start_year`` / ``end_year`` are the calendar
years the programme is in force. Outside them the model calls neither
``season`` nor ``after_winter`` but ``settle(model, season)``, which pays only
what was committed while in force (claims of policies sold, scheduled
instalments). A lever named in the class's ``yearly_levers`` may also have a
``<lever>_by_year`` table of calendar year -> value (see :mod:`model.policies.dated`);
each spring the model sets the lever to its value in that year and calls
``levers_changed``.

Policies move money only through ``model.pay`` / ``model.charge`` (which
update household cash and the ledgers) and animals only through
``model.give_animals``; they draw random numbers only from
``model.draw(stream, shape)`` so that common random numbers hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.parameters import Param, ParameterError
from model.policies.dated import (
    GENERIC_LEVERS,
    SCHEDULE_SUFFIX,
    parse_dated,
    validate_dated,
    value_in_year,
)

if TYPE_CHECKING:
    from model.model import HerdtrapModel
    from model.region import Region


class ScenarioData:
    """What a policy's levers are checked against when a scenario is loaded: the
    scenario's aimags and (loaded only when a check asks for it) their region."""

    def __init__(self, aimags: tuple[str, ...] | list[str]) -> None:
        self.aimags = tuple(aimags)

    @cached_property
    def region(self) -> Region:
        from model.region import load_region

        return load_region(list(self.aimags))


class Policy:
    """Base class: subclasses set ``name`` and ``levers`` and override hooks."""

    name: ClassVar[str] = ""
    #: lever name -> Param (default, range, unit, source, description, type)
    levers: ClassVar[dict[str, Param]] = {}
    #: levers the policy reads afresh every year, so that they may have a
    #: ``<lever>_by_year`` schedule (others are fixed when the run starts)
    yearly_levers: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: Mapping[str, Any], model: HerdtrapModel) -> None:
        self.settings = dict(settings)
        self.model = model
        #: lever -> [(year, value)] and the plain value of each scheduled lever
        self.schedules = {lever[: -len(SCHEDULE_SUFFIX)]: parse_dated(self.levers[
            lever[: -len(SCHEDULE_SUFFIX)]], v, f"policies.{self.name}.{lever}")
            for lever, v in self.settings.items()
            if lever.endswith(SCHEDULE_SUFFIX) and v}
        self.plain = {lever: self.settings[lever] for lever in self.schedules}
        spec = getattr(model, "spec", None)
        if spec is not None:  # levers in force in the first simulated year
            self.apply_year(spec.start_year)

    # -------------------------------------------------------------- dated schedules
    def value_in_year(self, lever: str, year: int) -> Any:
        """The value of ``lever`` in calendar ``year`` (its schedule, else its plain value)."""
        plain = self.plain.get(lever, self.settings[lever])
        return value_in_year(self.schedules.get(lever, []), year, plain)

    def apply_year(self, year: int) -> set[str]:
        """Set every scheduled lever to its value in calendar ``year``; the levers changed."""
        changed = set()
        for lever in self.schedules:
            v = self.value_in_year(lever, year)
            if self.settings[lever] != v:
                self.settings[lever] = v
                changed.add(lever)
        return changed

    def in_force(self, model: HerdtrapModel) -> bool:
        """Whether the current calendar year lies in [start_year, end_year] (if given)."""
        y = model.calendar_year
        start, end = self.settings.get("start_year"), self.settings.get("end_year")
        return (start is None or y >= start) and (end is None or y <= end)

    def levers_changed(self, model: HerdtrapModel, changed: set[str]) -> None:
        """Called in spring after scheduled levers changed (recompute what depends on them)."""
        return None

    def settle(self, model: HerdtrapModel, season: int) -> None:
        """Out of its years: honour what was committed while in force (default: nothing)."""
        return None

    def season(self, model: HerdtrapModel, season: int) -> None:  # pragma: no cover - default
        return None

    def after_winter(self, model: HerdtrapModel) -> None:  # pragma: no cover - default
        return None

    def end_year(self, model: HerdtrapModel) -> None:  # pragma: no cover - default
        return None

    #: per-slot arrays that are not zero/False for a new household: name -> fill value
    slot_fill: ClassVar[dict[str, Any]] = {}
    #: per-slot uniforms drawn once (name -> (stream, key)): new slots get their own
    slot_draws: ClassVar[dict[str, tuple[str, str]]] = {}
    #: arrays that are not per household slot although they may have its length
    not_slot: ClassVar[tuple[str, ...]] = ()

    def _slot_arrays(self, n: int) -> list[tuple[Any, Any, np.ndarray]]:
        """(container, key, array) of every per-slot array the policy holds: numpy
        attributes (and dict values, e.g. scheduled payments) whose first axis is n."""
        out = []
        for name, value in vars(self).items():
            if name in self.not_slot or name in ("settings", "model"):
                continue
            if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n:
                out.append((self, name, value))
            elif isinstance(value, dict):
                for key, v in value.items():
                    if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
                        out.append((value, key, v))
        return out

    def grow(self, model: HerdtrapModel, n_before: int, n_after: int) -> None:
        """Extend every per-slot array to the grown table (new slots: see ``reset_slots``)."""
        k = n_after - n_before
        for container, key, a in self._slot_arrays(n_before):
            name = key if container is self else None
            fill = self.slot_fill.get(name, 0) if name else 0
            new = np.concatenate([a, np.full((k, *a.shape[1:]), fill, dtype=a.dtype)])
            if name in self.slot_draws:
                stream, dkey = self.slot_draws[name]
                new[n_before:] = model.draw(stream, n_after, key=dkey)[n_before:]
            if container is self:
                setattr(self, key, new)
            else:
                container[key] = new

    def reset_slots(self, model: HerdtrapModel, rows: np.ndarray) -> None:
        """Reused slots: a new household starts with the fill values and its own draws
        (a uniform per slot of this step, so common random numbers hold)."""
        n = model.households.n
        for container, key, a in self._slot_arrays(n):
            name = key if container is self else None
            a[rows] = self.slot_fill.get(name, 0) if name else 0
            if name in self.slot_draws:
                stream, dkey = self.slot_draws[name]
                a[rows] = model.draw(stream, n, key=dkey)[rows]

    @classmethod
    def validate(cls, settings: Mapping[str, Any], where: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in settings.items():
            if key.endswith(SCHEDULE_SUFFIX) and key[: -len(SCHEDULE_SUFFIX)] in cls.yearly_levers:
                base = key[: -len(SCHEDULE_SUFFIX)]
                out[key] = validate_dated(cls.levers[base], value,
                                          f"{where}: policies.{cls.name}.{key}")
                continue
            lever = cls.levers.get(key) or GENERIC_LEVERS.get(key)
            if lever is None:
                allowed = sorted({*cls.levers, *GENERIC_LEVERS,
                                  *(f"{k}{SCHEDULE_SUFFIX}" for k in cls.yearly_levers)})
                hint = ""
                if key.endswith(SCHEDULE_SUFFIX) and key[: -len(SCHEDULE_SUFFIX)] in cls.levers:
                    hint = (f" ({key[: -len(SCHEDULE_SUFFIX)]} is fixed when the run starts in "
                            "this policy, so it cannot change by year)")
                raise ParameterError(
                    f"{where}: unknown key policies.{cls.name}.{key}{hint}; "
                    f"allowed: {', '.join(allowed)}"
                )
            if key in GENERIC_LEVERS and key not in cls.levers:
                lever = GENERIC_LEVERS[key].named(cls.name)
            out[key] = lever.validate(value, where)
        for key, lever in cls.levers.items():
            out.setdefault(key, lever.default)
        return out

    @classmethod
    def check(cls, settings: Mapping[str, Any], data: ScenarioData, where: str) -> None:
        """Check validated levers against each other and the data (species, soums,
        years) when the scenario is loaded, so that a bad value is an input error
        (ParameterError naming ``where`` = "<file>: policies.<name>") and never a
        failed run. Subclasses extend it; the base checks start_year <= end_year."""
        start, end = settings.get("start_year"), settings.get("end_year")
        if start is not None and end is not None and start > end:
            raise ParameterError(f"{where}.start_year = {start} is after end_year = {end}")


REGISTRY: dict[str, type[Policy]] = {}


def register(cls: type[Policy]) -> type[Policy]:
    REGISTRY[cls.name] = cls
    return cls


def validate_policies(policies: Mapping[str, Any], where: str = "",
                      data: ScenarioData | None = None) -> dict[str, dict[str, Any]]:
    """Validate the ``[policies.*]`` tables of a scenario; fill in lever defaults.

    With ``data`` (the scenario's aimags) each policy's :meth:`Policy.check` also
    checks its levers against the data."""
    _load_builtin()
    if not isinstance(policies, Mapping):
        raise ParameterError(f"{where}: policies must be a table of [policies.<name>] tables, "
                             f"got {policies!r}")
    out: dict[str, dict[str, Any]] = {}
    for name, settings in policies.items():
        if name not in REGISTRY:
            raise ParameterError(
                f"{where}: unknown policy {name!r}; available: {', '.join(sorted(REGISTRY)) or 'none'}"
            )
        if not isinstance(settings, Mapping):
            raise ParameterError(f"{where}: policies.{name} must be a table of levers, "
                                 f"got {settings!r}")
        out[name] = REGISTRY[name].validate(settings, where)
        if data is not None:
            REGISTRY[name].check(out[name], data, f"{where}: policies.{name}")
    return out


class PolicySet:
    """The scenario's active policies, called by the model in a fixed order."""

    def __init__(self, policies: Mapping[str, Mapping[str, Any]], model: HerdtrapModel) -> None:
        _load_builtin()
        self.active: list[Policy] = [
            REGISTRY[name](settings, model)
            for name, settings in sorted(policies.items(), key=lambda kv: _order(kv[0]))
        ]

    def season(self, model: HerdtrapModel, season: int) -> None:
        if season == 0:  # a new calendar year: scheduled levers take that year's values
            for policy in self.active:
                changed = policy.apply_year(model.calendar_year)
                if changed:
                    policy.levers_changed(model, changed)
        for policy in self.active:
            if policy.in_force(model):
                policy.season(model, season)
            else:
                policy.settle(model, season)

    def after_winter(self, model: HerdtrapModel) -> None:
        for policy in self.active:
            if policy.in_force(model):
                policy.after_winter(model)

    def end_year(self, model: HerdtrapModel) -> None:
        for policy in self.active:
            policy.end_year(model)

    def grow(self, model: HerdtrapModel, n_before: int, n_after: int) -> None:
        for policy in self.active:
            policy.grow(model, n_before, n_after)

    def reset_slots(self, model: HerdtrapModel, rows: np.ndarray) -> None:
        for policy in self.active:
            policy.reset_slots(model, rows)

    def metrics(self, model: HerdtrapModel) -> dict[str, Any]:
        """Yearly policy metrics (see :mod:`model.policies.metrics`)."""
        from model.policies.metrics import policy_metrics

        return policy_metrics(model)


def _order(name: str) -> tuple[int, str]:
    names = list(REGISTRY)
    return (names.index(name) if name in names else len(names), name)


#: The built-in policy modules (each registers its policies on import). Their order is
#: the order in which the policies of a scenario run (``_order``): alphabetical, as the
#: package scan that preceded this list gave it. A new policy module is added here.
BUILTIN_MODULES = ("child_money", "insurance", "restocking", "social_insurance",
                   "social_pension", "topup", "training", "transfers")


def _load_builtin() -> None:
    """Import the built-in policy modules (they register themselves)."""
    import importlib

    for name in BUILTIN_MODULES:
        importlib.import_module(f"model.policies.{name}")

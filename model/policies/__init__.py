"""Policies: social protection levers that act on households in their season.

A policy is a class registered in :data:`REGISTRY` under the name used in
scenario files (``[policies.<name>]``). Its levers (with types, defaults and
allowed ranges, validated like parameters) are declared in
``model/policies/levers.toml`` (:mod:`model.policies.levers`), and it implements
hooks that the model calls at fixed points of the seasonal cycle (see
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

Named instances: ``[policies.<name>]`` is an instance of the policy ``<name>``; a
further instance of a policy whose class allows it (``repeatable``) takes another
name and names its policy, ``[policies.shock_responsive_topup_2]`` with
``policy = "shock_responsive_topup"``. An instance's metric columns, ledger account
and messages carry its own name (``Policy.name`` on the instance); instances act in
the order of their policies in :data:`REGISTRY`, an instance named as its policy
before the others of that policy, which follow by name.

Policies move money only through ``model.pay`` / ``model.charge`` (which
update household cash and the ledgers) and animals only through
``model.give_animals``; they draw random numbers only from
``model.draw(stream, shape)`` so that common random numbers hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.ledger import NON_FISCAL_ACCOUNTS
from model.parameters import Param, ParameterError
from model.policies.dated import SCHEDULE_SUFFIX, parse_dated, validate_dated, value_in_year
from model.policies.levers import generic_levers, named

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


#: The key of a ``[policies.<name>]`` table that names the policy of an instance
#: named otherwise (``policy = "shock_responsive_topup"``).
TYPE_KEY = "policy"
#: What an instance's name may be (it becomes part of metric columns and a ledger account).
INSTANCE_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: Names that were policies of their own before instances were named: a table under
#: such a name without a ``policy`` key is an instance of the policy given here.
FORMER_POLICIES = {"shock_responsive_topup_2": "shock_responsive_topup"}


class Policy:
    """Base class: subclasses set ``name`` and ``levers`` and override hooks.

    ``name`` on the class is the policy's name in :data:`REGISTRY`; on an instance it
    is the instance's name in the scenario (the same unless the scenario names a
    further instance, see :data:`TYPE_KEY`)."""

    name: str = ""
    #: lever name -> Param (default, range, unit, source, description, type), from
    #: model/policies/levers.toml (``levers.policy_levers``)
    levers: ClassVar[dict[str, Param]] = {}
    #: levers the policy reads afresh every year, so that they may have a
    #: ``<lever>_by_year`` schedule (others are fixed when the run starts)
    yearly_levers: ClassVar[frozenset[str]] = frozenset()
    #: whether a scenario may hold further instances under other names (the policy keeps
    #: its accounts, columns and draws under the instance's name and shares no state)
    repeatable: ClassVar[bool] = False

    def __init__(self, settings: Mapping[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        self.name = name or type(self).name
        self.settings = {k: v for k, v in settings.items() if k != TYPE_KEY}
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
    def levers_of(cls, name: str | None = None) -> dict[str, Param]:
        """The levers an instance named ``name`` accepts, named policies.<name>.<lever>:
        the class's levers and the active years (start_year/end_year) it does not declare."""
        name = name or cls.name
        own = cls.levers if name == cls.name else named(cls.levers, name)
        return {**generic_levers(name), **own}

    @classmethod
    def validate(cls, settings: Mapping[str, Any], where: str,
                 name: str | None = None) -> dict[str, Any]:
        """The levers of the instance ``name`` (default: the policy's name) checked, with
        the defaults of those not given (ParameterError naming ``where`` and the key)."""
        name = name or cls.name
        levers = cls.levers_of(name)
        out: dict[str, Any] = {}
        for key, value in settings.items():
            if key.endswith(SCHEDULE_SUFFIX) and key[: -len(SCHEDULE_SUFFIX)] in cls.yearly_levers:
                base = key[: -len(SCHEDULE_SUFFIX)]
                out[key] = validate_dated(levers[base], value, f"{where}: policies.{name}.{key}")
                continue
            lever = levers.get(key)
            if lever is None:
                allowed = sorted({*levers, *(f"{k}{SCHEDULE_SUFFIX}" for k in cls.yearly_levers)})
                hint = ""
                if key.endswith(SCHEDULE_SUFFIX) and key[: -len(SCHEDULE_SUFFIX)] in cls.levers:
                    hint = (f" ({key[: -len(SCHEDULE_SUFFIX)]} is fixed when the run starts in "
                            "this policy, so it cannot change by year)")
                raise ParameterError(
                    f"{where}: unknown key policies.{name}.{key}{hint}; "
                    f"allowed: {', '.join(allowed)}"
                )
            out[key] = lever.validate(value, where)
        for key in cls.levers:
            out.setdefault(key, levers[key].default)
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


def policy_class(name: str, settings: Mapping[str, Any] | None = None,
                 where: str = "") -> type[Policy]:
    """The policy of the instance ``[policies.<name>]`` with ``settings``: the one its
    ``policy`` key names, else the one called ``name`` (ParameterError naming ``where``
    and the key if there is none, or if the policy cannot have a further instance)."""
    _load_builtin()
    kind = (settings or {}).get(TYPE_KEY, FORMER_POLICIES.get(name))
    policies = ", ".join(sorted(REGISTRY)) or "none"
    if kind is None:
        if name not in REGISTRY:
            raise ParameterError(
                f"{where}: unknown policy {name!r}; available: {policies} (a further "
                f"instance of a policy names it: {TYPE_KEY} = \"<policy>\")")
        return REGISTRY[name]
    key = f"policies.{name}.{TYPE_KEY}"
    if not isinstance(kind, str) or kind not in REGISTRY:
        raise ParameterError(f"{where}: {key} = {kind!r} is not a policy; allowed: {policies}")
    cls = REGISTRY[kind]
    if name != kind:
        if name in REGISTRY:
            raise ParameterError(f"{where}: {key} = {kind!r}, but [policies.{name}] is the "
                                 f"policy {name!r}; give the {kind} instance another name")
        if not cls.repeatable:
            allowed = ", ".join(n for n, c in REGISTRY.items() if c.repeatable)
            raise ParameterError(f"{where}: {key} = {kind!r}: {kind} runs once per scenario "
                                 f"and cannot have a further instance; allowed: {allowed}")
        if not INSTANCE_NAME.fullmatch(name) or name in NON_FISCAL_ACCOUNTS:
            raise ParameterError(
                f"{where}: policies.{name}: an instance's name must be lower-case letters, "
                f"digits and _, starting with a letter, and not {', '.join(NON_FISCAL_ACCOUNTS)}")
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
        if not isinstance(settings, Mapping):
            policy_class(name, None, where)  # an unknown policy is named first
            raise ParameterError(f"{where}: policies.{name} must be a table of levers, "
                                 f"got {settings!r}")
        cls = policy_class(name, settings, where)
        levers = cls.validate({k: v for k, v in settings.items() if k != TYPE_KEY}, where, name)
        if data is not None:
            cls.check(levers, data, f"{where}: policies.{name}")
        # the resolved table names the policy only where the name does not
        out[name] = levers if name == cls.name else {TYPE_KEY: cls.name, **levers}
    return out


class PolicySet:
    """The scenario's active policies, called by the model in a fixed order."""

    def __init__(self, policies: Mapping[str, Mapping[str, Any]], model: HerdtrapModel) -> None:
        _load_builtin()
        self.active: list[Policy] = [
            policy_class(name, settings)(settings, model, name)
            for name, settings in sorted(policies.items(), key=lambda kv: _order(*kv))
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


def _order(name: str, settings: Mapping[str, Any]) -> tuple[int, bool, str]:
    """Where the instance ``name`` acts: its policy's place in REGISTRY, the instance
    named as the policy first, then the policy's further instances by name."""
    kind = settings.get(TYPE_KEY, FORMER_POLICIES.get(name, name))
    names = list(REGISTRY)
    return (names.index(kind) if kind in names else len(names), name != kind, name)


#: The built-in policy modules (each registers its policies on import). Their order is
#: the order in which the policies of a scenario run (``_order``): alphabetical, as the
#: package scan that preceded this list gave it, and within a module the order of its
#: classes. A new policy module is added here.
BUILTIN_MODULES = ("child_money", "insurance", "restocking", "social_insurance",
                   "social_pension", "topup", "training", "transfers")


def _load_builtin() -> None:
    """Import the built-in policy modules (they register themselves)."""
    import importlib

    for name in BUILTIN_MODULES:
        importlib.import_module(f"model.policies.{name}")

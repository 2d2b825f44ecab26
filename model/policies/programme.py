"""Shared machinery of the built-in policies: soum selection, targeting errors,
scheduled payments and per-year accounting (their levers: model/policies/levers.toml).

Every built-in policy derives from :class:`Programme`, which

* pays households through ``model.pay`` (so cash, household income and the
  fiscal ledger move together) and remembers who was reached this year;
* writes the year's unique counts to the ledger at ``end_year``
  (``households`` = unique households reached, ``children_reached``);
* exposes ``metrics(model)`` read by :func:`model.policies.metrics.policy_metrics`.

Ledger counts: ``beneficiaries`` (written by ``model.pay``) counts household
*payments* (a household paid in four seasons counts four times);
``households`` counts unique households reached in the year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.parameters import ParameterError
from model.policies import Policy
from model.species import SFU, SPECIES

if TYPE_CHECKING:
    from model.model import HerdtrapModel
    from model.region import Region


def parse_list(value: str) -> list[str]:
    return [v.strip() for v in str(value).split(",") if v.strip()]


def parse_years(value: str) -> set[int]:
    return {int(v) for v in parse_list(value)}


def parse_schedule(value: str, where: str) -> list[tuple[int, float]]:
    """``"2020:100, 2023:100"`` -> [(2020, 100.0), (2023, 100.0)] sorted by year."""
    out = []
    for part in parse_list(value):
        try:
            year, amount = part.split(":")
            out.append((int(year), float(amount)))
        except ValueError:
            raise ParameterError(
                f"{where}: {part!r} is not YEAR:AMOUNT (e.g. \"2020:100\")"
            ) from None
        if out[-1][1] < 0:
            raise ParameterError(f"{where}: amount {out[-1][1]} must be >= 0")
    return sorted(out)


def select_soums(region: Region, spec: str, where: str) -> np.ndarray:
    """Boolean mask over the region's soums from a selection string.

    Comma-separated tokens, combined by union:

    * empty string or ``*`` — every soum of the region;
    * a 5-digit NSO soum code (``18125``);
    * an aimag name (``Zavkhan``) — all its soums; ``Zavkhan:rural`` — all but
      the aimag centre (the soum whose code ends in 01, e.g. Uliastai 18101);
    * ``Aimag:Soum`` (``Zavkhan:Ikh-Uul``) or a soum name that is unique in the
      region (Ikh-Uul and Tosontsengel exist in both Zavkhan and Khuvsgul).
    """
    tokens = parse_list(spec)
    n = region.n_soums
    if not tokens or tokens == ["*"]:
        return np.ones(n, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    names = np.array([s.lower() for s in region.soum_names])
    aimag_of = np.array([region.aimags[a].lower() for a in region.soum_aimag])
    aimags = [a.lower() for a in region.aimags]
    for tok in tokens:
        t = tok.lower()
        if t.isdigit():
            hit = region.soum_codes == int(t)
        elif t in aimags:
            hit = aimag_of == t
        elif ":" in t:
            a, s = (x.strip() for x in t.split(":", 1))
            if a not in aimags:
                raise ParameterError(
                    f"{where}: soum selection {tok!r}: aimag {a!r} is not in the scenario's "
                    f"region ({', '.join(region.aimags)})"
                )
            if s == "rural":
                hit = (aimag_of == a) & (region.soum_codes % 100 != 1)
            else:
                hit = (aimag_of == a) & (names == s)
        else:
            hit = names == t
            if hit.sum() > 1:
                options = ", ".join(
                    f"{region.aimags[region.soum_aimag[i]]}:{region.soum_names[i]}"
                    for i in np.flatnonzero(hit)
                )
                raise ParameterError(
                    f"{where}: soum name {tok!r} is ambiguous in this region; use one of {options}"
                )
        if not hit.any():
            raise ParameterError(
                f"{where}: soum selection {tok!r} matches no soum of the region "
                f"({', '.join(region.aimags)})"
            )
        mask |= hit
    return mask


def apply_targeting_errors(eligible: np.ndarray, u: np.ndarray, exclusion_error: float,
                           inclusion_error: float) -> np.ndarray:
    """Who is actually enrolled by an imperfect targeting rule.

    An eligible household is excluded with probability ``exclusion_error``
    (enrolled if u >= exclusion_error); an ineligible one is included with
    probability ``inclusion_error`` (enrolled if u < inclusion_error). ``u`` is
    one uniform per household slot, so the same household keeps its luck when
    the rule changes (common random numbers).
    """
    return np.where(eligible, u >= exclusion_error, u < inclusion_error)


def soum_loss_index(model: HerdtrapModel) -> np.ndarray:
    """(n_soums,) SFU-weighted mortality index of the current winter (aimag 2019 stock weights)."""
    r = model.region
    return (model.winter.soum_mortality * r.species_sfu_weight[r.soum_aimag]).sum(axis=1)


def species_mask(spec: str, where: str) -> np.ndarray:
    names = [s.lower() for s in parse_list(spec)] or list(SPECIES)
    bad = [s for s in names if s not in SPECIES]
    if bad:
        raise ParameterError(f"{where}: unknown species {', '.join(bad)}; allowed: {', '.join(SPECIES)}")
    return np.array([s in names for s in SPECIES])


def step_index(model: HerdtrapModel) -> int:
    """Index of the current season since the start (0 = first spring)."""
    return model.step_index


def children_in_band(model: HerdtrapModel, band: str) -> np.ndarray:
    hh = model.households
    return {
        "0-5": hh.children_0_5,
        "6-17": hh.children_6_17,
        "0-17": hh.children_0_5 + hh.children_6_17,
    }[band].astype(float)


@dataclass(frozen=True, eq=False)
class SignalRecord:
    """What a policy that pays on a signal decided for one winter (the trigger scorecard,
    experiments/analysis/triggers.py): the soums where its trigger fired, the households
    it covers (would pay if their soum fired) and what it awarded each (kMNT)."""

    year: int  # simulated year of the winter
    fired_soums: np.ndarray  # bool (n_soums,)
    covered: np.ndarray  # bool per household slot
    paid: np.ndarray  # float per household slot, awarded for this winter


class Programme(Policy):
    """A policy with its own ledger account (= its name) and yearly accounting."""

    #: the last winter's trigger decision of a policy that pays on a signal (None: none)
    signal_record: SignalRecord | None = None

    #: children counted as reached (None: the programme does not target children)
    counts_children: ClassVar[bool] = False

    def __init__(self, settings: Mapping[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        super().__init__(settings, model, name)
        self.where = f"{model.spec.source or model.spec.name}: policies.{self.name}"
        n = model.households.n
        self.reached = np.zeros(n, dtype=bool)
        #: households reached in any earlier year of the run (see ``beneficiaries``)
        self.ever_reached = np.zeros(n, dtype=bool)
        self.paid = np.zeros(n)
        self.children = np.zeros(n)
        #: ids of the households reached in earlier years (slots are reused: see ``hids``)
        self._reached_hids: list[np.ndarray] = []
        self._pending: dict[int, np.ndarray] = {}
        self._pending_children: dict[int, np.ndarray] = {}

    # -------------------------------------------------------------- money
    def pay(self, model: HerdtrapModel, amount: np.ndarray, *, item: str = "transfers",
            source: str = "transfers", account: str | None = None,
            children: np.ndarray | None = None, admin: float | None = None) -> np.ndarray:
        """Pay households and record who was reached (admin cost per payment: ``admin``,
        else the ``admin_cost`` lever if the policy has one)."""
        if admin is None:
            admin = float(self.settings.get("admin_cost", 0.0))
        paid = model.pay(
            account or self.name, np.asarray(amount, dtype=float), item=item,
            admin_per_beneficiary=admin, source=source,
        )
        got = paid > 0
        self.reached |= got
        self.paid += paid
        if children is not None:
            self.children = np.maximum(self.children, np.where(got, children, 0.0))
        return paid

    def schedule(self, step: int, amount: np.ndarray, children: np.ndarray | None = None,
                 *, announce: bool = True) -> None:
        """Queue ``amount`` (kMNT per slot) to be paid in season ``step``.

        The households are told (``model.announce``): lenders count what is owed to them
        as collateral until ``pay_due`` pays it. ``announce=False`` queues something
        that is not money (restocking's animals)."""
        if announce:
            self.model.announce(np.asarray(amount, dtype=float))
        if step in self._pending:
            self._pending[step] = self._pending[step] + amount
        else:
            self._pending[step] = np.asarray(amount, dtype=float).copy()
        if children is not None:
            self._pending_children[step] = children

    def pay_due(self, model: HerdtrapModel, **kwargs: Any) -> np.ndarray | None:
        """Pay what was scheduled for the current season."""
        step = step_index(model)
        amount = self._pending.pop(step, None)
        children = self._pending_children.pop(step, None)
        if amount is None:
            return None
        model.announce(-amount)
        return self.pay(model, amount, children=children, **kwargs)

    def settle(self, model: HerdtrapModel, season: int) -> None:
        """Out of its years (start_year/end_year): pay the instalments scheduled while in force."""
        self.pay_due(model)

    # -------------------------------------------------------------- accounting
    def beneficiaries(self) -> np.ndarray:
        """Household slots the programme has paid, given animals or served so far in the run."""
        return self.ever_reached | self.reached

    def beneficiary_hids(self) -> np.ndarray:
        """Ids (HouseholdState.hid) of every household the programme has reached so far,
        including households that have since dissolved."""
        now = self.model.households.hid[self.reached]
        return np.unique(np.concatenate([*self._reached_hids, now]))

    def coverage(self, model: HerdtrapModel) -> float:
        """Share of the households in the outputs' scope (``HouseholdState.in_scope``)
        reached this year (overridden where coverage means enrolment or insurance). Not
        of the table's slots: vacant slots would make it depend on the table's size."""
        scope = model.households.in_scope
        return float(self.reached[scope].mean()) if scope.any() else 0.0

    def metrics(self, model: HerdtrapModel) -> dict[str, Any]:
        n = self.name
        row: dict[str, Any] = {
            f"beneficiaries_{n}": int(self.reached.sum()),
            f"payments_{n}": float(self.paid.sum()),
            f"coverage_{n}": self.coverage(model),
        }
        if self.counts_children:
            row[f"children_reached_{n}"] = int(self.children.sum())
        return row

    def end_year(self, model: HerdtrapModel) -> None:
        y = model.year
        model.ledger.add(y, self.name, "households", int(self.reached.sum()))
        if self.counts_children:
            model.ledger.add(y, self.name, "children_reached", float(self.children.sum()))
        self.ever_reached |= self.reached
        self._reached_hids.append(model.households.hid[self.reached])
        self.reached[:] = False
        self.paid[:] = 0.0
        self.children[:] = 0.0


def herd_sfu_per_person(model: HerdtrapModel) -> np.ndarray:
    hh = model.households
    return (hh.herd @ SFU) / np.maximum(hh.persons, 1)

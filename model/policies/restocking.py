"""Restocking: animals given to herders who lost much of their herd in a dzud.

After a winter whose soum SFU mortality index exceeds ``loss_threshold``, a
herding household of that soum is eligible if it lost at least
``min_household_loss`` of its herd (SFU) this winter and now has fewer than
``herd_line`` SFU per person. ``lag`` seasons later (default 1: spring, as
animals are procured and moved after the winter) it receives ``head_sfu``
sheep units, ``sheep_share`` of them as sheep and the rest as goats::

    sheep = round(head_sfu · sheep_share),  goats = round(head_sfu · (1 − sheep_share) / 0.9)

Cost to the treasury (item "animals") = head × the household's market price in
the delivery season, plus ``admin_cost`` per household (procurement,
transport). Animals move only through ``model.give_animals``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.policies import register
from model.policies.levers import policy_levers
from model.policies.programme import (
    Programme,
    herd_sfu_per_person,
    soum_loss_index,
    step_index,
)
from model.species import SFU, SPECIES

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NAME = "restocking"
_SHEEP, _GOAT = SPECIES.index("sheep"), SPECIES.index("goat")


@register
class Restocking(Programme):
    """Asset transfer (sheep and goats) after a dzud."""

    name = NAME
    repeatable = True
    not_slot: ClassVar[tuple[str, ...]] = ("package",)
    levers = policy_levers(NAME)

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        super().__init__(settings, model, name)
        s = self.settings
        self.package = np.zeros(len(SPECIES), dtype=np.int64)
        self.package[_SHEEP] = int(round(s["head_sfu"] * s["sheep_share"] / SFU[_SHEEP]))
        self.package[_GOAT] = int(round(s["head_sfu"] * (1 - s["sheep_share"]) / SFU[_GOAT]))
        self._given_sfu = 0.0

    def after_winter(self, model: HerdtrapModel) -> None:
        s = self.settings
        hh = model.households
        lost = model.winter_outcome.loss_rate
        shock = soum_loss_index(model)[hh.soum] > s["loss_threshold"]
        eligible = (shock & hh.herding & (lost >= s["min_household_loss"])
                    & (herd_sfu_per_person(model) < s["herd_line"]))
        if eligible.any():
            self.schedule(step_index(model) + s["lag"], eligible.astype(float), announce=False)

    def season(self, model: HerdtrapModel, season: int) -> None:
        due = self._pending.pop(step_index(model), None)
        if due is None:
            return
        hh = model.households
        get = (due > 0) & hh.herding
        if not get.any():
            return
        head = get[:, None] * self.package[None, :]
        cost = float((head * model.prices()).sum())
        model.give_animals(self.name, head, cost)
        y = model.year
        n = int(get.sum())
        model.ledger.add(y, self.name, "beneficiaries", n)
        if self.settings["admin_cost"]:
            model.ledger.add(y, self.name, "admin", self.settings["admin_cost"] * n)
        self.reached |= get
        self.paid += np.where(get, (head * model.prices()).sum(axis=1), 0.0)
        self._given_sfu += float((head @ SFU).sum())

    def settle(self, model: HerdtrapModel, season: int) -> None:
        """Out of its years: deliver the animals promised after a winter in force."""
        self.season(model, season)

    def metrics(self, model: HerdtrapModel) -> dict[str, Any]:
        row = super().metrics(model)
        row["restocking_sfu_given"] = self._given_sfu
        return row

    def end_year(self, model: HerdtrapModel) -> None:
        super().end_year(model)
        self._given_sfu = 0.0

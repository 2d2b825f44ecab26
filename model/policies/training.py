"""Livelihood and skills training: higher cashmere income, lower winter losses.

Households are trained once, in summer, over a roll-out: with one uniform per
household slot drawn at the start (stream "policy", key "training.select"), a
herding household is trained in roll-out year k = 0 … R−1 (calendar years
``start_year`` + k) if ``target_share`` · k / R ≤ u < ``target_share`` · (k+1) / R.
A trained household's multipliers change for good::

    cashmere_factor ← cashmere_factor · (1 + cashmere_gain)   (yield or price)
    loss_factor     ← loss_factor · (1 − loss_reduction)      (winter mortality)

Cost to the treasury (item "training") = ``cost`` per household trained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.policies import register
from model.policies.levers import policy_levers
from model.policies.programme import Programme

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NAME = "training"


@register
class Training(Programme):
    """One-off training with lasting productivity gains."""

    name = NAME
    slot_draws: ClassVar[dict[str, tuple[str, str]]] = {"u": ("policy", f"{NAME}.select")}
    levers = policy_levers(NAME)

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        super().__init__(settings, model, name)
        self.u = model.draw("policy", model.households.n, key=f"{NAME}.select")
        self.trained = np.zeros(model.households.n, dtype=bool)
        self._trained_this_year = 0

    def beneficiaries(self) -> np.ndarray:
        return self.trained.copy()

    def beneficiary_hids(self) -> np.ndarray:
        return np.unique(np.concatenate([*self._reached_hids,
                                         self.model.households.hid[self.trained]]))

    def season(self, model: HerdtrapModel, season: int) -> None:
        s = self.settings
        k = model.calendar_year - s["start_year"]
        if season != 1 or not 0 <= k < s["rollout_years"]:
            return
        hh = model.households
        lo = s["target_share"] * k / s["rollout_years"]
        hi = s["target_share"] * (k + 1) / s["rollout_years"]
        new = hh.herding & ~self.trained & (self.u >= lo) & (self.u < hi)
        if not new.any():
            return
        hh.cashmere_factor[new] *= 1.0 + s["cashmere_gain"]
        hh.loss_factor[new] *= 1.0 - s["loss_reduction"]
        self.trained |= new
        n = int(new.sum())
        self._trained_this_year += n
        model.ledger.add(model.year, NAME, "training", s["cost"] * n)
        model.ledger.add(model.year, NAME, "beneficiaries", n)
        self.reached |= new

    def coverage(self, model: HerdtrapModel) -> float:
        """Share of the households in scope (``HouseholdState.in_scope``) trained so far."""
        scope = model.households.in_scope
        return float(self.trained[scope].mean()) if scope.any() else 0.0

    def metrics(self, model: HerdtrapModel) -> dict[str, Any]:
        row = super().metrics(model)
        row["training_trained_this_year"] = self._trained_this_year
        return row

    def end_year(self, model: HerdtrapModel) -> None:
        super().end_year(model)
        self._reached_hids.append(model.households.hid[self.trained])
        self._trained_this_year = 0

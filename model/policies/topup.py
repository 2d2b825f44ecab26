"""Shock-responsive Child Money top-up (the Zavkhan pilot design, winter 2019/20).

An extra payment per child in an age band, for the soums a trigger selects,
paid through the Child Money system after a delivery lag:

* ``trigger = "ex_ante"`` — decided in autumn, when the winter's pre-winter
  signal is known: soum s triggers if signal[aimag(s)] > ``signal_threshold``;
* ``trigger = "ex_post"`` — decided in winter right after the losses: soum s
  triggers if its SFU-weighted mortality index > ``loss_threshold``;
* ``trigger = "fixed"`` — decided in autumn for every selected soum (a
  pre-committed design such as the actual pilot).

Only soums in ``soums`` and winters in ``years`` (calendar year of the
December) can trigger. Payment: ``months`` monthly instalments of ``amount``
per child, starting ``lag`` seasons after the decision; the first paying
season covers ``first_season_months`` months (e.g. February only = 1), later
seasons up to 3 months each:

transfer_h = amount · months_in_season · children_h(band) · 1[soum(h) triggered]

Further instances run side by side under their own names (``repeatable``): the
Zavkhan pilot's phase 2 is ``[policies.shock_responsive_topup_2]`` with
``policy = "shock_responsive_topup"``, beside phase 1 in ``[policies.shock_responsive_topup]``.

Reach: ``children_reached_total_<name>`` is the number of distinct children
paid since the start; ``children_reached_scaled_<name>`` scales it to the
real herder population (NSO 2019 herder households of the region / simulated
households); with ``pilot_children`` set, the metrics also report the pilot's
count and the ratio. The pilot paid every registered child, herders or not,
so the herder-only scaled count is expected below the pilot's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.policies import register
from model.policies.levers import policy_levers
from model.policies.programme import (
    Programme,
    SignalRecord,
    children_in_band,
    parse_years,
    select_soums,
    soum_loss_index,
    step_index,
)

if TYPE_CHECKING:
    from model.model import HerdtrapModel
    from model.policies import ScenarioData

NAME = "shock_responsive_topup"

@register
class ShockResponsiveTopup(Programme):
    """Shock-responsive top-up per child, triggered ex ante, ex post or by design."""

    name = NAME
    not_slot: ClassVar[tuple[str, ...]] = ("triggered_soums", "soum_mask")
    counts_children = True
    yearly_levers = frozenset({"amount"})
    levers = policy_levers(NAME)
    repeatable = True

    @classmethod
    def check(cls, settings: Mapping[str, Any], data: ScenarioData, where: str) -> None:
        super().check(settings, data, where)
        select_soums(data.region, settings["soums"], f"{where}.soums")

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        super().__init__(settings, model, name)
        s = self.settings
        self.soum_mask = select_soums(model.region, s["soums"], f"{self.where}.soums")
        self.years = parse_years(s["years"])
        self.ever_children = np.zeros(model.households.n)
        #: instalments decided: season index -> amount per child per slot, and what the
        #: households were told (settled when paid)
        self._rates: dict[int, np.ndarray] = {}
        self._announced: dict[int, np.ndarray] = {}
        self.triggered_soums = np.zeros(model.region.n_soums, dtype=bool)
        #: households per real herder household (NSO 2019), for scaling reach
        self.scale = float(model.region.soum_herder_households.sum()) / model.households.n

    @property
    def kids(self) -> np.ndarray:
        """Children of the programme's age band per household slot, as they are now
        (members age, so children enter and leave the band; model.processes.demography)."""
        return children_in_band(self.model, self.settings["age_band"])

    def _decide(self, model: HerdtrapModel, hit: np.ndarray) -> None:
        s = self.settings
        if self.years and model.calendar_year not in self.years:
            return
        hit = hit & self.soum_mask
        kids = self.kids
        soum = model.households.soum
        covered = (kids > 0) & self.soum_mask[soum]
        if not hit.any():
            self.signal_record = SignalRecord(year=model.year, fired_soums=hit,
                                              covered=covered, paid=np.zeros(kids.shape))
            return
        self.triggered_soums |= hit
        # The amount per child is decided now; each instalment is paid for the children
        # in the age band when it is paid (children who turn 6 leave a 0-5 top-up).
        per_child = s["amount"] * hit[soum].astype(float)
        expected = per_child * kids  # what households are told they will receive
        self.signal_record = SignalRecord(year=model.year, fired_soums=hit, covered=covered,
                                          paid=s["months"] * expected)
        step = step_index(model) + s["lag"]
        left = s["months"]
        first = True
        while left > 0:
            q = min(s["first_season_months"] if first else 3, left)
            model.announce(q * expected)
            self._rates[step] = self._rates.get(step, 0.0) + q * per_child
            self._announced[step] = self._announced.get(step, 0.0) + q * expected
            left -= q
            step += 1
            first = False

    def pay_due(self, model: HerdtrapModel, **kwargs: Any) -> np.ndarray | None:
        """Pay the instalment due this season for the children in the band now."""
        step = step_index(model)
        rate = self._rates.pop(step, None)
        if rate is None:
            return None
        model.announce(-self._announced.pop(step))
        kids = self.kids
        return self.pay(model, rate * kids, children=np.where(rate > 0, kids, 0.0), **kwargs)

    def after_winter(self, model: HerdtrapModel) -> None:
        if self.settings["trigger"] == "ex_post":
            self._decide(model, soum_loss_index(model) > self.settings["loss_threshold"])

    def season(self, model: HerdtrapModel, season: int) -> None:
        trig = self.settings["trigger"]
        if season == 2 and trig != "ex_post":
            if trig == "ex_ante":
                signal = model.winter.signal[model.region.soum_aimag]
                hit = signal > self.settings["signal_threshold"]
            else:
                hit = np.ones(model.region.n_soums, dtype=bool)
            self._decide(model, hit)
        paid = self.pay_due(model)
        if paid is not None:
            self.ever_children = np.maximum(self.ever_children, np.where(paid > 0, self.kids, 0))

    def coverage(self, model: HerdtrapModel) -> float:
        """Share of households with children in the band paid this year."""
        with_kids = self.kids > 0
        return float(self.reached[with_kids].mean()) if with_kids.any() else 0.0

    def end_year(self, model: HerdtrapModel) -> None:
        super().end_year(model)
        self.triggered_soums[:] = False

    def metrics(self, model: HerdtrapModel) -> dict[str, Any]:
        row = super().metrics(model)
        n = self.name
        total = float(self.ever_children.sum())
        row[f"children_reached_total_{n}"] = int(total)
        row[f"children_reached_scaled_{n}"] = total * self.scale
        row[f"soums_triggered_{n}"] = int(self.triggered_soums.sum())
        pilot = self.settings["pilot_children"]
        if pilot:
            row[f"pilot_children_{n}"] = int(pilot)
            row[f"reach_ratio_{n}"] = total * self.scale / pilot
        return row


"""The social welfare pension: a tax-financed pension for elderly people without a
contributory pension (Social Welfare Law 2012, art. 12.1.1).

Every season, each member aged at least ``age_men`` (men) / ``age_women`` (women)
who draws no contributory old-age pension from the social insurance fund (no
``social_insurance`` policy in the scenario, or not entitled: see
:mod:`model.policies.pensions`) receives ``3 · amount``. The treasury pays it (account
``social_pension``, item ``pensions``; the households' income source ``pension``).
It is paid with the off-farm income (``income.offfarm_and_pensions``), and the
households expect it (``pensions.pension_per_season``).

Facts: men 60+, women 55+ without an insurance-pension entitlement (Social Welfare Law
2012 art. 12.1.1, mongolianlaws.com; atlashxm gives 65+, possibly the 2023 revision);
MNT 188,000 a month from 1 February 2020 (Government Resolution 25 of 22 January 2020,
legalinfo.mn/law/details/15017), 288,000 from 1 January 2023 (MLSP).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from model.policies import register
from model.policies.levers import policy_levers
from model.policies.pensions import SOCIAL_INSURANCE, SOCIAL_PENSION, add_initial_expectations
from model.policies.programme import Programme

if TYPE_CHECKING:
    from model.model import HerdtrapModel

NAME = SOCIAL_PENSION


@register
class SocialPension(Programme):
    """Social welfare pension for the elderly without a contributory pension."""

    name = NAME
    #: levers read afresh every season (dated schedules may change them by year)
    yearly_levers: ClassVar[frozenset[str]] = frozenset({"amount"})
    levers = policy_levers(NAME)

    def __init__(self, settings: dict[str, Any], model: HerdtrapModel,
                 name: str | None = None) -> None:
        super().__init__(settings, model, name)
        self.recipients = 0  # members paid in the last season
        if SOCIAL_INSURANCE not in model.spec.policies:  # else social insurance does it,
            add_initial_expectations(model)  # once the contribution records exist

    def pay_pensions(self, model: HerdtrapModel, monthly: np.ndarray) -> None:
        """Pay ``monthly`` (kMNT per member seat, (N, MAX_MEMBERS)) for three months."""
        self.recipients = int((monthly > 0).sum())
        self.pay(model, 3.0 * monthly.sum(axis=1), item="pensions", source="pension", admin=0.0)

    def coverage(self, model: HerdtrapModel) -> float:
        """Share of living households paid a social pension this year."""
        alive = model.households.alive
        return float(self.reached[alive].mean()) if alive.any() else 0.0

    def metrics(self, model: HerdtrapModel) -> dict[str, Any]:
        row = super().metrics(model)
        row["social_pension_recipients"] = self.recipients
        return row

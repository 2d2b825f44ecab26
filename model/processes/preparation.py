"""Winter preparation in autumn: fodder, hay and the otor move (ODD §7.6).

cost_h = F + c · H_h, paid from cash above one season's consumption reserve, then
from credit; preparedness = spent / cost. The fixed part F is what small herds
cannot afford, so they enter the winter less prepared and lose more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.model import HerdtrapModel


def prepare(model: HerdtrapModel) -> None:
    hh, p = model.households, model.p
    cost = p["prep.fixed_cost"] + p["prep.cost_per_sfu"] * model.herd_sfu()
    reserve = model.need_per_season()
    from_cash = np.clip(hh.cash - reserve, 0.0, cost)
    from_credit = np.minimum(cost - from_cash, model.credit_room()) * hh.herding
    model.borrow(from_credit)
    spend = (from_cash + from_credit) * hh.herding
    hh.cash -= spend
    hh.income_season -= spend  # a regular cost: expected income is net of it
    model.cash_out += spend
    model.flows_money["prep"] += spend
    # animals a non-herding household keeps are looked after by herding relatives
    hh.prep = np.where(hh.herding, spend / cost, p["prep.reference_share"])

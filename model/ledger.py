"""Fiscal and insurer ledgers: every flow a programme causes, by year.

Each entry is (year, account, item, value in kMNT). Accounts are programme
names (``child_money``, ``insurance`` ...), ``insurer`` or
``social_insurance_fund`` (contributions and benefits; the treasury's part of
social insurance is on ``social_insurance``); items say what
the money was (``transfers``, ``admin``, ``premium_subsidy``, ``premiums``,
``payouts``, ``loss_layer`` ...). Fiscal cost of a programme = the sum of
its items except the insurer's own account.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

#: Items that are not a cost to the treasury (insurer and household money).
NON_FISCAL_ACCOUNTS = ("insurer", "lenders", "social_insurance_fund")
#: Counts recorded in the ledger that are not money.
COUNT_ITEMS = ("beneficiaries", "children_reached", "enrolled", "policies_sold", "households")


class Ledger:
    """Accumulates flows per (year, account, item)."""

    def __init__(self) -> None:
        self._totals: dict[tuple[int, str, str], float] = defaultdict(float)

    def add(self, year: int, account: str, item: str, value: float) -> None:
        self._totals[(int(year), account, item)] += float(value)

    def value(self, year: int, account: str, item: str) -> float:
        return self._totals.get((int(year), account, item), 0.0)

    def frame(self) -> pd.DataFrame:
        rows = [(y, a, i, v) for (y, a, i), v in sorted(self._totals.items())]
        return pd.DataFrame(rows, columns=["year", "account", "item", "value"])

    def fiscal_cost(self, year: int) -> dict[str, float]:
        """Treasury cost per programme in ``year`` (kMNT), counts excluded."""
        out: dict[str, float] = defaultdict(float)
        for (y, account, item), value in self._totals.items():
            if y == year and account not in NON_FISCAL_ACCOUNTS and item not in COUNT_ITEMS:
                out[account] += value
        return dict(out)

"""Consumption from cash on hand, coping with a shortfall, credit and exits (ODD §7.7).

A buffer-stock rule (Deaton 1991; Carroll 1997): with E_h the household's expected
regular cash income per season (the mean of its last four seasons'), X_h its cash
on hand after this season's income, and B_h = b · E_h its target buffer,

    c_h = max(E_h + μ · (X_h − B_h), F_h − meat_h),   F_h = f · z · 3 · persons_h

is the cash consumption it wants: its expected income, plus a share μ of what it
holds above (or minus a share of what it lacks below) its buffer, never less than
the subsistence floor F_h (a share f < 1 of the poverty line z) net of its own meat.
Consumption is not capped at the poverty line. Only the floor is defended: a
household whose cash cannot reach F_h − meat_h borrows (up to its credit limit: a
share of its herd's value, plus announced payments such as a triggered insurance
claim that lenders accept as collateral), then sells animals in distress (at most σ
of its herd per season, at the soum's crashed price), then consumes less. A
household below ``exit.floor_share`` × F_h is destitute and leaves herding
with probability ``exit.hazard`` per season (and always when its herd is gone).

Debt carries interest; each season the instalment (interest + debt / term) is paid
from cash above the floor before discretionary consumption, and counts as a regular
cost (expected income is net of it). After consuming, cash above the buffer repays
debt early (debt above the credit limit must be repaid from any cash). What is left
above the buffer can buy animals (:mod:`model.processes.purchases`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model import market
from model.processes.income import expected_income

if TYPE_CHECKING:
    from model.model import HerdtrapModel


def desired_consumption(expected: np.ndarray, cash: np.ndarray, buffer: np.ndarray,
                        floor_cash: np.ndarray, mpc: float) -> np.ndarray:
    """Cash consumption wanted this season: max(E + μ (X − B), F − meat, 0)."""
    return np.maximum(np.maximum(expected + mpc * (cash - buffer), floor_cash), 0.0)


def buffer_target(model: HerdtrapModel) -> np.ndarray:
    """B_h = b · E_h: the cash a household wants to hold (kMNT)."""
    return model.p["consumption.buffer_seasons"] * expected_income(model.households.income_seasons)


def consume_and_cope(model: HerdtrapModel) -> None:
    hh, p = model.households, model.p
    herding = hh.herding
    hh.income_seasons[:, model.season] = hh.income_season
    expected = expected_income(hh.income_seasons)
    buffer = p["consumption.buffer_seasons"] * expected
    need = model.need_per_season()
    in_kind = np.minimum(hh.meat_in_kind, need)
    floor_cash = np.maximum(p["consumption.subsistence_floor"] * need - in_kind, 0.0)
    # Coping defends the subsistence floor only.
    shortfall = np.maximum(floor_cash - hh.cash, 0.0) * herding
    price = model.prices()
    value = market.herd_value(hh.herd, price)
    if shortfall.any():  # (all-zero shortfalls borrow and sell nothing: skip the work)
        # (1) borrow
        borrow = np.minimum(shortfall, model.credit_room(value))
        model.borrow(borrow)
        shortfall -= borrow
    rows = np.flatnonzero(shortfall)
    if rows.size:
        # (2) distress sales: soum prices fall with the sheep units offered. Only the
        # households still short sell (their rows); the crash reaches every price.
        cap = p["coping.max_distress_sale_share"]
        v = value[rows]
        wanted_share = np.minimum(
            np.divide(shortfall[rows], v, out=np.zeros(rows.size), where=v > 0), cap
        )
        herd_sfu = model.herd_sfu()  # (before any sale)
        n_soums = model.n_soums
        offered = np.bincount(hh.soum[rows], weights=wanted_share * herd_sfu[rows],
                              minlength=n_soums)
        stock = np.bincount(hh.soum, weights=herd_sfu * herding, minlength=n_soums)
        crash = market.crash_factor(offered, stock, p["market.price_elasticity"])
        model.set_price_crash(crash)
        value = value * crash[hh.soum]  # the crash scales all species of a soum alike
        v = value[rows]
        share = np.minimum(np.divide(shortfall[rows], v, out=np.zeros(rows.size), where=v > 0),
                           cap)
        # drawn for every slot (common random numbers), used for the rows that sell
        u = model.draw_rows("offtake", rows, hh.herd.shape[1], key="distress")
        sold = market.sell_share(hh.herd.take(rows, axis=0), share, u)
        model.sell_rows(rows, sold, model.prices(rows=rows), distress=True)
    # (3) debt service: interest accrues; the instalment (interest + debt / term) is paid
    # before discretionary consumption, from cash above the subsistence floor. It is a
    # regular cost, so expected income is net of it.
    rate = (1.0 + p["credit.interest_monthly"]) ** 3 - 1.0
    interest = hh.debt * rate
    hh.debt += interest
    model.flows_money["interest"] += interest
    due = np.minimum(hh.debt, interest + hh.debt / p["credit.term_seasons"])
    service = np.minimum(due, np.maximum(hh.cash - floor_cash, 0.0))
    model.repay(service)
    hh.income_season -= service
    # (4) consume
    consume = np.minimum(
        desired_consumption(expected, hh.cash, buffer, floor_cash, p["consumption.mpc_cash"]),
        np.maximum(hh.cash, 0.0),
    )
    hh.cash -= consume
    model.cash_out += consume
    model.flows_money["consumption_cash"] += consume
    total = consume + in_kind
    hh.consumption_year += total
    hh.destitute = total < p["exit.floor_share"] * p["consumption.subsistence_floor"] * need
    hh.destitute_seasons += hh.destitute
    # (5) early repayment from cash above the buffer; debt above the credit limit (after a
    # dzud the collateral is worth less) must be repaid from any cash
    over_limit = np.maximum(hh.debt - p["credit.loan_to_value"] * value, 0.0)
    # (a household expecting a negative income has no buffer: it never repays more than
    # its cash)
    repay = np.minimum(hh.debt, np.maximum(np.maximum(hh.cash - np.maximum(buffer, 0.0), 0.0),
                                           np.minimum(over_limit, hh.cash)))
    model.repay(repay)


def exits(model: HerdtrapModel) -> None:
    """Destitute households leave herding with the exit hazard; so do those with no animals."""
    hh, p = model.households, model.p
    h = hh.herd  # (herds are >= 0) an OR over the five columns is 7x faster than any(axis=1)
    empty = (h[:, 0] | h[:, 1] | h[:, 2] | h[:, 3] | h[:, 4]) == 0
    if not (hh.herding & (hh.destitute | empty)).any():
        return  # nobody can leave: the exit draw would decide nothing
    leaving = hh.herding & empty
    at_risk = np.flatnonzero(hh.herding & hh.destitute)
    if at_risk.size:  # (one uniform per household slot: the draws of the slots at risk)
        leaving[at_risk[model.draw_rows("behaviour", at_risk) < p["exit.hazard"]]] = True
    if leaving.any():
        model.leave_herding(leaving)

"""Unit checks of the household-economy rules (docs/ODD.md 7.6-7.7a): what a user of the
model relies on when cash, payouts or animals reach a household."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model import HerdtrapModel, load_scenario
from model.household import any_per_row, count_per_row
from model.processes import offtake, purchases
from model.schedule import SCHEDULE, table

SMALL = {"population.households": 300}


def test_purchases_are_capped_by_the_gap_and_by_what_cash_buys():
    gap = np.array([10.0, 10.0, 0.0, 5.0])
    spare = np.array([1000.0, 100.0, 1000.0, 0.0])
    price = np.full(4, 200.0)  # kMNT per SFU
    got = purchases.purchase_sfu(gap, spare, price, share=0.5, transaction_cost=0.25)
    # 0.5 * 1000 / (1.25 * 200) = 2 SFU < gap 10; 0.5 * 100 / 250 = 0.2; no gap; no cash
    np.testing.assert_allclose(got, [2.0, 0.2, 0.0, 0.0])


def test_purchases_are_rationed_by_the_soum_supply():
    want = np.array([4.0, 4.0, 1.0])
    soum = np.array([0, 0, 1])
    got = purchases.ration(want, soum, supply=np.array([2.0, 5.0]), n_soums=2)
    np.testing.assert_allclose(got, [1.0, 1.0, 1.0])  # soum 0 halved, soum 1 unrationed


def test_offtake_falls_below_the_desired_herd_and_the_target_fades():
    p = {"herd.offtake_rate": 0.16, "labour.offtake_sfu_per_adult": 3000.0,
         "herd.rebuild_elasticity": 2.0}
    h = np.array([100.0, 50.0])
    r = offtake.offtake_rate(h, np.array([100.0, 100.0]), np.array([2, 2]), p)
    # r0 (1 + H / (L adults)) (H / H*)^eta: the rebuilding household sells (50/100)^2 as much
    np.testing.assert_allclose(r, [0.16 * (1 + 100 / 6000), 0.16 * (1 + 50 / 6000) * 0.25])
    np.testing.assert_allclose(offtake.update_target(h, np.array([80.0, 200.0]), 0.1),
                               [100.0, 180.0])


def test_cash_above_the_buffer_buys_animals_and_pays_for_them():
    """A household below its desired herd given a large sum buys animals that season,
    and its cash falls by their price plus the transaction cost."""
    m = HerdtrapModel("baseline", seed=2, years=2, params={**SMALL,
                      "market.purchase_rationing": False}, create_agents=False)
    for _ in range(3):  # to winter
        m.step()
    hh = m.households
    i = int(np.argmax(hh.herding))
    hh.target_sfu[i] = hh.herd_sfu[i] + 100.0
    hh.cash[i] += 1e6
    m.step()
    bought = m.last_year["flows"]["bought"][i]
    assert bought.sum() > 0
    assert m.last_year["money"]["purchases"][i] > 0


def test_an_announced_payment_raises_the_credit_limit():
    m = HerdtrapModel("baseline", seed=1, years=1, params=SMALL, create_agents=False)
    before = m.credit_room().copy()
    owed = np.zeros(m.households.n)
    owed[:10] = 1000.0
    m.announce(owed)
    after = m.credit_room()
    share = m.p["credit.pending_collateral_share"]
    np.testing.assert_allclose(after[:10] - before[:10], share * 1000.0)
    np.testing.assert_array_equal(after[10:], before[10:])
    m.announce(-owed)  # paid: no longer collateral
    np.testing.assert_allclose(m.credit_room(), before)


def test_the_schedule_runs_every_process_and_times_it():
    m = HerdtrapModel("baseline", seed=0, years=1, params=SMALL, create_agents=False).run()
    assert [name for _, name in table()] == [p.name for p in SCHEDULE]
    for p in SCHEDULE:
        assert m.timings[p.name] > 0.0, p.name


# ---------------------------------------------------------------- fast helpers
# (speed-ups that must give exactly what the plain numpy expression gives)

@settings(max_examples=60, deadline=None)
@given(hnp.arrays(bool, st.tuples(st.integers(0, 40), st.sampled_from([1, 5, 8, 16, 24]))))
def test_row_counts_equal_numpy(mask):
    np.testing.assert_array_equal(count_per_row(mask), mask.sum(axis=1))
    np.testing.assert_array_equal(any_per_row(mask), mask.any(axis=1))
    cols = mask[:, ::2]  # not contiguous: the plain path
    np.testing.assert_array_equal(count_per_row(cols), cols.sum(axis=1))


def test_draw_rows_gives_the_full_draw_of_those_rows():
    m = HerdtrapModel(load_scenario("baseline", params=SMALL), seed=5, create_agents=False)
    m.step()
    rows = np.array([3, 17, 40, 41, 299])
    for width, kind in ((None, "random"), (5, "random"), (None, "standard_normal")):
        shape = m.households.n if width is None else (m.households.n, width)
        full = m.draw("offtake", shape, kind=kind, key="x")[rows]
        np.testing.assert_array_equal(m.draw_rows("offtake", rows, width, kind=kind, key="x"), full)
    assert m.draw_rows("offtake", np.array([], dtype=int)).shape == (0,)

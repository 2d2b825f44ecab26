"""HerdtrapModel: the Mesa model of herder households, one step = one season.

A step walks the schedule of named processes in :mod:`model.schedule` (spring:
births, cashmere; summer: dairy; autumn: winter draw, offtake, preparation;
winter: losses, policies after the winter; every season: off-farm income and
pensions, policies, consumption and coping, purchases, exits; end of the year
after winter). Each process is a module of :mod:`model.processes`; this class
holds the state, the accounts and the small API that processes and policies use
to move money and animals (``pay``, ``charge``, ``sell``, ``borrow``, ``repay``,
``give_animals``).

All processes are vectorised over the household table; there is no loop
over households. Money in kMNT.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from model import herd as herd_process
from model import market
from model.climate import Winter, observed_mortality
from model.household import Household, HouseholdState, income_index
from model.ledger import Ledger
from model.metrics import year_metrics
from model.policies import PolicySet
from model.population import initial_households, initial_members
from model.processes import income as income_process
from model.processes import offtake as offtake_process
from model.processes.consumption import buffer_target
from model.processes.winter import WinterOutcome, persistent_loss_factor
from model.region import SHIPPED_DATA_DIR, Region, default_data_dir, load_region
from model.scenario import Scenario, load_scenario
from model.schedule import BY_SEASON, SCHEDULE
from model.species import N_SPECIES, SFU, SPECIES, to_sfu
from model.streams import Streams

#: Parameter values that switch off every channel through which households affect each
#: other: soum density (births, winter losses), soum prices (distress sales) and the
#: aimag's species mix steering everyone's offtake. With them, a change to one
#: household moves no other household (the "worlds" tests).
DECOUPLED = {"herd.density_exponent": 0.0, "market.price_elasticity": 0.0,
             "herd.mix_elasticity": 0.0, "market.purchase_rationing": False}
_I_SALES = income_index("sales")
#: Income sources that are not regular income (what a household expects again):
#: insurance payouts are windfalls; distress sales are booked apart in ``sell``.
_IRREGULAR = {income_index("insurance")}


class HerdtrapModel(mesa.Model):
    """Herder households under dzud shocks and social protection.

    Args:
        scenario: a resolved :class:`~model.scenario.Scenario`, a path or name of a
            scenario file, or None for scenarios/baseline.toml.
        seed: an int or a ``numpy.random.SeedSequence`` (the batch runner passes
            one per replicate, so that replicate r of every scenario sees the same
            weather and luck).
        years: override the scenario's horizon.
        params: parameter overrides by dotted name (validated against the table).
        policies: policy overrides, ``{"child_money": {"amount": 100.0}}``.
        create_agents: create one Mesa ``Household`` agent per household slot
            (True by default; the batch runner switches it off for speed).
        panel_rows: household slots whose state is recorded every year (see
            :meth:`panel_frame`): an index array, None for none, or "auto" (all
            households up to 20,000, none above).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        seed: int | np.random.SeedSequence | None = 0,
        years: int | None = None,
        params: Mapping[str, Any] | None = None,
        policies: Mapping[str, Mapping[str, Any]] | None = None,
        create_agents: bool = True,
        region: Region | None = None,
        panel_rows: np.ndarray | str | None = "auto",
    ) -> None:
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        if years is not None or params or policies:
            scenario = scenario.with_overrides(years=years, params=params, policies=policies)
        self.streams = Streams(seed)
        super().__init__(rng=self.streams.python_seed())
        self._t = 0  # seasons completed
        self.spec = scenario
        self.p: dict[str, Any] = dict(scenario.params)
        self.years = scenario.years
        #: Poverty line in kMNT per person per month, 2021 prices.
        self.line_month = self.p["consumption.poverty_line"] * self.p["consumption.cpi_2018_to_2021"]
        self._need: tuple[np.ndarray, np.ndarray] | None = None  # (persons, need_per_season)
        self._shared_herd_sfu: np.ndarray | None = None  # see herd_sfu()
        self._share_herd_sfu = False
        self.region = region if region is not None else load_region(list(scenario.aimags))
        #: observed NSO mortality (replay regime) and its loss years
        self.observed = None
        self.observed_years: set[int] = set()
        if scenario.regime == "replay":
            data_dir = Path(scenario.data_dir) if scenario.data_dir else default_data_dir()
            self.observed = observed_mortality(data_dir)
            self.observed_years = set(int(y) for y in self.observed["year"].unique())

        n = int(self.p["population.households"])
        self.households: HouseholdState = initial_households(
            self.streams.get("population", 0), self.region, self.p, n
        )
        initial_members(self.streams.get("population", 0, "members"), self.households, self.p)
        hh = self.households
        #: the id the next household formed during the run gets (HouseholdState.hid)
        self.next_hid = n
        #: the year's demographic events (model.processes.demography)
        self.demography_year: dict[str, int] = {}
        self._create_agents = create_agents
        self._agents: dict[int, Household] = {}
        self._set_slot_constants()
        self.n_soums = len(self.region.soum_codes)
        soum_sfu0 = np.bincount(hh.soum, weights=hh.herd_sfu, minlength=self.n_soums)
        #: Carrying capacity per soum (SFU, in simulated households' units).
        self.capacity = np.maximum(soum_sfu0 * self.p["herd.capacity_ratio"], 1.0)
        stock_sfu = self.region.stock_2019 * SFU
        #: SFU weights of species per soum (its aimag's 2019 stock), for the mortality index.
        self._soum_sfu_weights = (stock_sfu / stock_sfu.sum(axis=1, keepdims=True))[
            self.region.soum_aimag
        ]
        self.birth_rate = np.array([self.p[f"herd.birth_rate.{s}"] for s in SPECIES])
        #: Desired SFU share of each species per aimag: its 2019 census mix (herders'
        #: portfolio; see herd.mix_weights).
        self.target_mix = stock_sfu / stock_sfu.sum(axis=1, keepdims=True)
        self.soum_price_crash = np.ones(self.n_soums)
        self._crash_active = False
        self.winter: Winter | None = None
        #: Last winter's copula scores (Winter.latent): the state of the persistent
        #: winter generator, from the climate stream only (model.climate).
        self.climate_state: np.ndarray | None = None
        #: the last winter's losses per household (published for policies and metrics)
        self.winter_outcome = WinterOutcome(before=hh.herd.copy(), deaths=np.zeros_like(hh.herd))
        self.ledger = Ledger()
        self._init_economy()
        self._reset_year_accumulators()
        self.season_sales_sfu = np.zeros(n)
        self.initial = hh.copy()
        self.initial_herd_sfu_new = np.zeros(n)  # see initial_herd_sfu()

        if create_agents:  # registered in Mesa's model.agents
            for i in range(n):
                self._agents[i] = Household(self, i)

        self.policies = PolicySet(scenario.policies, self)
        #: "auto" with up to 20,000 households: every slot is recorded every year, also
        #: the slots of households founded during the run
        self._panel_all = isinstance(panel_rows, str) and n <= 20_000
        if isinstance(panel_rows, str):
            panel_rows = np.arange(n) if n <= 20_000 else None
        #: household slots recorded in the yearly panel (year 0 = initial state)
        self.panel_rows = np.asarray(panel_rows if panel_rows is not None else [], dtype=np.int64)
        self._panel: list[dict[str, np.ndarray]] = []
        self._record_panel(0)
        self.metrics_rows: list[dict[str, Any]] = []
        #: per completed year: (year, calendar year, mortality index, household mortality)
        #: by soum; ``soum_rows`` turns them into rows when asked
        self._soum_years: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        self._soum_rows_cache: list[dict[str, Any]] = []
        self.running = True
        #: seconds spent per process (and "step" in total)
        self.timings: dict[str, float] = {p.name: 0.0 for p in SCHEDULE}
        self.timings["step"] = 0.0

    # ------------------------------------------------------------------ time
    @property
    def season(self) -> int:
        """Season being simulated (during a step) or next (between steps): 0 spring … 3 winter."""
        return self._t % 4

    @property
    def year(self) -> int:
        """Simulated year (1-based) being simulated (during a step) or next (between steps)."""
        return self._t // 4 + 1

    @property
    def step_index(self) -> int:
        """Seasons completed before the current step (the key of this step's random draws)."""
        return self._t

    @property
    def calendar_year(self) -> int:
        return self.spec.start_year + self.year - 1

    def draw(
        self, stream: str, shape: int | tuple[int, ...], kind: str = "random", key: str = ""
    ) -> np.ndarray:
        """Random numbers for the current step from a named stream.

        Policies draw per household slot (shape N or (N, 5)) and name their draw with
        ``key`` so that two decisions in one step get independent numbers.
        """
        rng = self.streams.get(stream, self._t, key)
        return getattr(rng, kind)(size=shape)

    def draw_rows(self, stream: str, rows: np.ndarray, width: int | None = None,
                  kind: str = "random", key: str = "") -> np.ndarray:
        """``draw(stream, (N,) or (N, width), kind, key)[rows]`` without drawing the slots
        after the last of ``rows``: a generator fills its output in order, so the numbers
        of the slots drawn are the same as in the full draw (common random numbers)."""
        if rows.size == 0:
            return np.zeros((0,) if width is None else (0, width))
        upto = int(rows.max()) + 1
        return self.draw(stream, upto if width is None else (upto, width), kind, key).take(rows, axis=0)

    # ------------------------------------------------------------------ public API for policies
    def pay(self, programme: str, amount: np.ndarray, *, item: str = "transfers",
            admin_per_beneficiary: float = 0.0, source: str = "transfers") -> np.ndarray:
        """Pay ``amount`` (kMNT per household slot) from ``programme`` into household cash.

        Records the transfer, beneficiaries and admin cost in the fiscal ledger and
        in the households' income of the year. Returns the amounts actually paid.
        """
        amount = np.where(amount > 0, amount, 0.0)
        self.add_income(income_index(source), amount)
        paid = float(amount.sum())
        n_ben = int(np.count_nonzero(amount))
        y = self.year
        self.ledger.add(y, programme, item, paid)
        self.ledger.add(y, programme, "beneficiaries", n_ben)
        if admin_per_beneficiary:
            self.ledger.add(y, programme, "admin", admin_per_beneficiary * n_ben)
        return amount

    def announce(self, amount: np.ndarray) -> None:
        """Record payments owed to households and paid later (a triggered insurance claim,
        a scheduled transfer): lenders accept them as collateral (``credit_room``).
        A negative amount settles them when they are paid."""
        hh = self.households
        hh.pending_income = np.maximum(hh.pending_income + amount, 0.0)

    def charge(self, account: str, amount: np.ndarray, *, item: str) -> np.ndarray:
        """Take ``amount`` (kMNT per slot, at most the household's cash) from households.

        The money goes to ``account`` (e.g. the insurer's premiums). Returns what was taken.
        """
        hh = self.households
        taken = np.clip(amount, 0.0, np.maximum(hh.cash, 0.0))
        hh.cash -= taken
        self.cash_out += taken
        self.ledger.add(self.year, account, item, float(taken.sum()))
        return taken

    def give_animals(self, programme: str, head: np.ndarray, cost: float) -> None:
        """Add ``head`` (N, 5) animals to herds (restocking), at ``cost`` kMNT to ``programme``."""
        head = np.maximum(head.astype(np.int64), 0)
        self.households.herd += head
        self._shared_herd_sfu = None
        self.flows["received"] += head
        self.ledger.add(self.year, programme, "animals", cost)

    def rescale_stock(self, factor: np.ndarray) -> None:
        """Scale every household's herd by ``factor[aimag, species]`` before the first step.

        Used to start from another year's census (hindcasts): counts are rounded
        stochastically (stream "population", key "rescale"); carrying capacity stays at
        its 2019-based level.
        """
        if self._t != 0:
            raise RuntimeError("rescale_stock must be called before the first step")
        hh = self.households
        u = self.streams.get("population", 0, "rescale").random(hh.herd.shape)
        hh.herd = herd_process.stochastic_round(hh.herd * np.asarray(factor)[hh.aimag], u)
        # households desire and expect the income of the herd they now hold
        hh.target_sfu = hh.herd_sfu.astype(float)
        hh.income_seasons = income_process.initial_income_seasons(self)
        self.initial = hh.copy()
        self._panel.clear()
        self._record_panel(0)

    def prices(self, season: int | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        """Current price per head (N, 5) in kMNT, including any soum price crash (of the
        slots ``rows`` only if given).

        Rows are picked with ``take``: for (k, 5) tables it is about 4 times faster than
        indexing with an array (the same rows)."""
        s = self.season if season is None else season
        price = self._season_price[s] if rows is None else self._season_price[s].take(rows, axis=0)
        if self._crash_active:
            soum = self.households.soum if rows is None else self.households.soum[rows]
            return price * self.soum_price_crash[soum, None]
        return price

    def need_per_season(self) -> np.ndarray:
        """The poverty line's consumption for one season per household (kMNT)."""
        persons = self.households.persons  # (kept until the members change)
        cached = self._need
        if cached is None or cached[0] is not persons:
            cached = self._need = (persons, self.line_month * 3.0 * persons)
            cached[1].flags.writeable = False
        return cached[1]

    def herd_sfu(self) -> np.ndarray:
        """The households' herds in sheep units (``HouseholdState.herd_sfu``), computed once
        for consecutive processes of a step that change herds only through ``sell``,
        ``sell_rows`` and ``give_animals`` (``Process.shares_herd_sfu``: off-farm income
        and pensions, running costs, dairy, preparation, the policies, consumption), until
        one of these methods changes herds; afresh anywhere else. Read-only."""
        shared = self._shared_herd_sfu
        if shared is None:
            shared = self.households.herd_sfu
            shared.flags.writeable = False
            if self._share_herd_sfu:
                self._shared_herd_sfu = shared
        return shared

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance one season: run the season's processes of :data:`model.schedule.SCHEDULE`."""
        t0 = time.perf_counter()
        self.soum_price_crash[:] = 1.0
        self._crash_active = False
        hh = self.households
        hh.income_season[:] = 0.0
        self.season_sales_sfu[:] = 0.0
        timings = self.timings
        try:
            for process in BY_SEASON[self.season]:
                t = time.perf_counter()
                if not process.shares_herd_sfu:
                    self._shared_herd_sfu = None
                self._share_herd_sfu = process.shares_herd_sfu
                process.run(self)
                timings[process.name] += time.perf_counter() - t
        finally:
            self._shared_herd_sfu, self._share_herd_sfu = None, False
        self._t += 1
        timings["step"] += time.perf_counter() - t0

    def run(self, years: int | None = None) -> HerdtrapModel:
        """Run ``years`` (default: the scenario's horizon) and return self."""
        for _ in range(4 * (years if years is not None else self.years)):
            if self.year > self.years:
                break
            self.step()
        self.running = False
        return self

    # ------------------------------------------------------------------ the household economy
    def _set_slot_constants(self, rows: np.ndarray | None = None) -> None:
        """Per-slot arrays that follow from a household's soum and aimag (prices, the
        aimag-species cells), for all slots or the (new or reused) slots ``rows``."""
        hh = self.households
        r = slice(None) if rows is None else rows
        aimag, soum = hh.aimag[r], hh.soum[r]
        # Prices per season, household slot and species (kMNT/head) before any crash.
        base = self.region.base_price_kmnt[aimag] * self.region.soum_price_factor[soum, None]
        prices = [base * self.region.season_price_multiplier[aimag, s, :] for s in range(4)]
        if rows is None:
            self._season_price = prices
        else:
            for s in range(4):
                self._season_price[s][rows] = prices[s]
        cells = hh.aimag[r, None] * N_SPECIES + np.arange(N_SPECIES)
        if rows is None:
            self._aimag_species_cell = cells  # (N, 5): the aimag-species cell of each herd entry
        else:
            self._aimag_species_cell[rows] = cells

    # ------------------------------------------------------------------ a growing table
    def grow(self, k: int) -> None:
        """Append ``k`` empty household slots to the table and to every per-slot array of
        the model and its policies (households formed during the run)."""
        if k <= 0:
            return
        hh = self.households
        n0 = hh.n
        hh.grow(k)

        def pad(a: np.ndarray, fill: float = 0) -> np.ndarray:
            return np.concatenate([a, np.full((k, *a.shape[1:]), fill, dtype=a.dtype)])

        for d in (self.flows, self.flows_money):
            for key in d:
                d[key] = pad(d[key])
        for name in ("cash_in", "cash_out", "season_sales_sfu", "year_start_herd",
                     "year_start_cash", "year_start_debt"):
            setattr(self, name, pad(getattr(self, name)))
        self.winter_outcome = WinterOutcome(before=pad(self.winter_outcome.before),
                                            deaths=pad(self.winter_outcome.deaths))
        if getattr(self, "_asset_poor_prev", None) is not None:
            self._asset_poor_prev = pad(self._asset_poor_prev, False)
        self._season_price = [pad(x) for x in self._season_price]
        self._aimag_species_cell = pad(self._aimag_species_cell)
        self.initial_herd_sfu_new = pad(self.initial_herd_sfu_new)
        self.policies.grow(self, n0, hh.n)

    def reset_slots(self, rows: np.ndarray) -> None:
        """Clear reused (vacant) slots ``rows`` to the state of a new, empty slot."""
        if rows.size == 0:
            return
        self.households.clear_rows(rows)
        self.policies.reset_slots(self, rows)

    def init_household_economy(self, rows: np.ndarray) -> None:
        """The economy of households formed this year (slots ``rows``): they desire and
        expect the income of the herd they start with, and start without cash or debt."""
        hh, p = self.households, self.p
        self._set_slot_constants(rows)
        herd_sfu = to_sfu(hh.herd[rows])
        hh.target_sfu[rows] = herd_sfu
        hh.prep[rows] = p["prep.reference_share"]
        sd = p["herd.household_loss_persistent_sd"]
        if sd > 0:  # (a standard normal per slot of this year's table: exogenous)
            z = self.streams.get("demography", self._t, "loss_factor").standard_normal(hh.n)[rows]
            hh.loss_factor[rows] = persistent_loss_factor(z, sd)
        hh.income_seasons[rows] = income_process.income_seasons_of(
            self, hh.herd[rows], hh.target_sfu[rows], rows, hh.herding[rows])
        self.year_start_herd[rows] = 0
        self.initial_herd_sfu_new[rows] = herd_sfu

    def register_new_households(self, rows: np.ndarray) -> None:
        """Mesa agents for the households formed in ``rows`` (if the model has agents)."""
        if self._create_agents:
            for i in rows.tolist():
                self._agents[i] = Household(self, i)

    def remove_households(self, rows: np.ndarray) -> None:
        """Remove the Mesa agents of dissolved households."""
        if self._create_agents:
            for i in rows.tolist():
                agent = self._agents.pop(i, None)
                if agent is not None:
                    agent.remove()

    def initial_herd_sfu(self) -> np.ndarray:
        """Herd (SFU) each household slot started with: the initial table's, or the herd a
        household founded during the run started with (per current slot)."""
        n0, n = self.initial.n, self.households.n
        out = np.zeros(n)
        out[:n0] = self.initial.herd_sfu
        formed = self.households.formed_year > 0
        out[formed] = self.initial_herd_sfu_new[formed]
        return out

    def _init_economy(self) -> None:
        """Household columns of the economy that depend on the model's rules.

        The desired herd (the starting herd; ``offtake.update_target``), the loss rate
        households remember (their aimag's NSO losses before the start;
        ``offtake.initial_loss_memory``), a persistent
        winter-loss factor per household (stream "population", key "loss_factor"), the
        regular income each household expects in each season at t = 0, and its cash (a
        share of its buffer target).
        """
        hh, p = self.households, self.p
        hh.target_sfu = hh.herd_sfu.astype(float)
        hh.winter_loss_before = np.zeros(hh.n)
        memory = offtake_process.initial_loss_memory(
            self._observed_for_memory(), list(self.region.aimags), self.spec.start_year,
            p["herd.loss_memory_weight"], p["herd.background_loss"])
        hh.loss_memory = memory[hh.aimag]
        z = self.streams.get("population", 0, "loss_factor").standard_normal(hh.n)
        hh.loss_factor = hh.loss_factor * persistent_loss_factor(
            z, p["herd.household_loss_persistent_sd"])
        hh.income_seasons = income_process.initial_income_seasons(self)
        # initial cash: the population's unit draw × the share of the buffer target held
        hh.cash = (p["population.initial_cash_buffers"] * np.maximum(hh.cash, 0.0)
                   * np.maximum(buffer_target(self), 0.0))
        hh.income_season = np.zeros(hh.n)
        hh.pending_income = np.zeros(hh.n)
        hh.destitute = np.zeros(hh.n, dtype=bool)

    def _observed_for_memory(self) -> pd.DataFrame:
        """The NSO mortality table the households' initial loss memory is read from: the
        replayed one, or the data folder's (the shipped copy if that has none)."""
        if self.observed is not None:
            return self.observed
        data_dir = Path(self.spec.data_dir) if self.spec.data_dir else default_data_dir()
        try:
            return observed_mortality(data_dir)
        except FileNotFoundError:
            return observed_mortality(SHIPPED_DATA_DIR)

    def density(self) -> np.ndarray:
        """Soum stocking / carrying capacity, per household slot (floored at 1e-6)."""
        hh = self.households
        stock = np.bincount(
            hh.soum, weights=hh.herd_sfu * hh.herding, minlength=self.n_soums
        )
        return np.maximum(stock / self.capacity, 1e-6)[hh.soum]

    def offtake_weights(self) -> np.ndarray:
        """(N, 5) offtake weight per household slot: its aimag's mix weights."""
        hh = self.households
        n_aimags = self.target_mix.shape[0]
        # exited households hold no animals (they sell the herd on exit)
        stock = np.bincount(self._aimag_species_cell.ravel(), weights=hh.herd.ravel(),
                            minlength=n_aimags * N_SPECIES).reshape(n_aimags, N_SPECIES) * SFU
        weights = herd_process.mix_weights(stock, self.target_mix, self.p["herd.mix_elasticity"])
        return weights.take(hh.aimag, axis=0)

    def set_price_crash(self, crash: np.ndarray) -> None:
        """The soum price multipliers of this season (distress sales)."""
        self.soum_price_crash = crash
        self._crash_active = bool((crash != 1.0).any())

    def credit_room(self, herd_value: np.ndarray | None = None) -> np.ndarray:
        """What each household can still borrow (kMNT).

        limit = LTV · herd value + c · announced payments (lenders accept a triggered
        insurance claim or a scheduled transfer as collateral), minus debt.
        """
        hh, p = self.households, self.p
        if herd_value is None:
            herd_value = market.herd_value(hh.herd, self.prices())
        limit = (p["credit.loan_to_value"] * herd_value
                 + p["credit.pending_collateral_share"] * hh.pending_income)
        return np.maximum(limit - hh.debt, 0.0)

    def borrow(self, amount: np.ndarray) -> None:
        hh = self.households
        hh.debt += amount
        hh.cash += amount
        self.flows_money["borrowed"] += amount

    def repay(self, amount: np.ndarray) -> None:
        hh = self.households
        hh.debt -= amount
        hh.cash -= amount
        self.cash_out += amount
        self.flows_money["repaid"] += amount

    def leave_herding(self, mask: np.ndarray) -> None:
        """Households in ``mask`` leave herding: sell the herd but a share
        ``exit.kept_share`` of each species (kept with relatives), repay what they can.

        Works on the leaving rows only (a handful a season)."""
        hh = self.households
        rows = np.flatnonzero(mask)
        keep = np.floor(self.p["exit.kept_share"] * hh.herd[rows]).astype(hh.herd.dtype)
        self.sell_rows(rows, hh.herd[rows] - keep, self.prices(rows=rows), distress=True)
        repay = np.minimum(hh.debt[rows], hh.cash[rows])
        hh.debt[rows] -= repay
        hh.cash[rows] -= repay
        self.cash_out[rows] += repay
        self.flows_money["repaid"][rows] += repay
        # What the sale of the herd cannot repay is defaulted (a loss to lenders, not the state).
        default = hh.debt[rows].copy()
        self.flows_money["defaulted"][rows] += default
        self.ledger.add(self.year, "lenders", "defaulted", float(default.sum()))
        hh.debt[rows] = 0.0
        hh.herding[rows] = False
        hh.exit_year[rows] = self.year
        hh.insured[rows] = 0
        hh.meat_in_kind[rows] = 0.0
        self.exits_this_year += int(rows.size)

    def sell_rows(self, rows: np.ndarray, sold: np.ndarray, price: np.ndarray,
                  distress: bool = False) -> None:
        """``sell`` for the household slots ``rows`` only (``sold``, ``price``: their rows)."""
        hh = self.households
        hh.herd[rows] -= sold
        self._shared_herd_sfu = None
        self.flows["sales"][rows] += sold
        self.season_sales_sfu[rows] += to_sfu(sold)
        revenue = np.einsum("ij,ij->i", sold, price)
        hh.cash[rows] += revenue
        hh.income_year[rows, _I_SALES] += revenue
        self.cash_in[rows] += revenue
        if distress:  # not regular income
            self.flows_money["distress_sales"][rows] += revenue
        else:
            hh.income_season[rows] += revenue

    def sell(self, sold: np.ndarray, price: np.ndarray, distress: bool = False) -> None:
        """Sell ``sold`` (N, 5) head at ``price``; distress sales are not regular income."""
        hh = self.households
        hh.herd -= sold
        self._shared_herd_sfu = None
        self.flows["sales"] += sold
        self.season_sales_sfu += to_sfu(sold)
        revenue = np.einsum("ij,ij->i", sold, price)
        self.add_income(_I_SALES, revenue, regular=not distress)
        if distress:
            self.flows_money["distress_sales"] += revenue

    def add_income(self, index: int, amount: np.ndarray, *, regular: bool | None = None) -> None:
        """Add income of source ``index`` (model.household.INCOME_SOURCES) to cash.

        Regular income (all but insurance payouts and distress sales, unless said
        otherwise) also counts towards what the household expects to earn.
        """
        hh = self.households
        hh.cash += amount
        hh.income_year[:, index] += amount
        self.cash_in += amount
        if regular if regular is not None else index not in _IRREGULAR:
            hh.income_season += amount

    # ------------------------------------------------------------------ years
    def _reset_year_accumulators(self) -> None:
        n = self.households.n
        hh = self.households
        # "split": animals a household founded this year received (+) from its parent (-);
        # "estate": animals inherited (+) from, or left by (-), a dissolved household
        self.flows = {k: np.zeros((n, N_SPECIES), dtype=np.int64)
                      for k in ("births", "deaths", "sales", "slaughter", "received", "bought",
                                "split", "estate")}
        self.flows_money = {k: np.zeros(n) for k in (
            "borrowed", "repaid", "interest", "defaulted", "prep", "consumption_cash",
            "distress_sales", "purchases", "running_costs", "estate_cash", "estate_debt")}
        self.cash_in = np.zeros(n)
        self.cash_out = np.zeros(n)
        self.exits_this_year = 0
        self.returns_this_year = 0
        self.first_entries_this_year = 0
        self.year_start_herd = hh.herd.copy()
        self.year_start_cash = hh.cash.copy()
        self.year_start_debt = hh.debt.copy()
        hh.consumption_year[:] = 0.0
        hh.destitute_seasons[:] = 0
        hh.income_year[:] = 0.0

    def end_year(self) -> None:
        """After the winter: yearly metrics, the panel, policies' year end, new accumulators."""
        y = self.year
        hh = self.households
        row = year_metrics(self)
        self.metrics_rows.append(row)
        self._soum_years.append(self._soum_year())
        self._record_panel(y)
        self.policies.end_year(self)
        self.last_year = {
            "flows": self.flows, "money": self.flows_money,
            "start_herd": self.year_start_herd, "start_cash": self.year_start_cash,
            "start_debt": self.year_start_debt, "cash_in": self.cash_in,
            "cash_out": self.cash_out, "consumption": hh.consumption_year.copy(),
            "income": hh.income_year.copy(),
        }
        self._reset_year_accumulators()
        if y >= self.years:
            self.running = False

    def _soum_year(self) -> tuple[int, int, np.ndarray, np.ndarray]:
        """This year's soum record: the aimag census-weighted mortality index and the
        simulated households' SFU-weighted mortality, per soum."""
        hh = self.households
        before = np.bincount(hh.soum, weights=self.winter_outcome.before_sfu, minlength=self.n_soums)
        died = np.bincount(hh.soum, weights=self.winter_outcome.deaths_sfu, minlength=self.n_soums)
        sim_rate = np.divide(died, before, out=np.full(self.n_soums, np.nan), where=before > 0)
        index = (self.winter.soum_mortality * self._soum_sfu_weights).sum(axis=1)
        return self.year, self.calendar_year, index, sim_rate

    @property
    def soum_rows(self) -> list[dict[str, Any]]:
        """One row per soum and completed year (see :meth:`soum_metrics`); built from the
        yearly records when asked (the seasonal loop stores arrays only)."""
        rows = self._soum_rows_cache
        if len(rows) < len(self._soum_years) * self.n_soums:
            names = self.region.soum_names
            aimags = [self.region.aimags[a] for a in self.region.soum_aimag]
            for year, cal, index, sim_rate in self._soum_years[len(rows) // max(self.n_soums, 1):]:
                rows.extend(
                    {"year": year, "calendar_year": cal, "soum": i, "soum_name": names[i],
                     "aimag": aimags[i], "mortality_index_sfu": x, "household_mortality_sfu": m}
                    for i, (x, m) in enumerate(zip(index.tolist(), sim_rate.tolist(), strict=True))
                )
        return rows

    def _record_panel(self, year: int) -> None:
        if self.panel_rows.size == 0:
            return
        hh = self.households
        if self._panel_all:  # every slot: plain copies
            r, rows = slice(None), np.arange(hh.n)

            def take(a: np.ndarray) -> np.ndarray:
                return a.copy()
        else:  # the panel's slots: fancy indexing copies
            r = rows = self.panel_rows

            def take(a: np.ndarray) -> np.ndarray:
                return a[r]
        i_t, i_i = income_index("transfers"), income_index("insurance")
        self._panel.append({
            "year": year,
            "rows": rows,
            "hid": take(hh.hid),
            "alive": take(hh.alive),
            "in_scope": hh.in_scope[r],
            "persons": take(hh.persons),
            "soum": take(hh.soum),
            "herd": take(hh.herd),
            "cash": take(hh.cash),
            "debt": take(hh.debt),
            "herding": take(hh.herding),
            "consumption": take(hh.consumption_year) if year > 0 else np.full(len(rows), np.nan),
            "transfers": hh.income_year[r, i_t] + hh.income_year[r, i_i]
            if year > 0 else np.zeros(len(rows)),
            "loss": take(hh.last_winter_loss),
        })

    def _panel_matrix(self, key: str) -> np.ndarray:
        """(years recorded, panel slots) of a panel column over the slots recorded from the
        start (``panel_rows``; households founded later are in ``panel_frame``)."""
        k = self.panel_rows.size
        return np.array([rec[key][:k] for rec in self._panel])

    @property
    def panel_herd_sfu(self) -> np.ndarray:
        """(years recorded, panel households) year-end herd in SFU; row 0 = initial.
        A slot can hold another household after a dissolution: see ``panel_hid``."""
        return np.array([to_sfu(rec["herd"][:self.panel_rows.size]) for rec in self._panel])

    @property
    def panel_herding(self) -> np.ndarray:
        return self._panel_matrix("herding")

    @property
    def panel_hid(self) -> np.ndarray:
        """(years recorded, panel slots) id of the household in the slot (slots of
        dissolved households are reused by new ones; -1: empty)."""
        return self._panel_matrix("hid")

    @property
    def panel_persons(self) -> np.ndarray:
        return self._panel_matrix("persons")

    def panel_frame(self) -> pd.DataFrame:
        """Yearly household panel (year 0 = initial state): one row per recorded slot and
        year; ``hid`` identifies the household. Only households in scope
        (``HouseholdState.in_scope``: living in the region, herding now or before)."""
        if not self._panel:
            return pd.DataFrame()
        frames = []
        aimags = np.array(self.region.aimags)
        for rec in self._panel:
            k = rec["rows"].size
            d = {"year": np.full(k, rec["year"]), "household": rec["rows"], "hid": rec["hid"],
                 "alive": rec["alive"], "persons": rec["persons"]}
            for j, sp in enumerate(SPECIES):
                d[sp] = rec["herd"][:, j]
            d["herd_sfu"] = to_sfu(rec["herd"])
            d["cash_kmnt"] = rec["cash"]
            d["debt_kmnt"] = rec["debt"]
            d["herding"] = rec["herding"]
            d["consumption_kmnt"] = rec["consumption"]
            d["transfers_kmnt"] = rec["transfers"]
            d["winter_loss"] = rec["loss"]
            d["soum_code"] = self.region.soum_codes[rec["soum"]]
            d["aimag"] = aimags[self.region.soum_aimag[rec["soum"]]]
            frames.append(pd.DataFrame(d)[rec["in_scope"]])
        return pd.concat(frames, ignore_index=True)

    # ------------------------------------------------------------------ outputs
    def metrics(self) -> pd.DataFrame:
        """One row per completed year (see docs/ODD.md, Outputs)."""
        df = pd.DataFrame(self.metrics_rows)
        # A programme's cost column appears in its first year with a cost: 0 before.
        cost_cols = [c for c in df.columns if c.startswith("fiscal_cost_")]
        df[cost_cols] = df[cost_cols].fillna(0.0)
        return df

    def soum_metrics(self) -> pd.DataFrame:
        return pd.DataFrame(self.soum_rows)

    def household_frame(self) -> pd.DataFrame:
        """Current household state, one row per household slot."""
        hh = self.households
        df = pd.DataFrame({
            "household": np.arange(hh.n),
            "soum": [self.region.soum_names[i] for i in hh.soum],
            "soum_code": self.region.soum_codes[hh.soum],
            "aimag": [self.region.aimags[i] for i in hh.aimag],
            "adults": hh.adults, "children_0_5": hh.children_0_5,
            "children_6_17": hh.children_6_17, "elderly": hh.elderly,
            "persons": hh.persons,
        })
        for j, sp in enumerate(SPECIES):
            df[sp] = hh.herd[:, j]
        df["herd_sfu"] = hh.herd_sfu
        df["initial_herd_sfu"] = self.initial_herd_sfu()
        df["cash_kmnt"] = hh.cash
        df["debt_kmnt"] = hh.debt
        df["herding"] = hh.herding
        df["exit_year"] = hh.exit_year
        for j, sp in enumerate(SPECIES):
            df[f"insured_{sp}"] = hh.insured[:, j]
        return df

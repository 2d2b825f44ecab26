"""HerdtrapModel: the Mesa model of herder households, one step = one season.

The seasonal cycle (ODD "Process overview and scheduling"; docs/ODD.md):

=========  ================================================================
season     processes, in this order
=========  ================================================================
spring     births · cashmere income
summer     dairy income
autumn     winter draw (pre-winter signal visible) · meat slaughter and
           planned sales · winter preparation (fodder, hay, otor)
winter     winter losses (dzud) · policies.after_winter
every      off-farm income and pensions · policies.season · consumption
season     and coping (borrow, distress sales with price crash, cut
           consumption) · interest and repayment · exits
end of     yearly metrics · policies.end_year
winter
=========  ================================================================

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
from model.climate import Winter, draw_stochastic_winter, load_observed_mortality, replay_winter
from model.household import Household, HouseholdState, income_index
from model.ledger import Ledger
from model.metrics import year_metrics
from model.policies import PolicySet
from model.population import initial_households
from model.region import Region, default_data_dir, load_region
from model.scenario import Scenario, load_scenario
from model.species import N_SPECIES, SFU, SPECIES, to_sfu
from model.streams import Streams

SEASONS = ("spring", "summer", "autumn", "winter")
#: Parameter values that switch off every channel through which households affect each
#: other: soum density (births, winter losses), soum prices (distress sales) and the
#: aimag's species mix steering everyone's offtake. With them, a change to one
#: household moves no other household (the "worlds" tests).
DECOUPLED = {"herd.density_exponent": 0.0, "market.price_elasticity": 0.0,
             "herd.mix_elasticity": 0.0}
_I_SALES = income_index("sales")
_I_CASHMERE = income_index("cashmere")
_I_DAIRY = income_index("dairy")
_I_OFFFARM = income_index("offfarm")
_I_PENSION = income_index("pension")
_I_TRANSFERS = income_index("transfers")


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
        self.region = region if region is not None else load_region(list(scenario.aimags))
        self._observed = None
        if scenario.regime == "replay":
            data_dir = Path(scenario.data_dir) if scenario.data_dir else default_data_dir()
            self._observed = load_observed_mortality(data_dir)

        n = int(self.p["population.households"])
        self.households: HouseholdState = initial_households(
            self.streams.get("population", 0), self.region, self.p, n
        )
        hh = self.households
        # Prices per season, household slot and species (kMNT/head) before any crash.
        base = self.region.base_price_kmnt[hh.aimag] * self.region.soum_price_factor[hh.soum, None]
        self._season_price = [
            base * self.region.season_price_multiplier[hh.aimag, s, :] for s in range(4)
        ]
        self.n_soums = len(self.region.soum_codes)
        soum_sfu0 = np.bincount(hh.soum, weights=hh.herd_sfu, minlength=self.n_soums)
        #: Carrying capacity per soum (SFU, in simulated households' units).
        self.capacity = np.maximum(soum_sfu0 * self.p["herd.capacity_ratio"], 1.0)
        stock_sfu = self.region.stock_2019 * SFU
        #: SFU weights of species per soum (its aimag's 2019 stock), for the mortality index.
        self._soum_sfu_weights = (stock_sfu / stock_sfu.sum(axis=1, keepdims=True))[
            self.region.soum_aimag
        ]
        self._birth_rate = np.array([self.p[f"herd.birth_rate.{s}"] for s in SPECIES])
        #: Desired SFU share of each species per aimag: its 2019 census mix (herders'
        #: portfolio; see herd.mix_weights).
        self.target_mix = stock_sfu / stock_sfu.sum(axis=1, keepdims=True)
        self._aimag_species_cell = (hh.aimag[:, None] * N_SPECIES + np.arange(N_SPECIES)).ravel()
        self.soum_price_crash = np.ones(self.n_soums)
        self._crash_active = False
        self.winter: Winter | None = None
        #: Last winter's copula scores (Winter.latent): the state of the persistent
        #: winter generator, from the climate stream only (model.climate).
        self._climate_state: np.ndarray | None = None
        self.ledger = Ledger()
        self._reset_year_accumulators()
        self.initial = hh.copy()

        if create_agents:  # registered in Mesa's model.agents
            for i in range(n):
                Household(self, i)

        self.policies = PolicySet(scenario.policies, self)
        if isinstance(panel_rows, str):
            panel_rows = np.arange(n) if n <= 20_000 else None
        #: household slots recorded in the yearly panel (year 0 = initial state)
        self.panel_rows = np.asarray(panel_rows if panel_rows is not None else [], dtype=np.int64)
        self._panel: list[dict[str, np.ndarray]] = []
        self._record_panel(0)
        self.metrics_rows: list[dict[str, Any]] = []
        self.soum_rows: list[dict[str, Any]] = []
        self.running = True
        self.timings: dict[str, float] = {}

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

    # ------------------------------------------------------------------ public API for policies
    def pay(self, programme: str, amount: np.ndarray, *, item: str = "transfers",
            admin_per_beneficiary: float = 0.0, source: str = "transfers") -> np.ndarray:
        """Pay ``amount`` (kMNT per household slot) from ``programme`` into household cash.

        Records the transfer, beneficiaries and admin cost in the fiscal ledger and
        in the households' income of the year. Returns the amounts actually paid.
        """
        amount = np.where(amount > 0, amount, 0.0)
        hh = self.households
        hh.cash += amount
        hh.income_year[:, income_index(source)] += amount
        paid = float(amount.sum())
        n_ben = int(np.count_nonzero(amount))
        y = self.year
        self.ledger.add(y, programme, item, paid)
        self.ledger.add(y, programme, "beneficiaries", n_ben)
        if admin_per_beneficiary:
            self.ledger.add(y, programme, "admin", admin_per_beneficiary * n_ben)
        self._cash_in += amount
        return amount

    def charge(self, account: str, amount: np.ndarray, *, item: str) -> np.ndarray:
        """Take ``amount`` (kMNT per slot, at most the household's cash) from households.

        The money goes to ``account`` (e.g. the insurer's premiums). Returns what was taken.
        """
        hh = self.households
        taken = np.clip(amount, 0.0, np.maximum(hh.cash, 0.0))
        hh.cash -= taken
        self._cash_out += taken
        self.ledger.add(self.year, account, item, float(taken.sum()))
        return taken

    def give_animals(self, programme: str, head: np.ndarray, cost: float) -> None:
        """Add ``head`` (N, 5) animals to herds (restocking), at ``cost`` kMNT to ``programme``."""
        head = np.maximum(head.astype(np.int64), 0)
        self.households.herd += head
        self.flows["received"] += head
        self.ledger.add(self.year, programme, "animals", cost)

    def rescale_stock(self, factor: np.ndarray) -> None:
        """Scale every household's herd by ``factor[aimag, species]`` before the first step.

        Used to start from another year's census (hindcasts): counts are rounded
        stochastically (stream "population", key "rescale"), carrying capacity stays
        at its 2019-based level.
        """
        if self._t != 0:
            raise RuntimeError("rescale_stock must be called before the first step")
        hh = self.households
        u = self.streams.get("population", 0, "rescale").random(hh.herd.shape)
        hh.herd = herd_process.stochastic_round(hh.herd * np.asarray(factor)[hh.aimag], u)
        self.initial = hh.copy()
        self._panel.clear()
        self._record_panel(0)

    def prices(self, season: int | None = None) -> np.ndarray:
        """Current price per head (N, 5) in kMNT, including any soum price crash."""
        s = self.season if season is None else season
        if self._crash_active:
            return self._season_price[s] * self.soum_price_crash[self.households.soum, None]
        return self._season_price[s]

    def need_per_season(self) -> np.ndarray:
        """Consumption need per household for one season (kMNT)."""
        return (
            self.line_month * 3.0 * self.p["consumption.need_ratio"]
            * self.households.persons
        )

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance one season."""
        t0 = time.perf_counter()
        season = self.season
        self.soum_price_crash[:] = 1.0
        self._crash_active = False
        if season == 0:
            self._spring()
        elif season == 1:
            self._summer()
        elif season == 2:
            self._autumn()
        else:
            self._winter()
        self._everyday(season)
        if season == 3:
            self._end_year()
        self._t += 1
        self.timings["step"] = self.timings.get("step", 0.0) + time.perf_counter() - t0

    def run(self, years: int | None = None) -> HerdtrapModel:
        """Run ``years`` (default: the scenario's horizon) and return self."""
        for _ in range(4 * (years if years is not None else self.years)):
            if self.year > self.years:
                break
            self.step()
        self.running = False
        return self

    # ------------------------------------------------------------------ seasons
    def _density(self) -> np.ndarray:
        """Soum stocking / carrying capacity, per household slot (floored at 1e-6)."""
        hh = self.households
        stock = np.bincount(
            hh.soum, weights=hh.herd_sfu * hh.herding, minlength=self.n_soums
        )
        return np.maximum(stock / self.capacity, 1e-6)[hh.soum]

    def _spring(self) -> None:
        hh, p = self.households, self.p
        u = self.draw("births", (hh.n, N_SPECIES))
        density = np.minimum(1.0, self._density() ** -p["herd.density_exponent"])
        born = herd_process.births(
            hh.herd,
            self._birth_rate,
            female_share=p["herd.breeding_female_share"],
            young_survival=p["herd.young_survival"],
            winter_penalty=p["herd.birth_winter_penalty"],
            last_winter_loss=hh.last_winter_loss,
            density=density,
            u=u,
        )
        born[~hh.herding] = 0
        hh.herd += born
        self.flows["births"] += born
        cashmere = (
            hh.herd[:, 1] * p["herd.cashmere_kg_per_goat"] * p["market.cashmere_price"]
            * hh.cashmere_factor
        )
        self._income(_I_CASHMERE, cashmere)

    def _summer(self) -> None:
        hh = self.households
        self._income(_I_DAIRY, hh.herd_sfu * self.p["income.dairy_per_sfu"])

    def _autumn(self) -> None:
        hh, p = self.households, self.p
        # The winter is drawn now: its pre-winter signal is what anticipatory policies see.
        self.winter = self._draw_winter()
        # Species are taken in proportion to head held x weight; the weight falls for a
        # species the aimag's herds hold below the desired mix (herd.mix_weights).
        weight = self._offtake_weights()
        before = hh.herd.astype(float)
        # Winter meat: slaughter from sheep and goats, eaten over the next four seasons.
        want = p["consumption.meat_sfu_per_person"] * hh.persons * hh.herding
        share = np.minimum(
            herd_process.allocate(before[:, :2], weight[:, :2], want, SFU[:2]), 0.5
        )
        u = self.draw("offtake", (hh.n, N_SPECIES), key="slaughter")
        slaughter = np.zeros_like(hh.herd)
        slaughter[:, :2] = herd_process.stochastic_round(
            before[:, :2] * share, u[:, :2], cap=hh.herd[:, :2]
        )
        hh.herd -= slaughter
        self.flows["slaughter"] += slaughter
        price = self.prices(2)
        hh.meat_in_kind = np.einsum("ij,ij->i", slaughter, price) / 4.0
        # Planned sales: the offtake (slaughter included) is rate x herd in sheep units,
        # rate = r0 · (1 + herd / (L_sell · adults)) rising with the herd each adult must
        # manage (labour limit). Each species' target is its allocated share of the whole
        # offtake; what was slaughtered counts towards it, the rest is sold.
        herd_sfu = before @ SFU
        rate = p["herd.offtake_rate"] * (
            1.0 + herd_sfu / (p["labour.offtake_sfu_per_adult"] * np.maximum(hh.adults, 1))
        )
        total_sfu = np.minimum(rate, 0.9) * herd_sfu
        slaughter_sfu = slaughter[:, 0] * SFU[0] + slaughter[:, 1] * SFU[1]
        target = herd_process.allocate(before, weight, total_sfu, SFU) * before
        rest = np.maximum(target - slaughter, 0.0)
        rest_sfu = rest @ SFU
        planned_sfu = np.maximum(total_sfu - slaughter_sfu, 0.0)
        scale = np.divide(planned_sfu, rest_sfu, out=np.zeros(hh.n), where=rest_sfu > 0)
        expected = np.minimum(rest * scale[:, None], 0.9 * (before - slaughter))
        expected *= hh.herding[:, None]
        u2 = self.draw("offtake", (hh.n, N_SPECIES), key="planned")
        sold = herd_process.stochastic_round(expected, u2, cap=hh.herd)
        self._sell(sold, price)
        # Winter preparation: fixed + per-SFU cost, financed from cash and credit after
        # reserving the winter's need. Small herds cannot afford the fixed part.
        cost = p["prep.fixed_cost"] + p["prep.cost_per_sfu"] * hh.herd_sfu
        reserve = self.need_per_season()
        credit_room = np.maximum(
            p["credit.loan_to_value"] * market.herd_value(hh.herd, price) - hh.debt, 0.0
        )
        from_cash = np.clip(hh.cash - reserve, 0.0, cost)
        from_credit = np.minimum(cost - from_cash, credit_room) * hh.herding
        hh.debt += from_credit
        hh.cash += from_credit
        self.flows_money["borrowed"] += from_credit
        spend = (from_cash + from_credit) * hh.herding
        hh.cash -= spend
        self._cash_out += spend
        self.flows_money["prep"] += spend
        hh.prep = np.where(hh.herding, spend / cost, 0.0)

    def _offtake_weights(self) -> np.ndarray:
        """(N, 5) offtake weight per household slot: its aimag's mix weights."""
        hh = self.households
        n_aimags = self.target_mix.shape[0]
        # exited households hold no animals (they sell the herd on exit)
        stock = np.bincount(self._aimag_species_cell, weights=hh.herd.ravel(),
                            minlength=n_aimags * N_SPECIES).reshape(n_aimags, N_SPECIES) * SFU
        weights = herd_process.mix_weights(stock, self.target_mix, self.p["herd.mix_elasticity"])
        return weights[hh.aimag]

    def _draw_winter(self) -> Winter:
        p = self.p
        rng = self.streams.get("climate", self._t)
        loss_year = self.calendar_year + 1  # the winter Dec Y – Feb Y+1 is NSO loss year Y+1
        replay = None
        if self.spec.regime == "replay":
            k = self.year - 1
            if self.spec.replay_years:
                replay = self.spec.replay_years[k] if k < len(self.spec.replay_years) else None
            else:
                years = set(self._observed["year"].unique())
                replay = loss_year if loss_year in years else None
        if replay is not None:
            w = replay_winter(
                rng, self.region, self._observed, replay,
                soum_noise_sd=p["climate.soum_noise_sd"], signal_corr=p["climate.signal_corr"],
            )
        else:
            w = draw_stochastic_winter(
                rng,
                self.region,
                soum_noise_sd=p["climate.soum_noise_sd"],
                signal_corr=p["climate.signal_corr"],
                severity_shift=p["climate.severity_shift"],
                dzud_prob_scale=p["climate.dzud_prob_scale"],
                persistence_scale=p["climate.persistence_scale"],
                previous=self._climate_state,
            )
        self._climate_state = w.latent
        return w

    def _winter(self) -> None:
        hh, p = self.households, self.p
        assert self.winter is not None
        noise = self.draw("mortality", hh.n, kind="standard_normal")
        u = self.draw("mortality", (hh.n, N_SPECIES), key="rounding")
        sd = p["herd.household_mortality_sd"]
        luck = np.exp(sd * noise - 0.5 * sd * sd)
        multiplier = (
            luck
            * herd_process.preparedness_multiplier(
                hh.prep, p["prep.mortality_effect"], p["prep.reference_share"]
            )
            * np.maximum(self._density(), 1.0) ** p["herd.density_exponent"]
            * hh.loss_factor
        )
        before = hh.herd.copy()
        deaths = herd_process.winter_losses(
            hh.herd, self.winter.soum_mortality[hh.soum], multiplier, u
        )
        deaths[~hh.herding] = 0
        hh.herd -= deaths
        self.flows["deaths"] += deaths
        before_sfu = to_sfu(before)
        hh.last_winter_loss = np.divide(
            to_sfu(deaths), before_sfu, out=np.zeros(hh.n), where=before_sfu > 0
        )
        self._winter_before = before
        self._winter_deaths = deaths
        self.policies.after_winter(self)

    def _everyday(self, season: int) -> None:
        hh, p = self.households, self.p
        herding = hh.herding
        # Labour not needed for the herd earns off-farm income: the share of adult time
        # free from herding is 1 / (1 + herd / (L · adults)), smooth in herd size.
        free = 1.0 / (1.0 + hh.herd_sfu / (p["labour.herd_sfu_per_adult"] * np.maximum(hh.adults, 1)))
        offfarm = np.where(
            herding,
            p["income.offfarm_per_adult"] * free,
            p["income.exited_wage_per_adult"],
        ) * hh.adults / 4.0
        self._income(_I_OFFFARM, offfarm)
        self._income(_I_PENSION, p["income.elderly_pension"] * 3.0 * hh.elderly)
        self.policies.season(self, season)
        self._consume_and_cope()

    def _consume_and_cope(self) -> None:
        """Consumption, borrowing, distress sales (with price crash) and exits.

        need_s = line · 3 · need_ratio · persons. Meat from the own herd covers part
        of it in kind. A household short of cash first cuts consumption to the
        smoothing floor (a share of need: poor households protect their animals); the
        gap below that floor is met, in order, by (1) borrowing up to LTV · herd value
        − debt, (2) selling at most a share σ of the herd this season at the (crashed)
        soum price, (3) cutting consumption further. A household consuming
        below the floor share of its need is destitute and leaves herding with the
        exit hazard. Cash above the buffer repays debt, then a share is consumed.
        """
        hh, p = self.households, self.p
        herding = hh.herding
        need = self.need_per_season()
        in_kind = np.minimum(hh.meat_in_kind, need)
        cash_need = need - in_kind
        # Asset smoothing: a household short of cash first cuts consumption down to the
        # smoothing floor; only the gap below the floor is financed by debt or sales.
        floor_need = np.maximum(p["coping.smoothing_floor"] * need - in_kind, 0.0)
        shortfall = np.maximum(floor_need - hh.cash, 0.0) * herding
        price = self.prices()
        value = market.herd_value(hh.herd, price)
        # (1) borrow
        credit_room = np.maximum(p["credit.loan_to_value"] * value - hh.debt, 0.0)
        borrow = np.minimum(shortfall, credit_room)
        hh.debt += borrow
        hh.cash += borrow
        self.flows_money["borrowed"] += borrow
        shortfall -= borrow
        # (2) distress sales: soum prices fall with the sheep units offered
        cap = p["coping.max_distress_sale_share"]
        wanted_share = np.minimum(
            np.divide(shortfall, value, out=np.zeros(hh.n), where=value > 0), cap
        )
        herd_sfu = hh.herd_sfu
        crash = market.crash_factor(
            hh.soum, wanted_share * herd_sfu, herd_sfu * herding, self.n_soums,
            p["market.price_elasticity"],
        )
        self.soum_price_crash = crash
        self._crash_active = bool((crash != 1.0).any())
        price = self.prices()
        value = value * crash[hh.soum]  # the crash scales all species of a soum alike
        share = np.minimum(np.divide(shortfall, value, out=np.zeros(hh.n), where=value > 0), cap)
        u = self.draw("offtake", (hh.n, N_SPECIES), key="distress")
        sold = market.sell_share(hh.herd, share, u)
        self._sell(sold, price, distress=True)
        # (3) consume what is there, up to need; then repay; then spend a share of surplus
        consume = np.minimum(hh.cash, cash_need)
        hh.cash -= consume
        buffer = p["consumption.buffer_seasons"] * need
        rate = (1.0 + p["credit.interest_monthly"]) ** 3 - 1.0
        interest = hh.debt * rate
        hh.debt += interest
        self.flows_money["interest"] += interest
        # Repay from cash above the buffer; debt above the credit limit (after a dzud the
        # collateral is worth less) must be repaid from any cash the household has.
        over_limit = np.maximum(hh.debt - p["credit.loan_to_value"] * value, 0.0)
        repay = np.minimum(
            hh.debt, np.maximum(np.maximum(hh.cash - buffer, 0.0), np.minimum(over_limit, hh.cash))
        )
        hh.debt -= repay
        hh.cash -= repay
        self.flows_money["repaid"] += repay
        extra = p["consumption.mpc_surplus"] * np.maximum(hh.cash - buffer, 0.0)
        hh.cash -= extra
        consume = consume + extra
        self._cash_out += consume + repay
        self.flows_money["consumption_cash"] += consume
        total = consume + in_kind
        hh.consumption_year += total
        destitute = total < p["exit.consumption_floor"] * need
        hh.destitute_seasons += destitute
        u_exit = self.draw("behaviour", hh.n)
        exits = herding & (
            (destitute & (u_exit < p["exit.hazard"])) | (hh.herd.sum(axis=1) == 0)
        )
        if exits.any():
            self._exit(exits, price)

    def _exit(self, mask: np.ndarray, price: np.ndarray) -> None:
        """Households in ``mask`` leave herding: sell the herd, repay what they can."""
        hh = self.households
        sold = np.where(mask[:, None], hh.herd, 0)
        self._sell(sold, price, distress=True)
        repay = np.where(mask, np.minimum(hh.debt, hh.cash), 0.0)
        hh.debt -= repay
        hh.cash -= repay
        self._cash_out += repay
        self.flows_money["repaid"] += repay
        # What the sale of the herd cannot repay is defaulted (a loss to lenders, not the state).
        default = np.where(mask, hh.debt, 0.0)
        self.flows_money["defaulted"] += default
        self.ledger.add(self.year, "lenders", "defaulted", float(default.sum()))
        hh.debt -= default
        hh.herding = hh.herding & ~mask
        hh.exit_year = np.where(mask, self.year, hh.exit_year)
        hh.insured[mask] = 0
        hh.meat_in_kind[mask] = 0.0
        self._exits_this_year += int(mask.sum())

    def _sell(self, sold: np.ndarray, price: np.ndarray, distress: bool = False) -> None:
        hh = self.households
        hh.herd -= sold
        self.flows["sales"] += sold
        revenue = np.einsum("ij,ij->i", sold, price)
        self._income(_I_SALES, revenue)
        if distress:
            self.flows_money["distress_sales"] += revenue

    def _income(self, index: int, amount: np.ndarray) -> None:
        hh = self.households
        hh.cash += amount
        hh.income_year[:, index] += amount
        self._cash_in += amount

    # ------------------------------------------------------------------ years
    def _reset_year_accumulators(self) -> None:
        n = self.households.n
        hh = self.households
        self.flows = {k: np.zeros((n, N_SPECIES), dtype=np.int64)
                      for k in ("births", "deaths", "sales", "slaughter", "received")}
        self.flows_money = {k: np.zeros(n) for k in (
            "borrowed", "repaid", "interest", "defaulted", "prep", "consumption_cash",
            "distress_sales")}
        self._cash_in = np.zeros(n)
        self._cash_out = np.zeros(n)
        self._exits_this_year = 0
        self.year_start_herd = hh.herd.copy()
        self.year_start_cash = hh.cash.copy()
        self.year_start_debt = hh.debt.copy()
        hh.consumption_year[:] = 0.0
        hh.destitute_seasons[:] = 0
        hh.income_year[:] = 0.0

    def _end_year(self) -> None:
        y = self.year
        hh = self.households
        row = year_metrics(self)
        self.metrics_rows.append(row)
        self.soum_rows.extend(self._soum_rows())
        self._record_panel(y)
        self.policies.end_year(self)
        self.last_year = {
            "flows": self.flows, "money": self.flows_money,
            "start_herd": self.year_start_herd, "start_cash": self.year_start_cash,
            "start_debt": self.year_start_debt, "cash_in": self._cash_in,
            "cash_out": self._cash_out, "consumption": hh.consumption_year.copy(),
            "income": hh.income_year.copy(),
        }
        self._reset_year_accumulators()
        if y >= self.years:
            self.running = False

    def _soum_rows(self) -> list[dict[str, Any]]:
        hh = self.households
        before = np.bincount(hh.soum, weights=to_sfu(self._winter_before), minlength=self.n_soums)
        died = np.bincount(hh.soum, weights=to_sfu(self._winter_deaths), minlength=self.n_soums)
        sim_rate = np.divide(died, before, out=np.full(self.n_soums, np.nan), where=before > 0)
        index = (self.winter.soum_mortality * self._soum_sfu_weights).sum(axis=1)
        return [
            {"year": self.year, "calendar_year": self.calendar_year, "soum": i,
             "soum_name": self.region.soum_names[i], "aimag": self.region.aimags[self.region.soum_aimag[i]],
             "mortality_index_sfu": float(index[i]), "household_mortality_sfu": float(sim_rate[i])}
            for i in range(self.n_soums)
        ]

    def _record_panel(self, year: int) -> None:
        if self.panel_rows.size == 0:
            return
        hh, r = self.households, self.panel_rows
        self._panel.append({
            "year": year,
            "herd": hh.herd[r].copy(),
            "cash": hh.cash[r].copy(),
            "debt": hh.debt[r].copy(),
            "herding": hh.herding[r].copy(),
            "consumption": hh.consumption_year[r].copy() if year > 0 else np.full(r.size, np.nan),
            "transfers": hh.income_year[r][:, [income_index("transfers"), income_index("insurance")]]
            .sum(axis=1) if year > 0 else np.zeros(r.size),
            "loss": hh.last_winter_loss[r].copy(),
        })

    @property
    def panel_herd_sfu(self) -> np.ndarray:
        """(years recorded, panel households) year-end herd in SFU; row 0 = initial."""
        return np.array([to_sfu(rec["herd"]) for rec in self._panel])

    @property
    def panel_herding(self) -> np.ndarray:
        return np.array([rec["herding"] for rec in self._panel])

    def panel_frame(self) -> pd.DataFrame:
        """Yearly household panel (year 0 = initial state) for ``panel_rows``."""
        if not self._panel:
            return pd.DataFrame()
        hh, r = self.households, self.panel_rows
        k = r.size
        frames = []
        for rec in self._panel:
            d = {"year": np.full(k, rec["year"]), "household": r}
            for j, sp in enumerate(SPECIES):
                d[sp] = rec["herd"][:, j]
            d["herd_sfu"] = to_sfu(rec["herd"])
            d["cash_kmnt"] = rec["cash"]
            d["debt_kmnt"] = rec["debt"]
            d["herding"] = rec["herding"]
            d["consumption_kmnt"] = rec["consumption"]
            d["transfers_kmnt"] = rec["transfers"]
            d["winter_loss"] = rec["loss"]
            frames.append(pd.DataFrame(d))
        df = pd.concat(frames, ignore_index=True)
        df["persons"] = np.tile(hh.persons[r], len(self._panel))
        df["soum_code"] = np.tile(self.region.soum_codes[hh.soum[r]], len(self._panel))
        df["aimag"] = np.tile(np.array(self.region.aimags)[hh.aimag[r]], len(self._panel))
        return df

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
        df["initial_herd_sfu"] = self.initial.herd_sfu
        df["cash_kmnt"] = hh.cash
        df["debt_kmnt"] = hh.debt
        df["herding"] = hh.herding
        df["exit_year"] = hh.exit_year
        for j, sp in enumerate(SPECIES):
            df[f"insured_{sp}"] = hh.insured[:, j]
        return df

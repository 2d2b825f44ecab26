"""Wiring between the app's controls and :class:`~model.model.HerdtrapModel`.

The app holds no model logic. :class:`AppModel` is a thin subclass whose
keyword arguments are the flat values of the SolaraViz controls (Mesa's
``model_params`` keys must match the model's keyword arguments); it maps them
to a scenario (``scenarios/baseline.toml`` with the chosen region, horizon,
climate regime, parameter overrides and policies) and otherwise behaves like
``HerdtrapModel``. After each step it keeps a small per-season record
(:class:`SeasonLog`) so that the views can move every season, not only at the
end of each year when ``model.metrics()`` gets a row.

The household table grows during a run (model/processes/demography.py): households
founded by young adults take new or freed slots, and a slot of a dissolved household
can later hold another one. Every per-slot record here therefore keeps the household
id (``hid``) next to the values, and the views follow a household by its id, never by
a slot index across time.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.household import income_index
from model.model import HerdtrapModel
from model.parameters import Param, parameter_table
from model.scenario import SCENARIO_DIR, Scenario, build_scenario, load_scenario
from model.schedule import SEASONS
from model.species import to_sfu

#: App control name -> dotted parameter name: the key parameters shown as sliders.
KEY_PARAMETERS: dict[str, str] = {
    "dzud_prob_scale": "climate.dzud_prob_scale",
    "severity_shift": "climate.severity_shift",
    "prep_fixed_cost": "prep.fixed_cost",
    "price_elasticity": "market.price_elasticity",
    "loan_to_value": "credit.loan_to_value",
    "interest_monthly": "credit.interest_monthly",
    "subsistence_floor": "consumption.subsistence_floor",
    "offfarm_per_adult": "income.offfarm_per_adult",
    "asset_poverty_line": "metrics.asset_poverty_line",
}
#: Short slider labels (the unit is appended from the parameter table).
KEY_LABELS: dict[str, str] = {
    "dzud_prob_scale": "Dzud probability ×",
    "severity_shift": "Winter severity shift",
    "prep_fixed_cost": "Winter preparation, fixed cost",
    "price_elasticity": "Price crash elasticity",
    "loan_to_value": "Credit limit / herd value",
    "interest_monthly": "Loan interest",
    "subsistence_floor": "Subsistence floor",
    "offfarm_per_adult": "Off-farm income",
    "asset_poverty_line": "Asset poverty line (measure only)",
}

CLIMATE_STOCHASTIC = "stochastic"
CLIMATE_ONE_WINTER = "replay one historical winter in year 1, then stochastic"
CLIMATE_HISTORY = "replay history from the chosen winter on"
CLIMATES = (CLIMATE_STOCHASTIC, CLIMATE_ONE_WINTER, CLIMATE_HISTORY)

#: NSO loss years with observed aimag mortality (model/climate.py: loss year Y = winter Y-1/Y).
FIRST_LOSS_YEAR, LAST_LOSS_YEAR = 1992, 2024
#: Known dzud winters, marked in the winter selector.
DZUD_WINTERS = {2000, 2001, 2002, 2010, 2016, 2018, 2020, 2023, 2024}
DEFAULT_WINTER = 2010

_I_TRANSFERS = income_index("transfers")
_I_INSURANCE = income_index("insurance")


def winter_label(loss_year: int) -> str:
    """'2010 (winter 2009/10, dzud)': a selector label for an NSO loss year."""
    tag = ", dzud" if loss_year in DZUD_WINTERS else ""
    return f"{loss_year} (winter {loss_year - 1}/{str(loss_year)[-2:]}{tag})"


WINTERS = tuple(winter_label(y) for y in range(FIRST_LOSS_YEAR, LAST_LOSS_YEAR + 1))


def parse_winter(label: str | int) -> int:
    """Loss year of a selector label (or an int)."""
    year = int(str(label).strip()[:4])
    if not FIRST_LOSS_YEAR <= year <= LAST_LOSS_YEAR:
        raise ValueError(f"no observed winter {year}; choose {FIRST_LOSS_YEAR}-{LAST_LOSS_YEAR}")
    return year


@functools.cache
def regions() -> tuple[str, ...]:
    """Region choices: all calibrated aimags together, then each one alone."""
    from model.scenario import available_aimags

    names = available_aimags()
    return (" + ".join(names), *names) if len(names) > 1 else tuple(names)


def region_aimags(region: str) -> list[str]:
    return [a.strip() for a in region.split("+") if a.strip()]


def parse_seed(seed: int | str) -> int:
    """A seed from the seed box: an integer as typed, any other text hashed (crc32)."""
    text = str(seed).strip()
    try:
        return abs(int(text))
    except ValueError:
        return zlib.crc32(text.encode())


def scenario_names() -> list[str]:
    """Scenario files in scenarios/ (presets for the policy editor), baseline first."""
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
    return sorted(names, key=lambda n: (n != "baseline", n))


@functools.cache
def _scenario_policies(name: str, mtime: float) -> dict[str, dict[str, Any]]:
    return load_scenario(name).policies


def scenario_policies(name: str) -> dict[str, dict[str, Any]]:
    """The (validated, defaults filled) policies of scenarios/<name>.toml."""
    path = SCENARIO_DIR / f"{name}.toml"
    return {k: dict(v) for k, v in _scenario_policies(name, path.stat().st_mtime).items()}


def policy_registry() -> dict[str, type]:
    """Registered policies, read at run time so that new ones appear in the app."""
    from model.policies import REGISTRY, _load_builtin

    _load_builtin()
    return dict(REGISTRY)


def policy_title(name: str) -> str:
    """'child_money' -> 'Child money' (or the policy class's ``title`` if it has one)."""
    cls = policy_registry().get(name)
    title = getattr(cls, "title", None)
    return title if isinstance(title, str) and title else name.replace("_", " ").capitalize()


def slider_step(param: Param) -> float:
    """A slider step of about 1/100 of the range (1, 2 or 5 × 10^k) on which the default lies.

    Sliders snap to ``low + k · step``; a default off that grid would be moved by
    the slider itself when it appears (e.g. 0.5 with a step of 0.2 from 0).
    """
    if param.low is None or param.high is None:
        return 1
    span = float(param.high - param.low)
    raw = span / 100.0 if span > 0 else 1.0
    k = int(np.floor(np.log10(raw)))
    default = param.default if isinstance(param.default, int | float) else param.low
    candidates = [m * 10.0**e for e in range(k + 1, k - 5, -1) for m in (5, 2, 1)]
    for step in candidates:
        if step > raw * 1.0001:
            continue
        if param.type == "int" and step < 1:
            break
        for x in (default, param.high):
            q = (float(x) - param.low) / step
            if abs(q - round(q)) > 1e-6:
                break
        else:
            return int(step) if param.type == "int" else float(step)
    return 1 if param.type == "int" else float(raw)


def model_params() -> dict[str, dict[str, Any]]:
    """SolaraViz ``model_params``: one control per :class:`AppModel` keyword argument."""
    table = parameter_table()
    params: dict[str, dict[str, Any]] = {
        "seed": {"type": "InputText", "value": "0", "label": "Random seed"},
        "region": {"type": "Select", "value": regions()[0], "values": list(regions()),
                   "label": "Region (aimags)"},
        "years": {"type": "SliderInt", "value": 30, "min": 5, "max": 60, "step": 1,
                  "label": "Years (4 seasons each)"},
        "climate": {"type": "Select", "value": CLIMATE_STOCHASTIC, "values": list(CLIMATES),
                    "label": "Climate regime"},
        "replay_winter": {"type": "Select", "value": winter_label(DEFAULT_WINTER),
                          "values": list(WINTERS), "label": "Historical winter (replay)"},
        "households": {"type": "SliderInt", "value": int(table["population.households"].default),
                       "min": 200, "max": 10_000, "step": 20, "label": "Households"},
    }
    for key, name in KEY_PARAMETERS.items():
        p = table[name]
        params[key] = {
            "type": "SliderInt" if p.type == "int" else "SliderFloat",
            "value": p.default,
            "min": p.low,
            "max": p.high,
            "step": slider_step(p),
            "label": f"{KEY_LABELS[key]} ({p.unit})",
        }
    return params


def make_scenario(
    *,
    region: str | None = None,
    years: int = 30,
    climate: str = CLIMATE_STOCHASTIC,
    replay_winter: str | int = DEFAULT_WINTER,
    params: Mapping[str, Any] | None = None,
    policies: Mapping[str, Mapping[str, Any]] | None = None,
    name: str = "app",
) -> Scenario:
    """A validated scenario: baseline.toml with the app's settings (raises ScenarioError)."""
    base = load_scenario("baseline")
    aimags = region_aimags(region) if region else list(base.aimags)
    if climate == CLIMATE_STOCHASTIC:
        climate_table: dict[str, Any] = {"regime": "stochastic"}
    else:
        first = parse_winter(replay_winter)
        seq = [first] if climate == CLIMATE_ONE_WINTER else list(range(first, LAST_LOSS_YEAR + 1))
        climate_table = {"regime": "replay", "replay_years": seq}
    start_year = base.start_year if climate == CLIMATE_STOCHASTIC else parse_winter(replay_winter) - 1
    return build_scenario(
        name=name,
        description="built in the herdtrap app",
        run={"years": int(years), "aimags": aimags, "start_year": start_year},
        climate=climate_table,
        parameters={**base.params, **dict(params or {})},
        policies={k: dict(v) for k, v in (policies or {}).items()},
        where="app settings",
    )


@dataclass
class SeasonLog:
    """Per-season snapshots (index 0 = initial state), for views that move every season.

    Per-slot lists hold one array per snapshot, of the table's length then (it grows
    during a run): ``herd_sfu``, ``cash``, ``debt``, ``paid`` (cash from transfers and
    insurance payouts received in that season, kMNT), ``herding``, ``persons`` and
    ``hid`` (the household id in the slot, -1 if the slot holds no household; a slot
    holds one household for that household's whole life). ``stock``: (5,) head by
    species; ``time``: fractional years; ``asset_poor``: share of the households living
    in the region below the asset poverty line; ``households``: how many live there,
    ``herding_households``: how many of them herd.
    """

    time: list[float] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    herd_sfu: list[np.ndarray] = field(default_factory=list)
    cash: list[np.ndarray] = field(default_factory=list)
    debt: list[np.ndarray] = field(default_factory=list)
    paid: list[np.ndarray] = field(default_factory=list)
    herding: list[np.ndarray] = field(default_factory=list)
    persons: list[np.ndarray] = field(default_factory=list)
    hid: list[np.ndarray] = field(default_factory=list)
    stock: list[np.ndarray] = field(default_factory=list)
    asset_poor: list[float] = field(default_factory=list)
    households: list[int] = field(default_factory=list)
    herding_households: list[int] = field(default_factory=list)


class AppModel(HerdtrapModel):
    """HerdtrapModel built from the app's flat controls (see :func:`model_params`).

    Args:
        seed: random seed (int, or text that is hashed).
        region: one of :func:`regions`.
        years: horizon in years.
        climate: one of :data:`CLIMATES`.
        replay_winter: a label of :data:`WINTERS` (or a loss year) for the replay regimes.
        households: number of simulated households.
        policies: ``{policy: {lever: value}}``, or a ``solara.Reactive`` holding that
            (the policy editor's state, read when the model is (re)built).
        **key_parameters: values for the sliders of :data:`KEY_PARAMETERS`.
    """

    def __init__(
        self,
        *,
        seed: int | str = 0,
        region: str | None = None,
        years: int = 30,
        climate: str = CLIMATE_STOCHASTIC,
        replay_winter: str | int = DEFAULT_WINTER,
        households: int = 2240,
        policies: Any = None,
        dzud_prob_scale: float | None = None,
        severity_shift: float | None = None,
        prep_fixed_cost: float | None = None,
        price_elasticity: float | None = None,
        loan_to_value: float | None = None,
        interest_monthly: float | None = None,
        subsistence_floor: float | None = None,
        offfarm_per_adult: float | None = None,
        asset_poverty_line: float | None = None,
        create_agents: bool = True,
    ) -> None:
        values = {
            "dzud_prob_scale": dzud_prob_scale, "severity_shift": severity_shift,
            "prep_fixed_cost": prep_fixed_cost, "price_elasticity": price_elasticity,
            "loan_to_value": loan_to_value, "interest_monthly": interest_monthly,
            "subsistence_floor": subsistence_floor, "offfarm_per_adult": offfarm_per_adult,
            "asset_poverty_line": asset_poverty_line,
        }
        params: dict[str, Any] = {
            KEY_PARAMETERS[k]: v for k, v in values.items() if v is not None
        }
        params["population.households"] = int(households)
        table = parameter_table()
        for name, value in list(params.items()):
            if table[name].type == "float":
                params[name] = float(value)
        pol = getattr(policies, "value", policies) or {}
        scenario = make_scenario(region=region, years=years, climate=climate,
                                 replay_winter=replay_winter, params=params, policies=pol)
        self.seed_value = parse_seed(seed)
        self.settings = {
            "seed": self.seed_value, "region": region or regions()[0], "years": int(years),
            "climate": climate, "replay_winter": replay_winter, "households": int(households),
            "params": params, "policies": {k: dict(v) for k, v in pol.items()},
        }
        super().__init__(scenario, seed=self.seed_value, create_agents=create_agents)
        hh = self.households
        self.season_log = SeasonLog()
        #: Tables derived from the model's yearly outputs, rebuilt once a year (see _per_year).
        self.app_cache: dict[str, tuple[int, Any]] = {}
        self._paid_before = np.zeros(hh.n)
        self._paid_hid = np.where(hh.alive, hh.hid, -1)
        self._log_season()

    def step(self) -> None:
        """One season of the model, then a snapshot for the views."""
        super().step()
        self._log_season()

    @property
    def seasons_done(self) -> int:
        return self._t

    # ---------------------------------------------------------- yearly outputs, cached
    # The views redraw every season, but the model's yearly outputs change only after
    # a winter: build each derived table once a year, not once per view and season.

    def _per_year(self, key: str, build):
        years = self._t // 4
        hit = self.app_cache.get(key)
        if hit is None or hit[0] != years:
            hit = self.app_cache[key] = (years, build())
        return hit[1]

    def yearly(self) -> pd.DataFrame:
        """``metrics()`` (one row per completed year), rebuilt once a year. Do not modify."""
        return self._per_year("metrics", self.metrics)

    def panel_years(self) -> list[dict[str, np.ndarray]]:
        """Per recorded year (0 = initial): ``hid`` (-1 = no household in scope in the slot),
        ``herding`` and ``per_person`` (herd SFU per member that year) of every panel slot.

        Slots and their number change from year to year (households founded during the
        run get new slots; a freed slot can hold another household later); within a
        household's life its slot is fixed, so the same slot with the same ``hid`` in
        two years is the same household.
        """
        def build() -> list[dict[str, np.ndarray]]:
            out = []
            for rec in self._panel:
                persons = np.maximum(rec["persons"], 1)
                # the households the outputs describe (herding now or before)
                out.append({"hid": np.where(rec["in_scope"], rec["hid"], -1),
                            "herding": rec["herding"] & rec["in_scope"],
                            "per_person": to_sfu(rec["herd"]) / persons})
            return out
        return self._per_year("panel", build)

    def trap_share(self, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """(years 1.., share of the households in scope each year (herding now or before)
        below ``threshold`` SFU/person).

        As :func:`experiments.analysis.trap_compute.trap_share`: households without a herd (they left
        herding) count as 0; households founded during
        the run count from their first year, dissolved ones no longer count.
        """
        def build() -> tuple[np.ndarray, np.ndarray]:
            recs = self.panel_years()
            if len(recs) < 2:
                return np.zeros(0, dtype=int), np.zeros(0)
            share = [float((np.where(r["herding"], r["per_person"], 0.0)
                            < threshold)[r["hid"] >= 0].mean()) for r in recs[1:]]
            return np.arange(1, len(recs)), np.asarray(share)
        return self._per_year(f"trap {threshold!r}", build)

    def last_winter_soum_mortality(self) -> np.ndarray | None:
        """Share of SFU lost per soum in the last winter (None before the first winter)."""
        def build() -> np.ndarray | None:
            n = self.n_soums
            if len(self.soum_rows) < n:
                return None
            return np.array([r["household_mortality_sfu"] for r in self.soum_rows[-n:]])
        return self._per_year("soum mortality", build)

    def last_season_label(self) -> str:
        """'winter 2021/22 (year 2)' for the season just simulated, 'start (2020)' at t=0."""
        if self._t == 0:
            return f"start of spring {self.spec.start_year}"
        t = self._t - 1
        year = t // 4 + 1
        season = SEASONS[t % 4]
        cal = self.spec.start_year + year - 1
        when = f"{cal}/{str(cal + 1)[-2:]}" if season == "winter" else str(cal)
        return f"{season} {when} (year {year} of {self.years})"

    def _log_season(self) -> None:
        hh = self.households
        log = self.season_log
        hid = np.where(hh.alive, hh.hid, -1)
        received = hh.income_year[:, _I_TRANSFERS] + hh.income_year[:, _I_INSURANCE]
        # income_year is reset at the end of each year (after winter): take differences
        # within a year, and the whole year-to-date value in the first season of a year.
        just_reset = self._t > 0 and self._t % 4 == 0
        if just_reset:
            # the year's last season was recorded in last_year["income"] before the reset
            last = getattr(self, "last_year", None)
            if last is not None:
                inc = last["income"]
                received = inc[:, _I_TRANSFERS] + inc[:, _I_INSURANCE]
            else:  # pragma: no cover - last_year always exists after a winter
                received = np.zeros(hh.n)
            # (the table changes only in spring, so last year's arrays have its length)
            received = np.pad(received, (0, max(hh.n - received.size, 0)))[:hh.n]
        # What the household in each slot had received before this season: the table may
        # have grown (new slots) or a slot may hold another household since (0 for both).
        before = np.zeros(received.size)
        k = min(received.size, self._paid_before.size)
        same = self._paid_hid[:k] == hid[:k]
        before[:k] = np.where(same, self._paid_before[:k], 0.0)
        paid = received - before
        if just_reset:
            self._paid_before = np.zeros(hh.n)
        else:
            self._paid_before = received.copy()
        self._paid_hid = hid
        log.time.append(self._t / 4.0)
        log.label.append(self.last_season_label())
        log.herd_sfu.append(hh.herd_sfu.astype(np.float32))
        log.cash.append(hh.cash.astype(np.float32))
        log.debt.append(hh.debt.astype(np.float32))
        log.paid.append(np.where(hid >= 0, np.maximum(paid, 0.0), 0.0).astype(np.float32))
        log.herding.append(hh.herding & hh.alive)
        log.persons.append(hh.persons.astype(np.int16))
        log.hid.append(hid)
        log.stock.append(hh.herd.sum(axis=0))
        line = self.p["metrics.asset_poverty_line"]
        live = hh.in_scope  # the households the yearly metrics describe
        log.households.append(int(live.sum()))
        log.herding_households.append(int((hh.herding & live).sum()))
        log.asset_poor.append(float((hh.herd_sfu[live] / np.maximum(hh.persons[live], 1)
                                     < line).mean()) if live.any() else 0.0)

    # ---------------------------------------------------------- households by id
    def slot_of(self, hid: int) -> tuple[int, int]:
        """(slot, last season index) of household ``hid`` in the season log; (-1, -1) if
        it never lived in the region. A household keeps its slot for its whole life."""
        log = self.season_log
        for t in range(len(log.hid) - 1, -1, -1):
            where = np.flatnonzero(log.hid[t] == hid)
            if where.size:
                return int(where[0]), t
        return -1, -1

    def household_seasons(self, hid: int) -> dict[str, np.ndarray]:
        """Season log of one household (its seasons only): time, herd_sfu, cash, debt,
        paid, persons, herding; empty arrays if ``hid`` never lived in the region."""
        log = self.season_log
        slot, _ = self.slot_of(hid)
        keys = ("herd_sfu", "cash", "debt", "paid", "persons", "herding")
        if slot < 0:
            return {"time": np.zeros(0), **{k: np.zeros(0) for k in keys}}
        seasons = [t for t, h in enumerate(log.hid) if slot < h.size and h[slot] == hid]
        out = {"time": np.asarray(log.time)[seasons]}
        for k in keys:
            col = getattr(log, k)
            out[k] = np.array([col[t][slot] for t in seasons])
        return out

    def season_matrix(self, key: str) -> np.ndarray:
        """(seasons + 1, slots now) of a season-log column for the households living in
        the region now, NaN in the seasons before the household was founded (its slot
        was empty, or held another household)."""
        log = self.season_log
        cur = log.hid[-1]
        out = np.full((len(log.hid), cur.size), np.nan)
        for t, (h, x) in enumerate(zip(log.hid, getattr(log, key), strict=True)):
            k = h.size
            out[t, :k] = np.where((h == cur[:k]) & (cur[:k] >= 0), x, np.nan)
        return out


def results_root() -> Path:
    """The repository's results/ folder."""
    return Path(__file__).resolve().parents[2] / "results"

"""The order of processes in a season: one table that ``HerdtrapModel.step`` walks.

Each row names a process, the seasons it runs in and the function that runs it
(``function(model)``; the equations are in the process modules and docs/ODD.md §7).
``model.timings`` accumulates the seconds spent in each process.

=========  ===================  ============================================
season     process              module
=========  ===================  ============================================
spring     demography           model/processes/demography.py (yearly)
spring     occupation           model/processes/occupation.py (leave / return, yearly)
spring     births               model/processes/births.py
spring     cashmere             model/processes/income.py
summer     dairy                model/processes/income.py
autumn     winter_draw          model/processes/winter.py (pre-winter signal)
autumn     offtake              model/processes/offtake.py (meat, sales)
autumn     preparation          model/processes/preparation.py
winter     winter_losses        model/processes/winter.py
winter     policies_after_winter  model/policies (insurance claims, ex-post triggers)
every      offfarm_pensions     model/processes/income.py
every      herding_costs        model/processes/income.py
every      policies_season      model/policies (transfers, premiums, payouts)
every      consumption          model/processes/consumption.py (coping, credit)
every      purchases            model/processes/purchases.py
every      exits                model/processes/consumption.py
winter     end_year             model/model.py (metrics, panel, policies.end_year)
=========  ===================  ============================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from model.processes import (
    births,
    consumption,
    demography,
    income,
    occupation,
    offtake,
    preparation,
    purchases,
    winter,
)

if TYPE_CHECKING:
    from model.model import HerdtrapModel

SEASONS = ("spring", "summer", "autumn", "winter")
ALL = (0, 1, 2, 3)


@dataclass(frozen=True)
class Process:
    name: str
    seasons: tuple[int, ...]
    run: Callable[[HerdtrapModel], None]
    #: the process changes herds only through the model's methods ``sell``, ``sell_rows``
    #: and ``give_animals`` (which drop the shared sheep units), if at all: consecutive
    #: such processes share the herds' sheep units (HerdtrapModel.herd_sfu). Policies move
    #: animals only through ``give_animals`` (model.policies).
    shares_herd_sfu: bool = False


def _after_winter(model: HerdtrapModel) -> None:
    model.policies.after_winter(model)


def _policies_season(model: HerdtrapModel) -> None:
    model.policies.season(model, model.season)


def _end_year(model: HerdtrapModel) -> None:
    model.end_year()


SCHEDULE: tuple[Process, ...] = (
    Process("demography", (0,), demography.yearly),
    Process("occupation", (0,), occupation.decide),
    Process("births", (0,), births.spring_births),
    Process("cashmere", (0,), income.cashmere),
    Process("dairy", (1,), income.dairy, shares_herd_sfu=True),
    Process("winter_draw", (2,), winter.draw),
    Process("offtake", (2,), offtake.autumn_offtake),
    Process("preparation", (2,), preparation.prepare, shares_herd_sfu=True),
    Process("winter_losses", (3,), winter.losses),
    Process("policies_after_winter", (3,), _after_winter, shares_herd_sfu=True),
    Process("offfarm_pensions", ALL, income.offfarm_and_pensions, shares_herd_sfu=True),
    Process("herding_costs", ALL, income.herding_costs, shares_herd_sfu=True),
    Process("policies_season", ALL, _policies_season, shares_herd_sfu=True),
    Process("consumption", ALL, consumption.consume_and_cope, shares_herd_sfu=True),
    Process("purchases", ALL, purchases.buy_animals),
    Process("exits", ALL, consumption.exits),
    Process("end_year", (3,), _end_year),
)

#: The processes of each season, in order.
BY_SEASON: tuple[tuple[Process, ...], ...] = tuple(
    tuple(p for p in SCHEDULE if s in p.seasons) for s in range(4)
)


def table() -> list[tuple[str, str]]:
    """(season(s), process name) rows, for docs and tests."""
    return [("every" if p.seasons == ALL else SEASONS[p.seasons[0]], p.name) for p in SCHEDULE]

"""herdtrap's model: Mesa herder households on a vectorised state.

>>> import model
>>> m = model.HerdtrapModel("baseline", seed=1, years=5)
>>> m.step()                      # one season
>>> m.run()                       # to the horizon
>>> m.metrics()                   # one row per year (pandas)
>>> m.agents                      # Mesa AgentSet of Household agents
"""

from model.household import Household, HouseholdState
from model.model import HerdtrapModel
from model.parameters import Param, parameter_table
from model.scenario import Scenario, ScenarioError, load_scenario
from model.schedule import SEASONS
from model.species import SFU, SPECIES

__all__ = [
    "SEASONS",
    "SFU",
    "SPECIES",
    "HerdtrapModel",
    "Household",
    "HouseholdState",
    "Param",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "parameter_table",
]

__version__ = "0.1.0"

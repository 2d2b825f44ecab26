"""herdtrap's browser app (Solara + Mesa's SolaraViz); start it with `herdtrap app`.

Three pages (Solara routes):

* ``/`` Explore - SolaraViz around the model: seed, region, years, climate,
  key parameters and policies; Play / Step / Reset (one step = one season);
  live views of poverty, herd sizes, soums, livestock, one household, fiscal cost.
* ``/side-by-side`` - two policy settings with the same seed, stepped together.
* ``/results`` - browse a finished batch or sensitivity folder.

The app holds no model logic: it builds ``HerdtrapModel`` from the controls
(:mod:`experiments.webapp.appmodel`) and plots what the model reports
(:mod:`experiments.webapp.figures`).
"""

from __future__ import annotations

import solara

from experiments.webapp.compare import ComparePage
from experiments.webapp.explore import ExplorePage
from experiments.webapp.results import ResultsPage

routes = [
    solara.Route(path="/", component=ExplorePage, label="Explore"),
    solara.Route(path="side-by-side", component=ComparePage, label="Side by side"),
    solara.Route(path="results", component=ResultsPage, label="Results"),
]

#: The Explore page alone (for `solara run experiments.webapp:Page` and notebooks).
Page = ExplorePage

__all__ = ["ComparePage", "ExplorePage", "Page", "ResultsPage", "routes"]

"""The app's pages and their Solara routes (re-exported by :mod:`experiments.webapp`).

* ``/`` Explore - SolaraViz around the model: seed, region, years, climate,
  key parameters and policies; Play / Step / Reset (one step = one season);
  live views of poverty, herd sizes, soums, livestock, one household, fiscal cost.
* ``/side-by-side`` - two policy settings with the same seed, stepped together.
* ``/results`` - browse a finished batch or sensitivity folder.
"""

from __future__ import annotations

import solara
import solara.lab

from experiments.webapp.compare import ComparePage
from experiments.webapp.explore import ExplorePage
from experiments.webapp.results import ResultsPage


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's Layout signature
    """Solara's AppLayout with the pages' names as tabs (it would show the paths: "Home",
    "side-by-side", "results")."""
    route, all_routes = solara.use_route()
    router = solara.use_router()
    paths = [solara.resolve_path(r, level=0) for r in all_routes]
    index = all_routes.index(route) if route in all_routes else 0
    with solara.AppLayout() as main:
        with solara.AppBar():  # AppLayout shows Tabs found in its app bar as its navigation
            with solara.lab.Tabs(value=index, on_value=lambda i: router.push(paths[i]),
                                 align="center"):
                for r in all_routes:
                    solara.lab.Tab(r.label or r.path)
        for child in children:
            solara.display(child)
    return main


# The root route's layout is the layout of every page (Solara's rule).
routes = [
    solara.Route(path="/", component=ExplorePage, label="Explore", layout=Layout),
    solara.Route(path="side-by-side", component=ComparePage, label="Side by side"),
    solara.Route(path="results", component=ResultsPage, label="Results"),
]

#: The Explore page alone (for `solara run experiments.webapp:Page` and notebooks).
Page = ExplorePage

__all__ = ["ComparePage", "ExplorePage", "Layout", "Page", "ResultsPage", "routes"]
